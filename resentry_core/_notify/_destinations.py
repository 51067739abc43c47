"""The built-in notifier for each delivery to a member or a channel."""

from functools import partial

import anyio

from resentry_core._errors import InvalidInputError
from resentry_core._notify._email import EmailNotifier
from resentry_core._notify._http import LazyClient
from resentry_core._notify._models import DeliveryJob
from resentry_core._notify._notifier import DeliveryError, Notifier, SmtpConfig, TelegramConfig
from resentry_core._notify._telegram import TelegramNotifier
from resentry_core._notify._urlguard import check_webhook_url
from resentry_core._notify._webhook import WebhookNotifier


class Destinations:
    """Builds a delivery's notifier from the settings and the channel or member it names.

    A destination that cannot be reached as configured (Telegram or SMTP not set up, a
    member without the address any more, a webhook URL now refused) is a permanent failure.
    """

    def __init__(
        self,
        *,
        telegram: TelegramConfig | None,
        smtp: SmtpConfig | None,
        client: LazyClient,
        allow_private: bool,
    ) -> None:
        self._telegram = telegram
        self._smtp = smtp
        self._client = client
        self._allow_private = allow_private

    async def resolve(self, job: DeliveryJob) -> Notifier:
        """The notifier for ``job``. Raises DeliveryError (permanent)."""
        channel = job.channel
        if job.delivery.destination.endswith(":telegram"):
            return self._telegram_to(job.user_chat_id)
        if job.delivery.destination.endswith(":email"):
            return self._email_to(job.user_email)
        if channel is None:
            raise DeliveryError("the destination no longer exists", permanent=True)
        if channel.kind == "telegram":
            return self._telegram_to(channel.target)
        if channel.kind == "email":
            return self._email_to(channel.target)
        check = partial(check_webhook_url, channel.target, allow_private=self._allow_private)
        try:
            # Only a check that resolves the host blocks: the others skip the thread hop.
            url = check() if self._allow_private else await anyio.to_thread.run_sync(check)
        except InvalidInputError as exc:
            raise DeliveryError(str(exc), permanent=True) from None
        return WebhookNotifier(
            url,
            channel.secret or "",
            flavor=channel.flavor or "resentry",
            client=self._client.get(),
        )

    def _telegram_to(self, chat_id: str | None) -> Notifier:
        if self._telegram is None:
            raise DeliveryError(
                "Telegram is not configured (RESENTRY_TELEGRAM_BOT_TOKEN)", permanent=True
            )
        if not chat_id:
            raise DeliveryError("the user has no Telegram chat id any more", permanent=True)
        return TelegramNotifier(self._telegram, chat_id, client=self._client.get())

    def _email_to(self, addresses: str | None) -> Notifier:
        if self._smtp is None:
            raise DeliveryError("e-mail is not configured (RESENTRY_SMTP_HOST)", permanent=True)
        to = [address for address in (addresses or "").split(",") if address]
        if not to:
            raise DeliveryError("there is no e-mail address any more", permanent=True)
        return EmailNotifier(self._smtp, to)
