"""E-mail over SMTP with aiosmtplib: a plain-text part and an escaped HTML part per message.

SMTP reply codes decide retries (RFC 5321 §4.2.1): ``4yz`` is transient and retried, ``5yz``
is permanent. Connection failures and timeouts are retried. aiosmtplib runs on asyncio, so
this notifier needs the asyncio backend (as the SQL storage does).
"""

import hashlib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime

from resentry_core._errors import InvalidInputError
from resentry_core._notify._http import redact
from resentry_core._notify._notification import Notification
from resentry_core._notify._notifier import DeliveryError, SmtpConfig
from resentry_core._notify._render import clip, compose, render_email_html, render_text

SUBJECT_CHARS = 200


def email_message(notification: Notification, *, sender: str, to: Sequence[str]) -> EmailMessage:
    """The MIME message for ``notification``: text and HTML alternatives, a subject built from
    the headline and the issue title (on one line), and a ``Message-ID`` derived from the
    notification's key, so that a retried delivery carries the same one."""
    message = compose(notification)
    subject = f"{message.headline}: {message.subject}" if message.subject else message.headline
    mail = EmailMessage()
    mail["Subject"] = clip(f"[Resentry] {subject}", SUBJECT_CHARS)
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = format_datetime(notification.created_at)
    digest = hashlib.sha256(notification.key.encode()).hexdigest()[:32]
    domain = sender.rpartition("@")[2].strip("<> ") or "resentry.invalid"
    mail["Message-ID"] = f"<{digest}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    mail.set_content(render_text(message))
    mail.add_alternative(render_email_html(message), subtype="html")
    return mail


class EmailNotifier:
    """Sends notifications by e-mail to a fixed list of addresses (one message, all of them).

    Args:
        config: the SMTP server, its security and login, and the ``From`` address.
        to: the recipients' addresses.
    """

    def __init__(self, config: SmtpConfig, to: Sequence[str]) -> None:
        if not to:
            raise InvalidInputError("an EmailNotifier needs at least one recipient")
        self._config = config
        self._to = tuple(to)
        self._secrets = frozenset({config.password} if config.password else ())

    def __repr__(self) -> str:
        return f"EmailNotifier(host={self._config.host!r}, to={self._to!r})"

    async def send(self, notification: Notification) -> None:
        """Send ``notification`` as one message to every recipient.

        Raises:
            DeliveryError: the server refused it or could not be reached; the message never
                contains the SMTP password.
        """
        import aiosmtplib  # here, not at the top: imported only by a process that mails

        config = self._config
        try:
            mail = email_message(notification, sender=config.from_address, to=self._to)
        except (ValueError, TypeError) as exc:
            raise DeliveryError(f"cannot build the e-mail: {exc}", permanent=True) from None
        login = config.username is not None
        try:
            refused, _ = await aiosmtplib.send(
                mail,
                hostname=config.host,
                port=config.port,
                username=config.username if login else None,
                password=(config.password or "") if login else None,
                use_tls=config.security == "tls",
                start_tls=config.security == "starttls",
                timeout=config.timeout,
                cert_bundle=config.ca_file,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [recipient.code for recipient in exc.recipients]
            raise self._error(
                "every recipient was refused: "
                + "; ".join(f"{r.recipient} ({r.code} {r.message})" for r in exc.recipients),
                permanent=all(code >= 500 for code in codes),
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise self._error(
                f"answered {exc.code}: {exc.message}", permanent=exc.code >= 500
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise self._error(f"failed: {type(exc).__name__}: {exc}") from None
        if refused:
            # Some got it: a retry would send them a duplicate, so record the rest as failed.
            raise self._error(
                f"delivered to {len(self._to) - len(refused)} of {len(self._to)} recipients; "
                + "; ".join(
                    f"{to} refused ({answer.code} {answer.message})"
                    for to, answer in refused.items()
                ),
                permanent=True,
            )

    def _error(self, detail: str, *, permanent: bool = False) -> DeliveryError:
        where = f"SMTP server {self._config.host}:{self._config.port}"
        return DeliveryError(redact(f"{where} {detail}", self._secrets)[:1000], permanent=permanent)
