"""The :class:`Notifier` protocol, its :class:`DeliveryError`, and the channel configurations."""

from dataclasses import dataclass, field
from typing import Literal, Protocol

from resentry_core._errors import ResentryError
from resentry_core._notify._notification import Notification


class Notifier(Protocol):
    """Delivers notifications to one destination (a chat, a mailbox, a URL, a function).

    Adding a channel (Slack's API, Matrix, a pager) is one class with this method. The worker
    retries on :class:`DeliveryError` as it says, and treats any other exception as retryable.
    """

    async def send(self, notification: Notification) -> None:
        """Deliver ``notification`` once.

        Raises:
            DeliveryError: the delivery failed; ``permanent`` and ``retry_after`` say whether
                and when to try again.
        """
        ...


class DeliveryError(ResentryError):
    """A notification could not be delivered.

    The message never contains a secret (bot token, SMTP password, webhook secret): it is
    stored in the delivery log and shown to admins.

    Attributes:
        permanent: retrying cannot help (bot blocked, chat not found, address refused).
        retry_after: seconds the destination asked to wait before the next attempt, or
            ``None`` to use the worker's own backoff.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True, kw_only=True)
class TelegramConfig:
    """How to reach the Telegram Bot API.

    Attributes:
        bot_token: the token @BotFather gave (secret; hidden from ``repr``).
        api_url: the Bot API's base URL (a local fake in tests, or a self-hosted Bot API server).
    """

    bot_token: str = field(repr=False)
    api_url: str = "https://api.telegram.org"


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpConfig:
    """How to reach the SMTP server that sends e-mail.

    Attributes:
        host: server name or address.
        port: 587 for STARTTLS (the default), 465 for implicit TLS, 25 for none.
        username: login name, or ``None`` to send without logging in.
        password: login password (secret; hidden from ``repr``).
        security: ``starttls`` (upgrade after connecting; required), ``tls`` (implicit TLS) or
            ``none`` (plain text; only for a relay on a trusted network).
        from_address: the ``From`` address.
        timeout: seconds allowed for each SMTP operation.
        ca_file: a PEM bundle of the certificate authorities to trust for this server
            (``None``: the system's), for a relay with a private CA.
    """

    host: str
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security: Literal["starttls", "tls", "none"] = "starttls"
    from_address: str
    timeout: float = 10.0
    ca_file: str | None = None
