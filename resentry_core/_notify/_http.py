"""HTTP plumbing shared by the Telegram and webhook notifiers: secrets kept out of log records
and exception messages, transport failures and ``Retry-After`` turned into DeliveryError.

httpx logs every request's URL at INFO (logger ``httpx``), and the Bot API puts the bot token
in the URL (Slack and Discord webhook URLs are secrets too). :func:`hide_in_logs` installs a
filter on httpx's and httpcore's loggers that replaces each registered secret in a record's
message before any handler sees it.
"""

import logging
import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Final

from resentry_core._notify._notifier import DeliveryError

if TYPE_CHECKING:
    import httpx

REDACTED: Final = "[redacted]"
_LOGGERS: Final = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


class _RedactSecrets(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER: Final = _RedactSecrets()


def hide_in_logs(secret: str) -> None:
    """Keep ``secret`` out of every record that httpx and httpcore log from now on."""
    if secret and secret not in _FILTER.secrets:
        _FILTER.secrets.add(secret)
        for name in _LOGGERS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)


class LazyClient:
    """The worker's ``httpx.AsyncClient``, created when a delivery first needs one (importing
    httpx and building its SSL context cost ~100 ms) and closed by :meth:`aclose` if it was."""

    def __init__(self, *, timeout: float) -> None:
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None

    @property
    def created(self) -> bool:
        """Whether the client exists (and is open)."""
        return self._client is not None

    def get(self) -> "httpx.AsyncClient":
        """The client, created on the first call."""
        if self._client is None:
            import httpx  # here, not at the top (see above)

            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout), follow_redirects=False
            )
        return self._client

    async def aclose(self) -> None:
        """Close the client if one was created; the next :meth:`get` makes a new one."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def redact(text: str, secrets: set[str] | frozenset[str]) -> str:
    """``text`` with every secret (longest first, so none leaks partly) replaced."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    return text


async def post(
    client: "httpx.AsyncClient",
    url: str,
    *,
    what: str,
    secrets: frozenset[str],
    request_timeout: float | None = None,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> "httpx.Response":
    """POST ``content``; a transport failure becomes a retryable DeliveryError that names
    ``what`` was called, never the URL or a secret (the httpx error is not chained)."""
    import httpx  # here, not at the top: importing httpx costs ~100 ms

    try:
        # httpx logs the URL as it normalized it: hide that form too.
        shown = str(httpx.URL(url))
    except httpx.InvalidURL:
        raise DeliveryError(f"{what} failed: the URL is invalid", permanent=True) from None
    if url in secrets:
        secrets |= {shown}
    for secret in secrets:
        hide_in_logs(secret)
    try:
        return await client.post(
            url,
            content=content,
            headers=headers,
            timeout=httpx.USE_CLIENT_DEFAULT if request_timeout is None else request_timeout,
        )
    except httpx.TimeoutException as exc:
        reason = f"timed out ({type(exc).__name__})"
    except httpx.HTTPError as exc:
        reason = f"failed: {type(exc).__name__}: {redact(str(exc), secrets)}"
    raise DeliveryError(f"{what} {reason}")


def retry_after(response: "httpx.Response", *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), if it has one."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None
