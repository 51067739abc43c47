"""WebhookNotifier against a receiver on 127.0.0.1 that verifies signatures; the signature
helpers; the SSRF guard."""

import hashlib
import hmac
import logging
import re
import time
import traceback
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from resentry_core import (
    DeliveryError,
    InvalidInputError,
    WebhookFlavor,
    WebhookNotifier,
    check_webhook_url,
    sign_webhook,
    verify_webhook,
)
from tests.notify.fakes import Reply, WebhookReceiver
from tests.notify.notifications import issue_notification

SECRET = "whsec-0123456789abcdef0123456789abcdef"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """httpx-based notifiers run on both anyio backends."""
    backend: str = request.param
    return backend


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver that knows ``SECRET``."""
    with WebhookReceiver(SECRET) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP client the notifier sends with."""
    async with httpx.AsyncClient() as http:
        yield http


def webhook(
    receiver: WebhookReceiver,
    client: httpx.AsyncClient,
    flavor: WebhookFlavor = "resentry",
    timeout: float = 5.0,
) -> WebhookNotifier:
    return WebhookNotifier(
        f"{receiver.url}/hooks/T0001/B0001/pathsecret",
        SECRET,
        flavor=flavor,
        client=client,
        timeout=timeout,
    )


async def failure(notifier: WebhookNotifier) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        await notifier.send(issue_notification())
    shown = "".join(traceback.format_exception(caught.value))
    assert SECRET not in shown
    assert "pathsecret" not in shown
    return caught.value


async def test_resentry_payload_is_signed(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    """One JSON POST with timestamp, signature and idempotency key; the receiver verifies it;
    the body carries the whole notification and its rendered text."""
    before = int(time.time())
    await webhook(receiver, client).send(issue_notification(title="<b>x</b>", key="outbox-9"))
    (request,) = receiver.requests
    assert receiver.verified == [True]
    assert request.path == "/hooks/T0001/B0001/pathsecret"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == "outbox-9"
    timestamp = int(request.headers["x-resentry-timestamp"])
    assert before <= timestamp <= time.time()
    assert (
        request.headers["x-resentry-signature"]
        == "sha256="
        + hmac.new(
            SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
        ).hexdigest()
    )
    body = request.json()
    assert body["id"] == "outbox-9"
    assert body["reason"] == "new_issue"
    assert body["headline"] == "New issue in shop"
    assert body["text"].startswith("New issue in shop\n\n<b>x</b>\n")
    assert body["project"] == {"id": 1, "name": "shop"}
    assert body["issue"]["title"] == "<b>x</b>"
    assert body["issue"]["first_seen"] == "2026-12-07T22:00:00+00:00"
    assert body["event"]["frames"] == ["shop/views.py:42 in checkout", "shop/cart.py:7 in total"]
    assert body["monitor"] is None
    assert body["count"] == 1
    assert body["issue_url"] == "https://errors.example.com/projects/1/issues/7"


async def test_slack_flavor(receiver: WebhookReceiver, client: httpx.AsyncClient) -> None:
    """A Slack incoming-webhook body (``text`` and ``blocks``), signed all the same."""
    await webhook(receiver, client, "slack").send(issue_notification(title="a <!here> b"))
    body = receiver.requests[0].json()
    assert set(body) == {"text", "blocks"}
    assert body["text"] == "New issue in shop: a &lt;!here&gt; b"
    assert receiver.verified == [True]


async def test_discord_flavor(receiver: WebhookReceiver, client: httpx.AsyncClient) -> None:
    """A Discord webhook body (``content``, ``embeds``) that pings no one."""
    await webhook(receiver, client, "discord").send(issue_notification(title="@everyone hi"))
    body = receiver.requests[0].json()
    assert set(body) == {"content", "embeds", "allowed_mentions"}
    assert body["allowed_mentions"] == {"parse": []}
    assert body["embeds"][0]["title"] == "@\u200beveryone hi"
    assert receiver.verified == [True]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
async def test_client_errors_are_permanent(
    receiver: WebhookReceiver, client: httpx.AsyncClient, status: int
) -> None:
    """A 4xx other than 408 and 429 will not change on retry."""
    receiver.replies.append(Reply(status))
    error = await failure(webhook(receiver, client))
    assert error.permanent
    assert re.fullmatch(rf"webhook to http://127\.0\.0\.1:\d+ answered {status} .+", str(error))


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (408, None, None),
        (429, "30", 30.0),
        (500, None, None),
        (503, "2.5", 2.5),
        (502, "soon", None),
    ],
)
async def test_retryable_statuses(
    receiver: WebhookReceiver,
    client: httpx.AsyncClient,
    status: int,
    retry_after: str | None,
    expected: float | None,
) -> None:
    """408, 429 and 5xx are retried; a ``Retry-After`` in seconds is honoured."""
    receiver.replies.append(
        Reply(status, headers={"Retry-After": retry_after} if retry_after else {})
    )
    error = await failure(webhook(receiver, client))
    assert (error.permanent, error.retry_after) == (False, expected)


