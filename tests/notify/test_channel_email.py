"""EmailNotifier against a real SMTP server (aiosmtpd) on 127.0.0.1: plain, STARTTLS with a
login, implicit TLS; SMTP replies mapped to retryable or permanent failures."""

import base64
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from resentry_core import DeliveryError, EmailNotifier, InvalidInputError, SmtpConfig
from tests.notify.fakes import LOOPBACK, SmtpServer, message_parts, write_ca_bundle
from tests.notify.notifications import issue_notification

USER, PASSWORD = "mailer", "Sup3r-s3cret-SMTP-pass"
FROM = "Resentry <resentry@example.com>"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A throwaway certificate authority for the servers' TLS certificates."""
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    """The CA's certificate as a PEM bundle."""
    return write_ca_bundle(ca, tmp_path)


@pytest.fixture
def plain() -> Iterator[SmtpServer]:
    """A relay without TLS or login; refuses ``nobody@``, greylists ``later@example.com``."""
    refuse, defer = frozenset({"nobody@example.com"}), frozenset({"later@example.com"})
    with SmtpServer(refuse=refuse, defer=defer) as server:
        yield server


def config(server: SmtpServer, **changes: object) -> SmtpConfig:
    fields: dict[str, object] = {
        "host": LOOPBACK,
        "port": server.port,
        "security": "none",
        "from_address": FROM,
        "timeout": 5.0,
    }
    return SmtpConfig(**{**fields, **changes})  # type: ignore[arg-type]


async def failure(notifier: EmailNotifier) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        await notifier.send(issue_notification())
    shown = "".join(traceback.format_exception(caught.value))
    assert PASSWORD not in shown
    return caught.value


async def test_sends_text_and_escaped_html(plain: SmtpServer) -> None:
    """One message to every recipient, with a text part and an HTML part where a ``<script>``
    title is text; the subject is one line; retries carry the same Message-ID."""
    notifier = EmailNotifier(config(plain), ["dev@example.com", "ops@example.com"])
    notification = issue_notification(title="<script>alert(1)</script>\nsecond line")
    await notifier.send(notification)
    await notifier.send(notification)
    assert plain.recipients() == [["dev@example.com", "ops@example.com"]] * 2
    first, again = plain.messages()
    assert first["From"] == FROM
    assert first["To"] == "dev@example.com, ops@example.com"
    assert first["Subject"] == (
        "[Resentry] New issue in shop: <script>alert(1)</script> second line"
    )
    assert first["Auto-Submitted"] == "auto-generated"
    assert first["Message-ID"] == again["Message-ID"]
    assert first["Message-ID"].endswith("@example.com>")
    body = message_parts(first)
    assert set(body) == {"text/plain", "text/html"}
    assert "<script>alert(1)</script> second line" in body["text/plain"]
    assert "Release: shop@1.2.3" in body["text/plain"]
    assert "<script>" not in body["text/html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; second line" in body["text/html"]
    assert '<a href="https://errors.example.com/projects/1/issues/7">Issue</a>' in body["text/html"]


async def test_starttls_with_login(ca: trustme.CA, ca_file: str) -> None:
    """STARTTLS (required by the server), a verified certificate and AUTH: delivered."""
    with SmtpServer(security="starttls", login=(USER, PASSWORD), ca=ca) as server:
        settings = config(
            server, security="starttls", username=USER, password=PASSWORD, ca_file=ca_file
        )
        await EmailNotifier(settings, ["dev@example.com"]).send(issue_notification())
        assert server.recipients() == [["dev@example.com"]]


async def test_wrong_password_is_permanent_and_hidden(
    ca: trustme.CA, ca_file: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused login (535) is not retried; neither the password nor its base64 form (what
    AUTH PLAIN/LOGIN send) reaches the error or a log record; repr hides it too."""
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-" + PASSWORD
    with SmtpServer(security="starttls", login=(USER, PASSWORD), ca=ca) as server:
        settings = config(
            server, security="starttls", username=USER, password=wrong, ca_file=ca_file
        )
        notifier = EmailNotifier(settings, ["dev@example.com"])
        with pytest.raises(DeliveryError) as caught:
            await notifier.send(issue_notification())
        assert server.recipients() == []
    error = caught.value
    assert error.permanent
    assert str(error).startswith(f"SMTP server {LOOPBACK}:{server.port} answered 535")
    encoded = base64.b64encode(f"\0{USER}\0{wrong}".encode()).decode()
    for shown in (
        "".join(traceback.format_exception(error)),
        *(record.getMessage() for record in caplog.records),
        repr(notifier),
        repr(settings),
    ):
        assert wrong not in shown
        assert encoded not in shown


async def test_implicit_tls(ca: trustme.CA, ca_file: str) -> None:
    """``tls`` speaks TLS from the first byte (port 465 style)."""
    with SmtpServer(security="tls", ca=ca) as server:
        settings = config(server, security="tls", ca_file=ca_file)
        await EmailNotifier(settings, ["dev@example.com"]).send(issue_notification())
        assert server.recipients() == [["dev@example.com"]]


async def test_untrusted_certificate_is_refused(ca: trustme.CA) -> None:
    """Without the CA, the server's certificate does not verify: nothing is sent."""
    with SmtpServer(security="tls", ca=ca) as server:
        error = await failure(EmailNotifier(config(server, security="tls"), ["dev@example.com"]))
        assert server.recipients() == []
    assert not error.permanent
    assert "CERTIFICATE_VERIFY_FAILED" in str(error)


async def test_starttls_required_but_not_offered(plain: SmtpServer) -> None:
    """``starttls`` never falls back to plain text."""
    error = await failure(EmailNotifier(config(plain, security="starttls"), ["dev@example.com"]))
    assert "STARTTLS" in str(error)
    assert plain.recipients() == []


async def test_all_recipients_refused_is_permanent(plain: SmtpServer) -> None:
    """550 for every recipient: permanent, naming the address and the reply."""
    error = await failure(EmailNotifier(config(plain), ["nobody@example.com"]))
    assert error.permanent
    assert "nobody@example.com (550 No such user here)" in str(error)


async def test_greylisting_is_retryable(plain: SmtpServer) -> None:
    """A 4xx reply is transient: retried."""
    error = await failure(EmailNotifier(config(plain), ["later@example.com"]))
    assert not error.permanent
    assert "later@example.com (451 Greylisted, try again later)" in str(error)


async def test_some_recipients_refused(plain: SmtpServer) -> None:
    """The accepted recipients got it, so no retry (it would duplicate); the failure says who
    was refused."""
    notifier = EmailNotifier(config(plain), ["dev@example.com", "nobody@example.com"])
    error = await failure(notifier)
    assert error.permanent
    assert "delivered to 1 of 2 recipients" in str(error)
    assert "nobody@example.com refused (550 No such user here)" in str(error)
    assert plain.recipients() == [["dev@example.com"]]


async def test_server_down_is_retryable(plain: SmtpServer) -> None:
    """Connection refused: retried later."""
    settings = config(plain)
    plain.__exit__(None, None, None)
    error = await failure(EmailNotifier(settings, ["dev@example.com"]))
    assert not error.permanent
    assert str(error).startswith(f"SMTP server {LOOPBACK}:{settings.port} failed: ")


def test_needs_a_recipient(plain: SmtpServer) -> None:
    """An empty recipient list is a caller error."""
    with pytest.raises(InvalidInputError, match="at least one recipient"):
        EmailNotifier(config(plain), [])
