"""Server settings: the only place that reads the environment (``RESENTRY_*`` and ``.env``)."""

import json
import logging
import os
import secrets
from dataclasses import replace
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from resentry_core import DEFAULT_LIMITS, CoreConfig, Limits, SmtpConfig, TelegramConfig

logger = logging.getLogger(__name__)

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
# Tokens are signed with HMAC-SHA256: a key shorter than the hash is weak (RFC 7518 §3.2).
MIN_SECRET_KEY_BYTES = 32

# nginx's default ``large_client_header_buffers 4 8k`` bounds a request line to 8 KiB and the
# headers to about 32 KiB; the same 32 KiB holds any SDK's headers, a browser's cookies included.
DEFAULT_MAX_REQUEST_HEADER_BYTES = 32 * 1024

LogLevel = Literal["critical", "error", "warning", "info", "debug"]


class Settings(BaseSettings):
    """Resentry server settings, from ``RESENTRY_*`` environment variables and ``.env``.

    Every field is documented in ``docs/configuration.md``. Build the core's config with
    :meth:`to_core_config`; that also creates the data directory and, when no secret key is
    configured, generates one into ``<data_dir>/secret_key`` (mode 0600) and reuses it after.
    """

    model_config = SettingsConfigDict(
        env_prefix="RESENTRY_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("./resentry-data")
    database_url: str | None = None
    secret_key: SecretStr | None = None
    public_url: str | None = None
    access_token_ttl_seconds: int = Field(default=30 * 60, gt=0)
    refresh_token_ttl_seconds: int = Field(default=14 * 24 * 3600, gt=0)
    max_request_bytes: int = Field(default=DEFAULT_LIMITS.max_request_bytes, gt=0)
    max_envelope_bytes: int = Field(default=DEFAULT_LIMITS.max_envelope_bytes, gt=0)
    max_event_bytes: int = Field(default=DEFAULT_LIMITS.max_event_bytes, gt=0)
    max_attachments_bytes: int = Field(default=DEFAULT_LIMITS.max_attachments_bytes, gt=0)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rate_limit_per_minute: int | None = Field(default=None, gt=0)
    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    login_max_failures: int = Field(default=5, gt=0)
    login_max_address_failures: int = Field(default=20, gt=0)
    login_lockout_seconds: int = Field(default=300, gt=0)
    max_concurrent_password_checks: int = Field(default=2, gt=0)
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list
    )
    max_request_header_bytes: int = Field(default=DEFAULT_MAX_REQUEST_HEADER_BYTES, ge=1024)
    retention_interval_seconds: int = Field(default=3600, ge=0)
    delivery_retention_days: int = Field(default=30, ge=0)
    log_level: LogLevel = "info"
    worker: bool = True
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_ca_file: str | None = None
    email_from: str | None = None
    notify_window_seconds: int = Field(default=600, ge=0)
    notify_max_attempts: int = Field(default=8, gt=0)
    notify_backoff_seconds: float = Field(default=10.0, gt=0)
    notify_lease_seconds: float = Field(default=120.0, gt=0)
    worker_interval_seconds: float = Field(default=1.0, gt=0)
    webhook_allow_private: bool = False

    @field_validator("public_url")
    @classmethod
    def _strip_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("public_url must start with http:// or https://")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # From the environment: a JSON list, or comma-separated origins.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip().rstrip("/") for origin in text.split(",") if origin.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> object:
        # From the environment: comma-separated addresses or networks (CIDR).
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            return value
        return [ip_network(str(item).strip(), strict=False) for item in items if str(item).strip()]

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_log_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("telegram_api_url")
    @classmethod
    def _check_telegram_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("telegram_api_url must start with http:// or https://")
        return value

    @property
    def telegram(self) -> TelegramConfig | None:
        """The Bot API settings, or None without a bot token."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            return None
        return TelegramConfig(
            bot_token=self.telegram_bot_token.get_secret_value(), api_url=self.telegram_api_url
        )

    @property
    def smtp(self) -> SmtpConfig | None:
        """The SMTP settings, or None without ``smtp_host``.

        Raises:
            ValueError: ``smtp_host`` is set but ``email_from`` is not.
        """
        if not self.smtp_host:
            return None
        if not self.email_from:
            raise ValueError("RESENTRY_SMTP_HOST is set: set RESENTRY_EMAIL_FROM too")
        return SmtpConfig(
            host=self.smtp_host,
            port=self.smtp_port,
            username=self.smtp_username or None,
            password=None if self.smtp_password is None else self.smtp_password.get_secret_value(),
            security=self.smtp_security,
            from_address=self.email_from,
            timeout=self.smtp_timeout_seconds,
            ca_file=self.smtp_ca_file or None,
        )

    @property
    def resolved_database_url(self) -> str:
        """The database URL: the configured one, else SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir.resolve() / 'resentry.db'}"

    @property
    def limits(self) -> Limits:
        """The size limits, from the ``max_*_bytes`` settings."""
        return replace(
            DEFAULT_LIMITS,
            max_request_bytes=self.max_request_bytes,
            max_envelope_bytes=self.max_envelope_bytes,
            max_event_bytes=self.max_event_bytes,
            max_attachments_bytes=self.max_attachments_bytes,
            max_attachment_bytes=min(
                DEFAULT_LIMITS.max_attachment_bytes, self.max_attachments_bytes
            ),
        )

    def resolve_secret_key(self) -> str:
        """The token-signing secret: configured, or read from (or generated into) the data dir.

        Raises:
            ValueError: the configured or stored key is shorter than 32 bytes.
        """
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            _check_secret(value, "RESENTRY_SECRET_KEY")
            return value
        path = self.data_dir / SECRET_KEY_FILE
        if path.exists():
            value = path.read_text(encoding="utf-8").strip()
            _check_secret(value, str(path))
            return value
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        # Write a private temporary file, then link it into place: the link is atomic and
        # fails if another process got there first, in which case its key is the one to use.
        temporary = self.data_dir / f".{SECRET_KEY_FILE}.{secrets.token_hex(8)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(value + "\n")
            os.link(temporary, path)
        except FileExistsError:
            return self.resolve_secret_key()
        finally:
            temporary.unlink(missing_ok=True)
        logger.warning(
            "RESENTRY_SECRET_KEY is not set: generated a new secret key into %s (mode 0600); "
            "it is reused on every start. Keep this file private and backed up.",
            path,
        )
        return value

    def to_core_config(self, *, worker: bool | None = None) -> CoreConfig:
        """The core's configuration; creates the data directory when the database lives there.

        ``worker`` overrides the ``worker`` setting (the CLI's short commands run none).
        """
        if not self.database_url:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        return CoreConfig(
            database_url=self.resolved_database_url,
            secret_key=self.resolve_secret_key(),
            access_token_ttl=timedelta(seconds=self.access_token_ttl_seconds),
            refresh_token_ttl=timedelta(seconds=self.refresh_token_ttl_seconds),
            limits=self.limits,
            bcrypt_rounds=self.bcrypt_rounds,
            default_rate_limit_per_minute=self.rate_limit_per_minute,
            login_max_failures=self.login_max_failures,
            login_max_address_failures=self.login_max_address_failures,
            login_lockout=timedelta(seconds=self.login_lockout_seconds),
            max_concurrent_password_checks=self.max_concurrent_password_checks,
            retention_interval=(
                timedelta(seconds=self.retention_interval_seconds)
                if self.retention_interval_seconds
                else None
            ),
            delivery_retention=(
                timedelta(days=self.delivery_retention_days)
                if self.delivery_retention_days
                else None
            ),
            worker=self.worker if worker is None else worker,
            public_url=self.public_url,
            telegram=self.telegram,
            smtp=self.smtp,
            notify_window=timedelta(seconds=self.notify_window_seconds),
            notify_max_attempts=self.notify_max_attempts,
            notify_backoff=timedelta(seconds=self.notify_backoff_seconds),
            notify_lease=timedelta(seconds=self.notify_lease_seconds),
            worker_interval=timedelta(seconds=self.worker_interval_seconds),
            webhook_allow_private=self.webhook_allow_private,
        )


def _check_secret(value: str, source: str) -> None:
    if len(value.encode()) < MIN_SECRET_KEY_BYTES:
        raise ValueError(
            f"the secret key from {source} is shorter than {MIN_SECRET_KEY_BYTES} bytes"
        )
