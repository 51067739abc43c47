"""Core configuration: a value passed in. The core reads no environment and no files."""

from dataclasses import dataclass
from datetime import timedelta

from resentry_core._limits import DEFAULT_LIMITS, Limits
from resentry_core._notify._notifier import SmtpConfig, TelegramConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreConfig:
    """Everything :meth:`Resentry.open <resentry_core.Resentry.open>` needs.

    Attributes:
        database_url: a database URL (``sqlite:///…``, ``postgresql+asyncpg://…``)
            or ``memory://`` for a private in-memory SQLite database.
        secret_key: signs access and refresh tokens; at least 32 bytes, never a default.
        access_token_ttl: lifetime of an access token.
        refresh_token_ttl: lifetime of a refresh token.
        limits: size limits applied to ingested requests.
        bcrypt_rounds: bcrypt cost factor for password hashes.
        default_rate_limit_per_minute: events per minute per key when a project sets none;
            ``None`` for no limit.
        login_max_failures: failed logins for one username before it is throttled.
        login_max_address_failures: failed logins from one client address before it is
            throttled.
        login_lockout: how long a throttled username or address must wait.
        max_concurrent_password_checks: bcrypt hashes and checks that may run at once.
        batch_max_envelopes: most envelopes written in one storage transaction (group commit).
        retention_interval: how often the worker prunes projects with ``retention_days``
            and the delivery log (first at once); ``None`` never prunes.
        delivery_retention: how long the delivery log keeps finished (``delivered`` or
            ``failed``) deliveries, counted from their last update; ``None`` keeps them.
        worker: run the background worker (notification delivery, digests, cron-monitor
            deadlines, retention) while the core is open; turn it off in processes that leave
            this to a separate ``resentry worker``.
        public_url: the server's base URL, for links in notifications (none when ``None``).
        telegram: the Telegram Bot API, or ``None``: members' chat ids are not messaged.
        smtp: the SMTP server, or ``None``: members' e-mail addresses are not written to.
        notify_window: at most one message per issue and destination per window; the events
            that arrive meanwhile are sent as one digest when it ends.
        notify_max_attempts: delivery attempts before a delivery is marked failed.
        notify_backoff: wait before the first retry; it doubles with each attempt (to an hour).
        notify_lease: how long a claimed delivery is reserved for the worker that claimed it
            (a crashed worker's deliveries are retried after it).
        worker_interval: how long an idle worker waits before looking for work again.
        webhook_allow_private: allow webhook URLs on loopback, link-local and private
            networks (refused by default, so webhooks cannot reach the server's own network).
    """

    database_url: str
    secret_key: str
    access_token_ttl: timedelta = timedelta(minutes=30)
    refresh_token_ttl: timedelta = timedelta(days=14)
    limits: Limits = DEFAULT_LIMITS
    bcrypt_rounds: int = 12
    default_rate_limit_per_minute: int | None = None
    login_max_failures: int = 5
    login_max_address_failures: int = 20
    login_lockout: timedelta = timedelta(minutes=5)
    max_concurrent_password_checks: int = 2
    batch_max_envelopes: int = 256
    retention_interval: timedelta | None = timedelta(hours=1)
    delivery_retention: timedelta | None = timedelta(days=30)
    worker: bool = True
    public_url: str | None = None
    telegram: TelegramConfig | None = None
    smtp: SmtpConfig | None = None
    notify_window: timedelta = timedelta(minutes=10)
    notify_max_attempts: int = 8
    notify_backoff: timedelta = timedelta(seconds=10)
    notify_lease: timedelta = timedelta(minutes=2)
    worker_interval: timedelta = timedelta(seconds=1)
    webhook_allow_private: bool = False
