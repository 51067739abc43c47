"""Server settings: environment and ``.env``, the generated secret key, the core config."""

import logging
import os
import stat
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import pydantic
import pytest

from resentry_server._settings import SECRET_KEY_FILE, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No RESENTRY_* variable from the developer's shell; run in an empty directory."""
    for name in list(os.environ):
        if name.startswith("RESENTRY_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_secret_key_is_generated_private_and_reused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without RESENTRY_SECRET_KEY a key is generated into the data dir (0600) and reused."""
    data_dir = tmp_path / "data"
    with caplog.at_level(logging.WARNING):
        first = Settings(data_dir=data_dir).to_core_config().secret_key
    path = data_dir / SECRET_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == first
    assert len(first) >= 48
    assert "generated a new secret key" in caplog.text
    assert first not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        second = Settings(data_dir=data_dir).to_core_config().secret_key
    assert second == first
    assert "generated" not in caplog.text
    assert [p.name for p in data_dir.iterdir() if "secret" in p.name] == [SECRET_KEY_FILE]


def test_no_secret_key_is_built_in(tmp_path: Path) -> None:
    """Two fresh data directories get two different keys: there is no default in code."""
    assert Settings().secret_key is None
    one = Settings(data_dir=tmp_path / "a").resolve_secret_key()
    two = Settings(data_dir=tmp_path / "b").resolve_secret_key()
    assert one != two


def _resolve(data_dir: str) -> str:
    return Settings(data_dir=Path(data_dir)).resolve_secret_key()


def test_processes_starting_together_share_one_generated_key(tmp_path: Path) -> None:
    """Several processes generating at once end up with the same key (atomic link)."""
    data_dir = str(tmp_path / "data")
    with ProcessPoolExecutor(max_workers=4) as pool:
        keys = set(pool.map(_resolve, [data_dir] * 16))
    assert len(keys) == 1
    assert (Path(data_dir) / SECRET_KEY_FILE).read_text().strip() in keys


def test_configured_secret_key_is_used_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RESENTRY_SECRET_KEY wins; no key file is created."""
    monkeypatch.setenv("RESENTRY_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("RESENTRY_DATABASE_URL", "memory://")
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.to_core_config().secret_key == "k" * 40
    assert not (tmp_path / "data").exists()
    assert "k" * 40 not in repr(settings)


@pytest.mark.parametrize("where", ["environment", "file"])
def test_short_secret_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A key shorter than 32 bytes, configured or stored, is refused with a clear error."""
    if where == "environment":
        monkeypatch.setenv("RESENTRY_SECRET_KEY", "too-short")
    else:
        (tmp_path / SECRET_KEY_FILE).write_text("too-short\n")
    with pytest.raises(ValueError, match="shorter than 32 bytes"):
        Settings(data_dir=tmp_path).resolve_secret_key()


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``.env`` in the working directory sets values; the environment overrides it."""
    (tmp_path / ".env").write_text(
        "RESENTRY_PUBLIC_URL=https://errors.example.com/sentry/\n"
        "RESENTRY_DATA_DIR=/srv/resentry\n"
        'RESENTRY_CORS_ORIGINS=["https://admin.example.com"]\n'
        "RESENTRY_LOG_LEVEL=DEBUG\n"
        "UNRELATED=1\n"
    )
    monkeypatch.setenv("RESENTRY_DATA_DIR", str(tmp_path / "from-env"))
    settings = Settings()
    assert settings.public_url == "https://errors.example.com/sentry"
    assert settings.data_dir == tmp_path / "from-env"
    assert settings.cors_origins == ["https://admin.example.com"]
    assert settings.log_level == "debug"


@pytest.mark.parametrize(
    "value",
    [
        '["https://admin.example.com", "http://localhost:5173"]',
        "https://admin.example.com, http://localhost:5173/",
    ],
)
def test_cors_origins_as_json_or_comma_separated(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """RESENTRY_CORS_ORIGINS takes a JSON list or comma-separated origins."""
    monkeypatch.setenv("RESENTRY_CORS_ORIGINS", value)
    assert Settings().cors_origins == ["https://admin.example.com", "http://localhost:5173"]


def test_database_defaults_to_sqlite_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No RESENTRY_DATABASE_URL: SQLite at <data_dir>/resentry.db; otherwise the given URL."""
    settings = Settings(data_dir=tmp_path / "data")
    expected = f"sqlite:///{(tmp_path / 'data').resolve() / 'resentry.db'}"
    assert settings.to_core_config().database_url == expected
    assert (tmp_path / "data").is_dir()
    monkeypatch.setenv("RESENTRY_DATABASE_URL", "postgresql+asyncpg://u:p@db/resentry")
    assert Settings().resolved_database_url == "postgresql+asyncpg://u:p@db/resentry"


def test_core_config_carries_every_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lifetimes, limits, rate limit, bcrypt rounds, login throttling and retention reach
    CoreConfig."""
    values = {
        "ACCESS_TOKEN_TTL_SECONDS": "60",
        "REFRESH_TOKEN_TTL_SECONDS": "3600",
        "MAX_REQUEST_BYTES": "1000",
        "MAX_ENVELOPE_BYTES": "2000",
        "MAX_EVENT_BYTES": "300",
        "MAX_ATTACHMENTS_BYTES": "1500",
        "RATE_LIMIT_PER_MINUTE": "120",
        "BCRYPT_ROUNDS": "5",
        "LOGIN_MAX_FAILURES": "3",
        "LOGIN_LOCKOUT_SECONDS": "30",
        "RETENTION_INTERVAL_SECONDS": "600",
        "SECRET_KEY": "s" * 32,
    }
    for name, value in values.items():
        monkeypatch.setenv(f"RESENTRY_{name}", value)
    config = Settings(data_dir=tmp_path).to_core_config()
    assert config.access_token_ttl == timedelta(seconds=60)
    assert config.refresh_token_ttl == timedelta(hours=1)
    assert config.limits.max_request_bytes == 1000
    assert config.limits.max_envelope_bytes == 2000
    assert config.limits.max_event_bytes == 300
    assert config.limits.max_attachments_bytes == 1500
    assert config.limits.max_attachment_bytes == 1500
    assert config.default_rate_limit_per_minute == 120
    assert config.bcrypt_rounds == 5
    assert config.login_max_failures == 3
    assert config.login_lockout == timedelta(seconds=30)
    assert config.retention_interval == timedelta(minutes=10)


def test_retention_interval_zero_turns_retention_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RESENTRY_RETENTION_INTERVAL_SECONDS=0: the core never prunes; the default is hourly."""
    monkeypatch.setenv("RESENTRY_SECRET_KEY", "s" * 32)
    assert Settings(data_dir=tmp_path).to_core_config().retention_interval == timedelta(hours=1)
    monkeypatch.setenv("RESENTRY_RETENTION_INTERVAL_SECONDS", "0")
    assert Settings(data_dir=tmp_path).to_core_config().retention_interval is None


def test_delivery_retention_in_days_and_zero_keeps_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RESENTRY_DELIVERY_RETENTION_DAYS: 30 by default; 0 keeps finished deliveries; a
    negative value is refused."""
    monkeypatch.setenv("RESENTRY_SECRET_KEY", "s" * 32)
    assert Settings(data_dir=tmp_path).to_core_config().delivery_retention == timedelta(days=30)
    monkeypatch.setenv("RESENTRY_DELIVERY_RETENTION_DAYS", "7")
    assert Settings(data_dir=tmp_path).to_core_config().delivery_retention == timedelta(days=7)
    monkeypatch.setenv("RESENTRY_DELIVERY_RETENTION_DAYS", "0")
    assert Settings(data_dir=tmp_path).to_core_config().delivery_retention is None
    monkeypatch.setenv("RESENTRY_DELIVERY_RETENTION_DAYS", "-1")
    with pytest.raises(pydantic.ValidationError, match="delivery_retention_days"):
        Settings(data_dir=tmp_path)


def test_notification_settings_reach_the_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram, SMTP, the window, retries, the worker switch and allow-private reach
    CoreConfig; the token and password stay out of its repr."""
    values = {
        "SECRET_KEY": "s" * 32,
        "PUBLIC_URL": "https://errors.example.com/",
        "WORKER": "false",
        "TELEGRAM_BOT_TOKEN": "123:secret-token",
        "TELEGRAM_API_URL": "http://127.0.0.1:9999/",
        "SMTP_HOST": "mail.example.com",
        "SMTP_PORT": "465",
        "SMTP_SECURITY": "tls",
        "SMTP_USERNAME": "resentry",
        "SMTP_PASSWORD": "smtp-secret",
        "EMAIL_FROM": "errors@example.com",
        "NOTIFY_WINDOW_SECONDS": "60",
        "NOTIFY_MAX_ATTEMPTS": "3",
        "NOTIFY_BACKOFF_SECONDS": "2",
        "NOTIFY_LEASE_SECONDS": "30",
        "WEBHOOK_ALLOW_PRIVATE": "true",
    }
    for name, value in values.items():
        monkeypatch.setenv(f"RESENTRY_{name}", value)
    config = Settings(data_dir=tmp_path).to_core_config()
    assert (config.worker, config.public_url) == (False, "https://errors.example.com")
    assert config.telegram is not None
    assert (config.telegram.bot_token, config.telegram.api_url) == (
        "123:secret-token",
        "http://127.0.0.1:9999",
    )
    assert config.smtp is not None
    assert (config.smtp.host, config.smtp.port, config.smtp.security) == (
        "mail.example.com",
        465,
        "tls",
    )
    assert (config.smtp.username, config.smtp.password) == ("resentry", "smtp-secret")
    assert config.smtp.from_address == "errors@example.com"
    assert config.notify_window == timedelta(minutes=1)
    assert (config.notify_max_attempts, config.notify_backoff) == (3, timedelta(seconds=2))
    assert config.notify_lease == timedelta(seconds=30)
    assert config.webhook_allow_private is True
    assert "secret-token" not in repr(config)
    assert "smtp-secret" not in repr(config)
    assert Settings(data_dir=tmp_path).to_core_config(worker=True).worker is True


def test_smtp_without_a_from_address_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An SMTP server without RESENTRY_EMAIL_FROM fails at startup, saying what is missing;
    without either, e-mail is simply off."""
    monkeypatch.setenv("RESENTRY_SECRET_KEY", "s" * 32)
    assert Settings(data_dir=tmp_path).to_core_config().smtp is None
    monkeypatch.setenv("RESENTRY_SMTP_HOST", "mail.example.com")
    with pytest.raises(ValueError, match="RESENTRY_EMAIL_FROM"):
        Settings(data_dir=tmp_path).to_core_config()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PUBLIC_URL", "errors.example.com"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("SMTP_SECURITY", "maybe"),
        ("NOTIFY_MAX_ATTEMPTS", "0"),
        ("MAX_REQUEST_BYTES", "0"),
        ("BCRYPT_ROUNDS", "3"),
        ("LOG_LEVEL", "loud"),
        ("RATE_LIMIT_PER_MINUTE", "-1"),
        ("RETENTION_INTERVAL_SECONDS", "-5"),
    ],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    """Nonsense settings fail at startup, naming the setting, instead of misbehaving later."""
    monkeypatch.setenv(f"RESENTRY_{name}", value)
    with pytest.raises(pydantic.ValidationError, match=name.lower()):
        Settings()
