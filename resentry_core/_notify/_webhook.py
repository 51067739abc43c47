"""Webhooks: a signed JSON POST per notification, in Resentry's own shape or as a Slack or
Discord incoming-webhook message.

Every POST carries ``X-Resentry-Timestamp`` (unix seconds), ``X-Resentry-Signature:
sha256=<hex>`` (HMAC-SHA256 of ``f"{timestamp}."`` followed by the body, keyed by the
channel's secret) and ``Idempotency-Key``. Answers: 2xx delivered; 408, 429 and 5xx retried
(honouring ``Retry-After``); any other status permanent (redirects are not followed).
"""

import hashlib
import hmac
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

import orjson

from resentry_core._notify._http import post, retry_after
from resentry_core._notify._notification import Notification
from resentry_core._notify._notifier import DeliveryError
from resentry_core._notify._render import compose, render_discord, render_slack, render_text

if TYPE_CHECKING:
    import httpx

WebhookFlavor = Literal["resentry", "slack", "discord"]
SIGNATURE_PREFIX: Final = "sha256="
_RETRYABLE: Final = frozenset({408, 429})


def sign_webhook(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}."`` followed by ``body``, keyed by ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify_webhook(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: datetime,
    tolerance: timedelta = timedelta(minutes=5),
) -> bool:
    """Whether a received webhook is authentic and fresh.

    Args:
        secret: the channel's secret.
        timestamp: the ``X-Resentry-Timestamp`` header.
        body: the request body, exactly as received.
        signature: the ``X-Resentry-Signature`` header (``sha256=<hex>``, or the bare hex).
        now: the current time (UTC-aware).
        tolerance: how far the timestamp may be from ``now`` (replays outside it fail).

    Returns:
        ``True`` when the signature matches (compared in constant time) and the timestamp is
        within ``tolerance`` of ``now``.
    """
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now.timestamp() - sent) > tolerance.total_seconds():
        return False
    expected = sign_webhook(secret, sent, body).encode()
    given = signature.removeprefix(SIGNATURE_PREFIX).strip().lower()
    return hmac.compare_digest(expected, given.encode(errors="replace"))


def webhook_payload(notification: Notification, flavor: WebhookFlavor) -> dict[str, Any]:
    """The JSON document a webhook of ``flavor`` receives for ``notification``."""
    message = compose(notification)
    if flavor == "slack":
        return render_slack(message)
    if flavor == "discord":
        return render_discord(
            message, timestamp=notification.created_at, url=notification.issue_url
        )
    return {
        "id": notification.key,
        "reason": notification.reason,
        "headline": message.headline,
        "text": render_text(message),
        "project": notification.project,
        "issue": notification.issue,
        "event": notification.event,
        "monitor": notification.monitor,
        "count": notification.count,
        "issue_url": notification.issue_url,
        "event_url": notification.event_url,
        "created_at": notification.created_at,
    }


class WebhookNotifier:
    """POSTs notifications to one webhook URL, signed with the channel's secret.

    The caller checks the URL with :func:`check_webhook_url` first (the worker does, when a
    channel is created and before each send); redirects are never followed.

    Args:
        url: the target (Slack and Discord webhook URLs are secrets: errors show only the host).
        secret: the channel's signing secret.
        flavor: ``resentry`` (the notification as JSON), ``slack`` or ``discord``.
        client: the HTTP client to send with.
        timeout: seconds allowed for each phase of the request (connect, write, read).
    """

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        flavor: WebhookFlavor = "resentry",
        client: "httpx.AsyncClient",
        timeout: float = 10.0,
    ) -> None:
        self._url = url
        self._secret = secret
        self._flavor: WebhookFlavor = flavor
        self._client = client
        self._timeout = timeout
        parts = urlsplit(url)
        self._origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"

    def __repr__(self) -> str:
        return f"WebhookNotifier(origin={self._origin!r}, flavor={self._flavor!r})"

    async def send(self, notification: Notification) -> None:
        """POST ``notification`` once.

        Raises:
            DeliveryError: the target answered a non-2xx status or could not be reached.
        """
        body = orjson.dumps(webhook_payload(notification, self._flavor))
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Resentry-Timestamp": str(timestamp),
            "X-Resentry-Signature": SIGNATURE_PREFIX + sign_webhook(self._secret, timestamp, body),
            "Idempotency-Key": notification.key,
        }
        what = f"webhook to {self._origin}"
        response = await post(
            self._client,
            self._url,
            what=what,
            secrets=frozenset({self._url, self._secret}),
            request_timeout=self._timeout,
            headers=headers,
            content=body,
        )
        status = response.status_code
        if response.is_success:
            return
        message = f"{what} answered {status} {response.reason_phrase}".rstrip()
        if status in _RETRYABLE or status >= 500:
            raise DeliveryError(message, retry_after=retry_after(response))
        if response.is_redirect:
            message += " (redirects are not followed: configure the final URL)"
        raise DeliveryError(message, permanent=True)
