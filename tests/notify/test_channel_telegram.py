"""TelegramNotifier against a fake Bot API over real HTTP on 127.0.0.1."""

import logging
import re
import traceback
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from resentry_core import DeliveryError, TelegramConfig, TelegramNotifier
from tests.notify.fakes import FakeTelegram, Reply, telegram_text
from tests.notify.notifications import issue_notification

TOKEN = "123456789:AAE-test_token-Secret0123456789abcdef"
CHAT = "-1001234567890"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """httpx-based notifiers run on both anyio backends."""
    backend: str = request.param
    return backend


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    """A fake Bot API that knows the bot ``TOKEN`` and the chat ``CHAT``."""
    with FakeTelegram(TOKEN, {CHAT}) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP client the notifier sends with."""
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield http


def notifier(
    telegram: FakeTelegram, client: httpx.AsyncClient, chat: str = CHAT, token: str = TOKEN
) -> TelegramNotifier:
    return TelegramNotifier(
        TelegramConfig(bot_token=token, api_url=telegram.url), chat, client=client
    )


async def failure(notifier: TelegramNotifier) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        await notifier.send(issue_notification())
    assert TOKEN not in "".join(traceback.format_exception(caught.value))
    return caught.value


async def test_sends_one_html_message_with_previews_off(
    telegram: FakeTelegram, client: httpx.AsyncClient
) -> None:
    """One sendMessage call: the chat, HTML parse mode, link previews disabled, every value
    escaped (a ``<script>`` title arrives as text)."""
    await notifier(telegram, client).send(issue_notification(title="<script>x()</script>"))
    (request,) = telegram.requests
    assert request.path == f"/bot{TOKEN}/sendMessage"
    assert request.headers["content-type"] == "application/json"
    (message,) = telegram.messages
    assert message["chat_id"] == CHAT
    assert message["parse_mode"] == "HTML"
    assert message["link_preview_options"] == {"is_disabled": True}
    assert "&lt;script&gt;x()&lt;/script&gt;" in message["text"]
    assert telegram_text(message["text"]).splitlines()[:2] == [
        "New issue in shop",
        "<script>x()</script>",
    ]


async def test_a_huge_message_is_accepted(
    telegram: FakeTelegram, client: httpx.AsyncClient
) -> None:
    """Values escaping to far more than 4,096 characters still make one accepted message."""
    huge = issue_notification(title="<" * 5000, frames=("&" * 300,) * 5, culprit=">" * 300)
    await notifier(telegram, client).send(huge)
    assert len(telegram.messages) == 1


async def test_429_carries_retry_after(telegram: FakeTelegram, client: httpx.AsyncClient) -> None:
    """``429`` with ``parameters.retry_after`` is retryable after that many seconds."""
    telegram.replies.append(
        FakeTelegram.error(429, "Too Many Requests: retry after 7", retry_after=7)
    )
    error = await failure(notifier(telegram, client))
    assert (error.permanent, error.retry_after) == (False, 7.0)
    assert "429" in str(error)
    await notifier(telegram, client).send(issue_notification())  # then it goes through
    assert len(telegram.messages) == 1


async def test_429_without_parameters_falls_back_to_retry_after_header(
    telegram: FakeTelegram, client: httpx.AsyncClient
) -> None:
    """A proxy's bare 429 with a ``Retry-After`` header is honoured too."""
    telegram.replies.append(Reply(429, b"slow down", {"Retry-After": "12"}))
    error = await failure(notifier(telegram, client))
    assert (error.permanent, error.retry_after) == (False, 12.0)


async def test_403_bot_blocked_is_permanent(
    telegram: FakeTelegram, client: httpx.AsyncClient
) -> None:
    """A user who blocked the bot will not be reached by retrying."""
    telegram.replies.append(FakeTelegram.error(403, "Forbidden: bot was blocked by the user"))
    error = await failure(notifier(telegram, client))
    assert error.permanent
    assert str(error) == "Telegram answered 403: Forbidden: bot was blocked by the user"