async def test_retry_after_as_http_date(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    """``Retry-After`` may be an HTTP date."""
    when = datetime.now(UTC) + timedelta(seconds=120)
    receiver.replies.append(Reply(429, headers={"Retry-After": format_datetime(when, usegmt=True)}))
    error = await failure(webhook(receiver, client))
    assert error.retry_after is not None
    assert 100 < error.retry_after <= 120


async def test_redirects_are_not_followed(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    """A redirect could lead past the SSRF guard: it is a permanent failure, not followed."""
    receiver.replies.append(Reply(302, headers={"Location": "http://169.254.169.254/"}))
    error = await failure(webhook(receiver, client))
    assert error.permanent
    assert "redirects are not followed" in str(error)
    assert len(receiver.requests) == 1


async def test_timeout_is_retryable(receiver: WebhookReceiver, client: httpx.AsyncClient) -> None:
    """A receiver slower than the notifier's timeout is retried later."""
    receiver.replies.append(Reply(200, delay=1.0))
    error = await failure(webhook(receiver, client, timeout=0.2))
    assert not error.permanent
    assert re.fullmatch(r"webhook to http://127\.0\.0\.1:\d+ timed out \(\w+Timeout\)", str(error))


async def test_receiver_down_then_back(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    """Connection refused is retryable; once the receiver is back the same notifier delivers."""
    notifier = webhook(receiver, client)
    receiver.stop()
    error = await failure(notifier)
    assert not error.permanent
    assert "ConnectError" in str(error)
    receiver.start()
    await notifier.send(issue_notification())
    assert receiver.verified == [True]


async def test_secrets_stay_out_of_logs(
    receiver: WebhookReceiver, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Webhook URLs (Slack's and Discord's carry a token) and the secret never reach a log
    record or a repr."""
    caplog.set_level(logging.DEBUG)
    notifier = webhook(receiver, client, "slack")
    await notifier.send(issue_notification())
    messages = [record.getMessage() for record in caplog.records]
    assert any("HTTP Request: POST [redacted]" in message for message in messages)
    assert all("pathsecret" not in message and SECRET not in message for message in messages)
    assert "pathsecret" not in repr(notifier)


def test_sign_and_verify() -> None:
    """The signature is HMAC-SHA256 over ``timestamp.body``; verification checks the secret,
    the body, the timestamp's freshness and the format."""
    now = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
    sent = int(now.timestamp())
    body = b'{"id":"x"}'
    signature = sign_webhook(SECRET, sent, body)
    assert (
        signature
        == hmac.new(SECRET.encode(), f"{sent}.".encode() + body, hashlib.sha256).hexdigest()
    )
    assert verify_webhook(SECRET, str(sent), body, f"sha256={signature}", now=now)
    assert verify_webhook(SECRET, str(sent), body, signature, now=now + timedelta(minutes=5))
    refused = [
        ("other-secret", str(sent), body, signature, now),
        (SECRET, str(sent), body + b" ", signature, now),
        (SECRET, str(sent + 1), body, signature, now),
        (SECRET, str(sent), body, signature, now + timedelta(minutes=5, seconds=1)),
        (SECRET, str(sent), body, signature, now - timedelta(minutes=6)),
        (SECRET, "not-a-number", body, signature, now),
        (SECRET, str(sent), body, "sha256=zz", now),
        (SECRET, str(sent), body, "sha256=é" + signature[1:], now),
        (SECRET, str(sent), body, "", now),
    ]
    for secret, timestamp, payload, given, at in refused:
        assert not verify_webhook(secret, timestamp, payload, given, now=at)


def docs_verify_sample() -> str:
    """The Python sample of ``docs/notifications.md``'s signature section."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("### Verifying the signature") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


async def test_the_documented_verification_accepts_a_real_request(
    receiver: WebhookReceiver, client: httpx.AsyncClient
) -> None:
    """The docs' stdlib-only sample verifies what the notifier sends, and rejects tampering."""
    namespace: dict[str, object] = {}
    exec(compile(docs_verify_sample(), str(DOCS), "exec"), namespace)  # noqa: S102 - our docs
    verify = namespace["verify_resentry_webhook"]
    assert callable(verify)
    await webhook(receiver, client).send(issue_notification())
    request = receiver.requests[0]
    headers = {
        "X-Resentry-Timestamp": request.headers["x-resentry-timestamp"],
        "X-Resentry-Signature": request.headers["x-resentry-signature"],
    }
    assert verify(SECRET, headers, request.body) is True
    assert verify(SECRET, headers, request.body + b"x") is False
    assert verify("wrong", headers, request.body) is False


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("http://127.8.9.10:8080/hook", "is a loopback address"),
        ("http://[::1]/hook", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]/hook", "a loopback address (embedded in ::ffff:7f00:1)"),
        ("http://[2002:7f00:1::]/hook", "a loopback address (embedded in"),
        ("http://[64:ff9b::a00:1]/hook", "a private address (embedded in"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
        ("http://[fe80::1]/hook", "is a link-local address"),
        ("http://10.1.2.3/hook", "10.1.2.3 is a private address"),
        ("http://172.16.0.1/hook", "is a private address"),
        ("https://192.168.1.20/hook", "192.168.1.20 is a private address"),
        ("http://[fd00::1]/hook", "is a private address"),
        ("http://100.64.0.1/hook", "100.64.0.1 is a reserved or shared address"),
        ("http://0.0.0.0/hook", "0.0.0.0 is an unspecified address"),
        ("http://224.0.0.1/hook", "is a multicast address"),
        ("http://localhost:9000/hook", "localhost (127.0.0.1) is a loopback address"),
        ("http://2130706433/hook", "2130706433 (127.0.0.1) is a loopback address"),
    ],
)
def test_ssrf_guard_refuses_internal_addresses(url: str, reason: str) -> None:
    """Loopback, link-local, private, shared, unspecified and multicast targets are refused,
    including host names and IPv6 forms that resolve or map to them."""
    with pytest.raises(InvalidInputError, match="webhook host") as caught:
        check_webhook_url(url, allow_private=False)
    assert reason in str(caught.value)
    assert "public addresses" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hook", "must start with http:// or https://"),
        ("file:///etc/passwd", "must start with http:// or https://"),
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("http:///no-host", "has no host"),
        ("http://example.com:99999/", "malformed"),
        ("http://no-such-host.invalid/", "cannot be resolved"),
    ],
)
def test_ssrf_guard_refuses_bad_urls(url: str, message: str) -> None:
    """Only http(s) URLs with a resolvable host pass; the error says what is wrong."""
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        check_webhook_url(url, allow_private=False)


def test_ssrf_guard_accepts_public_addresses_and_allow_private() -> None:
    """Public addresses pass; ``allow_private`` lets internal ones through (never other
    schemes)."""
    for url in ("https://93.184.215.14/hook", "http://[2606:4700::1111]/x", "http://8.8.8.8:8080/"):
        assert check_webhook_url(url, allow_private=False) == url
    for url in ("http://127.0.0.1:8080/hook", "http://localhost/x", "http://10.0.0.1/"):
        assert check_webhook_url(url, allow_private=True) == url
    with pytest.raises(InvalidInputError):
        check_webhook_url("gopher://127.0.0.1/", allow_private=True)
