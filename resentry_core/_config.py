"""Core configuration: a value passed in. The core reads no environment and no files."""

from dataclasses import dataclass
from datetime import timedelta

from resentry_core._limits import DEFAULT_LIMITS, Limits


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
        retention_interval: how often projects with ``retention_days`` are pruned while the
            core is open (first at once); ``None`` never prunes.
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