async def test_400_chat_not_found_is_permanent(
    telegram: FakeTelegram, client: httpx.AsyncClient
) -> None:
    """An unknown chat id is permanent (the fake answers as Telegram does)."""
    error = await failure(notifier(telegram, client, chat="42"))
    assert error.permanent
    assert str(error) == "Telegram answered 400: Bad Request: chat not found"


async def test_group_upgraded_to_supergroup_names_the_new_id(
    telegram: FakeTelegram, client: httpx.AsyncClient
) -> None:
    """Telegram's ``migrate_to_chat_id`` is shown, so an admin can fix the chat id."""
    telegram.replies.append(
        FakeTelegram.error(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=-1009,
        )
    )
    error = await failure(notifier(telegram, client))
    assert error.permanent
    assert "use chat id -1009" in str(error)


@pytest.mark.parametrize(
    "reply",
    [
        FakeTelegram.error(500, "Internal Server Error"),
        FakeTelegram.error(502, "Bad Gateway"),
        Reply(502, b"<html>bad gateway</html>", {"Content-Type": "text/html"}),
        Reply.json(200, {"ok": False, "description": "odd"}),
    ],
)
async def test_server_errors_are_retryable(
    telegram: FakeTelegram, client: httpx.AsyncClient, reply: Reply
) -> None:
    """5xx (with or without a JSON body) and unexpected answers are retried with backoff."""
    telegram.replies.append(reply)
    error = await failure(notifier(telegram, client))
    assert (error.permanent, error.retry_after) == (False, None)
    assert str(error).startswith(f"Telegram answered {reply.status}: ")


async def test_a_rejected_token_is_retryable_and_not_shown(
    telegram: FakeTelegram, client: httpx.AsyncClient
) -> None:
    """A wrong token (401) is a setting to fix, so it is retried; the message hides it."""
    wrong = "987654321:AAwrong-token-0123456789"
    with pytest.raises(DeliveryError) as caught:
        await notifier(telegram, client, token=wrong).send(issue_notification())
    assert not caught.value.permanent
    assert str(caught.value) == "Telegram answered 401: the bot token was rejected"
    assert wrong not in "".join(traceback.format_exception(caught.value))


async def test_unreachable_api_is_retryable(
    telegram: FakeTelegram, client: httpx.AsyncClient
) -> None:
    """Connection refused: retryable, and the error names no URL (it holds the token)."""
    telegram.stop()
    error = await failure(notifier(telegram, client))
    assert not error.permanent
    assert str(error).startswith("Telegram Bot API request failed: ConnectError")


async def test_timeout_is_retryable(telegram: FakeTelegram) -> None:
    """A Bot API that does not answer in the client's timeout is retried."""
    telegram.replies.append(Reply(200, delay=1.0))
    async with httpx.AsyncClient(timeout=0.2) as slow:
        error = await failure(notifier(telegram, slow))
    assert not error.permanent
    assert re.fullmatch(r"Telegram Bot API request timed out \(\w+Timeout\)", str(error))


async def test_token_never_reaches_a_log_record_or_repr(
    telegram: FakeTelegram, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """httpx logs each request's URL, which holds the token: the record says ``[redacted]``
    instead, whether the call succeeds or fails; reprs hide the token too."""
    caplog.set_level(logging.DEBUG)
    sender = notifier(telegram, client)
    await sender.send(issue_notification())
    telegram.replies.append(FakeTelegram.error(403, f"Forbidden: {TOKEN}"))
    error = await failure(sender)
    assert TOKEN not in str(error)
    telegram.stop()
    await failure(sender)
    messages = [record.getMessage() for record in caplog.records]
    assert any("/bot[redacted]/sendMessage" in message for message in messages)
    assert all(TOKEN not in message for message in messages)
    assert TOKEN not in repr(sender)
    assert TOKEN not in repr(TelegramConfig(bot_token=TOKEN))
