"""Telegram through the Bot API's ``sendMessage`` (https://core.telegram.org/bots/api#sendmessage).

The message uses the HTML parse mode with every value escaped, and is cut to the 4,096-character
limit without splitting a tag or an entity. Answers map to :class:`DeliveryError` as the Bot API
documents them (https://core.telegram.org/bots/api#making-requests): ``429`` carries
``parameters.retry_after``; ``403`` (bot blocked, kicked) and ``400`` (chat not found, group
upgraded to a supergroup, ...) are permanent; ``5xx`` and transport failures are retried.
"""

from typing import TYPE_CHECKING, Final

import orjson

from resentry_core._notify._http import post, redact, retry_after
from resentry_core._notify._notification import Notification
from resentry_core._notify._notifier import DeliveryError, TelegramConfig
from resentry_core._notify._render import compose, render_telegram_html, truncate_html

if TYPE_CHECKING:
    import httpx

MAX_MESSAGE_CHARS: Final = 4096
"""sendMessage: "Text of the message to be sent, 1-4096 characters after entities parsing"."""


def telegram_message(notification: Notification) -> str:
    """The HTML ``text`` of the ``sendMessage`` call for ``notification``."""
    return truncate_html(render_telegram_html(compose(notification)), MAX_MESSAGE_CHARS)


class TelegramNotifier:
    """Sends notifications to one Telegram chat (a user, a group or a channel).

    Args:
        config: the bot's token and the Bot API's URL.
        chat_id: the chat's id (``getUpdates`` shows it) or ``@channelusername``.
        client: the HTTP client to send with (its timeouts apply).
    """

    def __init__(
        self, config: TelegramConfig, chat_id: str, *, client: "httpx.AsyncClient"
    ) -> None:
        self._url = f"{config.api_url.rstrip('/')}/bot{config.bot_token}/sendMessage"
        self._secrets = frozenset({config.bot_token})
        self._chat_id = chat_id
        self._client = client

    def __repr__(self) -> str:
        return f"TelegramNotifier(chat_id={self._chat_id!r})"

    async def send(self, notification: Notification) -> None:
        """Send ``notification`` as one message.

        Raises:
            DeliveryError: the Bot API refused it or could not be reached; the message never
                contains the bot token.
        """
        body = {
            "chat_id": self._chat_id,
            "text": telegram_message(notification),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        response = await post(
            self._client,
            self._url,
            what="Telegram Bot API request",
            secrets=self._secrets,
            headers={"Content-Type": "application/json"},
            content=orjson.dumps(body),
        )
        _check(response, self._secrets)


def _check(response: "httpx.Response", secrets: frozenset[str]) -> None:
    """Return when the Bot API accepted the message, else raise the matching DeliveryError."""
    try:
        answer = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        answer = {}
    if response.is_success and answer.get("ok") is True:
        return
    status = response.status_code
    description = redact(str(answer.get("description") or response.reason_phrase), secrets)
    parameters = answer.get("parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    message = f"Telegram answered {status}: {description[:300]}"
    if status == 429:
        wait = parameters.get("retry_after")
        seconds = float(wait) if isinstance(wait, int | float) and wait >= 0 else None
        if seconds is None:
            seconds = retry_after(response)
        raise DeliveryError(message, retry_after=seconds)
    if status == 400 and isinstance(parameters.get("migrate_to_chat_id"), int):
        new_id = parameters["migrate_to_chat_id"]
        raise DeliveryError(
            f"{message} (the group is now a supergroup: use chat id {new_id})", permanent=True
        )
    # 401/404: a wrong or revoked token (fixed in the settings, then retried); 5xx: Telegram.
    permanent = status in (400, 403)
    if status in (401, 404):
        message = f"Telegram answered {status}: the bot token was rejected"
    raise DeliveryError(message, permanent=permanent)
