"""SQLAlchemy Core table definitions for ``SqlStorage`` (never exported).

``docs/models.md`` describes every table, column and index. The schema is created only by the
Alembic migrations in ``resentry_core/_migrations``; a test checks that they build exactly this
metadata on SQLite and PostgreSQL (``memory://`` databases copy a template built from it, which
a test checks against the migrated schema).

Conventions:

- Ids are 64-bit on PostgreSQL and ``INTEGER PRIMARY KEY`` (the rowid) on SQLite, where
  ``AUTOINCREMENT`` keeps ids from being reused after deletions (download URLs stay unambiguous).
- Timestamps are ``timestamptz`` on PostgreSQL and fixed-width UTC text on SQLite, so ordering
  and range filters work on both; they always come back UTC-aware.
- Strings are unbounded ``TEXT``: a value longer than expected never
  fails a batch on PostgreSQL. Only ``public_key``, which Resentry generates, has a length.
- Denormalized copies (``project_id``, ``envelope_id`` or ``received_at`` next to an owning
  foreign key) carry no foreign key of their own: the owner's ``ON DELETE CASCADE`` removes
  them. Every foreign key has an index on the child side, so cascades never scan a table.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeEngine

from resentry_core._notify._models import CHANNEL_KINDS, DELIVERY_STATUSES, TRIGGERS


class SqliteUtcDateTime(sqlite.DATETIME):
    """SQLite's ``DATETIME`` holding UTC as fixed-width text, converted in one C call each way.

    The text is SQLAlchemy's own SQLite format (``2024-05-01 12:00:00.000000``), so it sorts
    chronologically and ``MIN``/``MAX`` work. Values come back UTC-aware; naive values going in
    are taken to be UTC.
    """

    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], str | None]:
        return _utc_text

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[str | None], datetime | None]:
        return _utc_datetime


def _utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC and value.utcoffset():
        value = value.astimezone(UTC)
    # "YYYY-MM-DD HH:MM:SS.ffffff", without any "+00:00" (naive values are taken as UTC).
    return value.isoformat(" ", "microseconds")[:26]


def _utc_datetime(value: str | None) -> datetime | None:
    # The offset parsed with the text: ~0.4 µs, against ~2.7 µs for .replace(tzinfo=UTC).
    return None if value is None else datetime.fromisoformat(value + "+00:00")


# ``timestamptz`` on PostgreSQL (asyncpg returns UTC-aware values), UTC text on SQLite.
TIMESTAMP = DateTime(timezone=True).with_variant(
    SqliteUtcDateTime(),  # type: ignore[no-untyped-call]  # SQLAlchemy leaves __init__ untyped
    "sqlite",
)
ID = BigInteger().with_variant(Integer(), "sqlite")


class JsonValue(TypeDecorator[Any]):
    """JSON (SQL ``NULL`` for ``None``): ``JSONB`` on PostgreSQL, ``JSON`` text elsewhere.

    The PostgreSQL dialect is imported when a PostgreSQL connection first needs the type, so
    SQLite (and ``memory://``) never loads it.
    """

    impl = JSON(none_as_null=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB  # PostgreSQL only

            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(self.impl_instance)


JSON_VALUE = JsonValue()
NIL_ID = "0" * 32  # a nil check-in id never matches an earlier check-in

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id() -> Column[int]:
    return Column("id", ID, primary_key=True, autoincrement=True)


def _ref(name: str, target: str, *, on_delete: str = "CASCADE", null: bool = False) -> Column[int]:
    return Column(name, ID, ForeignKey(target, ondelete=on_delete), nullable=null)


def _copy(name: str) -> Column[int]:
    return Column(name, ID, nullable=False)


def _when(name: str, *, null: bool = False) -> Column[datetime]:
    return Column(name, TIMESTAMP, nullable=null)


def _text(name: str, *, null: bool = False) -> Column[str]:
    return Column(name, Text, nullable=null)


def _flag(name: str) -> Column[bool]:
    return Column(name, Boolean, nullable=False)


def _json(name: str, *, null: bool = False) -> Column[Any]:
    return Column(name, JSON_VALUE, nullable=null)


users = Table(
    "users",
    metadata,
    _id(),
    _text("username"),
    _text("password_hash"),
    _flag("is_admin"),
    _flag("is_active"),
    _text("telegram_chat_id", null=True),
    _when("created_at"),
    # Set by Accounts (resentry_core._usernames); NULL only for a user the 0002 migration
    # found colliding with an older one, who logs in by exact username until renamed.
    _text("username_key", null=True),
    _text("username_skeleton", null=True),
    # Every token carries the generation it was issued under; raising it ends them all.
    Column("token_generation", Integer, nullable=False, server_default=text("0")),
    _text("email", null=True),
    UniqueConstraint("username"),
    # Unique indexes, not constraints: SQLite can add these without rebuilding the table.
    Index(None, "username_key", unique=True),
    Index(None, "username_skeleton", unique=True),
    sqlite_autoincrement=True,
)

# A refresh token is used once: its id and first use are kept here until it expires.
used_refresh_tokens = Table(
    "used_refresh_tokens",
    metadata,
    _text("token_id", null=False),
    _ref("user_id", "users.id"),
    _when("expires_at"),
    _when("used_at"),
    PrimaryKeyConstraint("token_id"),
    Index(None, "user_id"),
    Index(None, "expires_at"),
)

# Failed logins per throttled key (``user:<username key>``, ``addr:<client address>``),
# counted from the window's first failure; rows past their window are deleted.
login_failures = Table(
    "login_failures",
    metadata,
    _text("key"),
    Column("failures", Integer, nullable=False),
    _when("window_start"),
    PrimaryKeyConstraint("key"),
    Index(None, "window_start"),
)

projects = Table(
    "projects",
    metadata,
    _id(),
    _text("name"),
    _text("slug"),
    _when("created_at"),
    _json("allowed_origins"),
    Column("rate_limit_per_minute", Integer),
    Column("retention_days", Integer),
    UniqueConstraint("slug"),
    sqlite_autoincrement=True,
)

project_keys = Table(
    "project_keys",
    metadata,
    _id(),
    _ref("project_id", "projects.id"),
    Column("public_key", String(32), nullable=False),
    _text("label"),
    _flag("is_active"),
    _when("created_at"),
    UniqueConstraint("public_key"),
    Index(None, "project_id"),
    sqlite_autoincrement=True,
)

project_members = Table(
    "project_members",
    metadata,
    _ref("project_id", "projects.id"),
    _ref("user_id", "users.id"),
    _text("min_level"),
    _flag("notify_new_issues"),
    _flag("notify_regressions"),
    _when("created_at"),
    PrimaryKeyConstraint("project_id", "user_id"),
    Index(None, "user_id"),
)

envelopes = Table(
    "envelopes",
    metadata,
    _id(),
    _ref("project_id", "projects.id"),
    _when("received_at"),
    _text("event_id", null=True),
    _json("headers"),
    Column("raw", LargeBinary, nullable=False),
    _text("raw_encoding", null=True),
    Column("size", BigInteger, nullable=False),
    Index(None, "project_id", "received_at", "id"),
    sqlite_autoincrement=True,
)

envelope_items = Table(
    "envelope_items",
    metadata,
    _id(),
    _ref("envelope_id", "envelopes.id"),
    _copy("project_id"),
    _when("received_at"),
    Column("position", Integer, nullable=False),
    _text("type"),
    _json("headers"),
    Column("payload", LargeBinary, nullable=False),
    Column("size", BigInteger, nullable=False),
    UniqueConstraint("envelope_id", "position"),
    Index(None, "project_id", "received_at", "id"),
    Index(None, "project_id", "type", "received_at", "id"),
    sqlite_autoincrement=True,
)

issues = Table(
    "issues",
    metadata,
    _id(),
    _ref("project_id", "projects.id"),
    _text("fingerprint"),
    _text("title"),
    _text("culprit"),
    _text("level"),
    _text("status"),
    _when("first_seen"),
    _when("last_seen"),
    Column("times_seen", BigInteger, nullable=False),
    _text("last_event_id", null=True),
    UniqueConstraint("project_id", "fingerprint"),
    Index(None, "project_id", "last_seen", "id"),
    Index(None, "project_id", "first_seen", "id"),
    Index(None, "project_id", "times_seen", "id"),
    CheckConstraint("status IN ('unresolved', 'resolved', 'ignored')", name="status"),
    sqlite_autoincrement=True,
)

events = Table(
    "events",
    metadata,
    _id(),
    _ref("item_id", "envelope_items.id"),
    _copy("envelope_id"),
    _copy("project_id"),
    _text("event_id"),
    _ref("issue_id", "issues.id", on_delete="SET NULL", null=True),
    _text("type"),
    _text("level"),
    _when("timestamp"),
    _when("received_at"),
    _text("platform"),
    _text("title"),
    _text("culprit"),
    _text("message"),
    _text("release", null=True),
    _text("environment", null=True),
    _json("tags"),
    _json("user_data", null=True),
    _json("sdk", null=True),
    _text("transaction", null=True),
    _text("op", null=True),
    Column("duration_ms", Double),
    _text("status", null=True),
    Column("span_count", Integer),
    UniqueConstraint("project_id", "event_id"),
    UniqueConstraint("item_id"),
    Index(None, "project_id", "received_at", "id"),
    Index(None, "project_id", "type", "received_at", "id"),
    Index(None, "issue_id", "received_at", "id"),
    sqlite_autoincrement=True,
)

# Events received per hour: one row per (issue, hour) with events, and per (project, hour)
# with ``issue_id`` 0 counting every event of the project (transactions and feedback too).
# Written by ``record`` in the events' transaction and lowered by ``prune``, so it always
# equals a count over ``events``; the primary key is the index of every read.
event_hours = Table(
    "event_hours",
    metadata,
    _ref("project_id", "projects.id"),
    Column("issue_id", ID, nullable=False),
    _when("hour"),
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint("project_id", "issue_id", "hour"),
    sqlite_with_rowid=False,
)

attachments = Table(
    "attachments",
    metadata,
    _id(),
    _ref("item_id", "envelope_items.id"),
    _copy("envelope_id"),
    _copy("project_id"),
    _text("event_id", null=True),
    _text("filename"),
    _text("content_type"),
    _text("attachment_type"),
    Column("size", BigInteger, nullable=False),
    UniqueConstraint("item_id"),
    Index(None, "envelope_id"),
    Index(None, "project_id", "event_id"),
    sqlite_autoincrement=True,
)

sessions = Table(
    "sessions",
    metadata,
    _id(),
    _ref("project_id", "projects.id"),
    _ref("envelope_id", "envelopes.id"),
    _text("sid"),
    _text("release"),
    _text("environment", null=True),
    _text("status"),
    Column("seq", BigInteger, nullable=False),
    _flag("errored"),
    UniqueConstraint("project_id", "sid"),
    Index(None, "envelope_id"),
    sqlite_autoincrement=True,
)

session_aggregates = Table(
    "session_aggregates",
    metadata,
    _id(),
    _ref("envelope_id", "envelopes.id"),
    _copy("project_id"),
    _text("release"),
    _text("environment", null=True),
    Column("exited", BigInteger, nullable=False),
    Column("errored", BigInteger, nullable=False),
    Column("abnormal", BigInteger, nullable=False),
    Column("crashed", BigInteger, nullable=False),
    Index(None, "envelope_id"),
    Index(None, "project_id", "release"),
    sqlite_autoincrement=True,
)

monitors = Table(
    "monitors",
    metadata,
    _id(),
    _ref("project_id", "projects.id"),
    _text("slug"),
    _json("config", null=True),
    _when("created_at"),
    _when("last_check_in", null=True),
    _text("last_status", null=True),
    _when("alerted_check_in", null=True),
    UniqueConstraint("project_id", "slug"),
    sqlite_autoincrement=True,
)

_REAL_CHECK_IN = f"check_in_id != '{NIL_ID}'"
# One row per monitor and real check-in id; PostgreSQL's predicate: add_postgresql_options().
_real_check_ins = Index(
    None, "monitor_id", "check_in_id", unique=True, sqlite_where=text(_REAL_CHECK_IN)
)


def add_postgresql_options() -> None:
    """Give the partial index its PostgreSQL predicate, when a PostgreSQL database is opened.

    Naming a ``postgresql_*`` option loads SQLAlchemy's PostgreSQL dialect and its drivers
    (~0.1 s), so the tables leave it out until then: SQLite never loads that dialect.
    """
    _real_check_ins.dialect_kwargs["postgresql_where"] = text(_REAL_CHECK_IN)


check_ins = Table(
    "check_ins",
    metadata,
    _id(),
    _ref("monitor_id", "monitors.id"),
    _ref("envelope_id", "envelopes.id"),
    _text("check_in_id"),
    _text("status"),
    Column("duration", Double),
    _text("environment", null=True),
    _text("release", null=True),
    _when("timestamp"),
    _text("trace_id", null=True),
    _real_check_ins,
    Index(None, "monitor_id", "timestamp", "id"),
    Index(None, "envelope_id"),
    sqlite_autoincrement=True,
)

logs = Table(
    "logs",
    metadata,
    _id(),
    _ref("envelope_id", "envelopes.id"),
    _copy("project_id"),
    _when("timestamp"),
    _text("level"),
    _text("body"),
    _json("attributes"),
    _text("trace_id", null=True),
    _text("span_id", null=True),
    Column("severity_number", Integer),
    Index(None, "envelope_id"),
    Index(None, "project_id", "timestamp", "id"),
    Index(None, "project_id", "trace_id"),
    sqlite_autoincrement=True,
)

feedback = Table(
    "feedback",
    metadata,
    _id(),
    _ref("envelope_id", "envelopes.id"),
    _copy("project_id"),
    _when("received_at"),
    _text("event_id"),
    _text("associated_event_id", null=True),
    _text("name", null=True),
    _text("email", null=True),
    _text("message"),
    _text("url", null=True),
    _text("source"),
    Index(None, "envelope_id"),
    Index(None, "project_id", "received_at", "id"),
    sqlite_autoincrement=True,
)

discard_counters = Table(
    "discard_counters",
    metadata,
    _id(),
    _ref("envelope_id", "envelopes.id"),
    _copy("project_id"),
    _text("reason"),
    _text("category"),
    Column("quantity", BigInteger, nullable=False),
    Index(None, "envelope_id"),
    Index(None, "project_id", "reason", "category"),
    sqlite_autoincrement=True,
)


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


notification_outbox = Table(
    "notification_outbox",
    metadata,
    _id(),
    _copy("project_id"),
    _ref("issue_id", "issues.id", null=True),
    _text("event_id", null=True),
    _text("kind"),
    _when("created_at"),
    _when("delivered_at", null=True),
    Column("attempts", Integer, nullable=False),
    _when("next_attempt_at"),
    _text("last_error", null=True),
    # Last, where migration 0003 added it (memory:// databases are built from this metadata).
    _ref("monitor_id", "monitors.id", null=True),
    Index(None, "issue_id"),
    Index(None, "monitor_id"),
    Index(None, "delivered_at", "next_attempt_at"),
    _one_of("kind", TRIGGERS),
    sqlite_autoincrement=True,
)

notification_channels = Table(
    "notification_channels",
    metadata,
    _id(),
    _ref("project_id", "projects.id"),
    _text("name"),
    _text("kind"),
    _text("target"),
    _text("secret", null=True),
    _text("flavor", null=True),
    _when("created_at"),
    Index(None, "project_id"),
    _one_of("kind", CHANNEL_KINDS),
    sqlite_autoincrement=True,
)

notification_rules = Table(
    "notification_rules",
    metadata,
    _id(),
    _ref("project_id", "projects.id"),
    _ref("channel_id", "notification_channels.id"),
    _text("trigger"),
    _text("min_level"),
    _text("environment", null=True),
    _when("created_at"),
    Index(None, "project_id", "trigger"),
    Index(None, "channel_id"),
    _one_of("trigger", TRIGGERS),
    sqlite_autoincrement=True,
)

notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    _id(),
    _ref("project_id", "projects.id"),
    _text("key"),
    _text("destination"),
    _ref("channel_id", "notification_channels.id", null=True),
    _ref("user_id", "users.id", null=True),
    _text("reason"),
    _ref("issue_id", "issues.id", null=True),
    _ref("monitor_id", "monitors.id", null=True),
    _text("event_id", null=True),
    Column("count", BigInteger, nullable=False),
    _text("status"),
    Column("attempts", Integer, nullable=False),
    _text("last_error", null=True),
    _when("created_at"),
    _when("updated_at"),
    _when("next_attempt_at"),
    _when("delivered_at", null=True),
    UniqueConstraint("key"),
    Index(None, "project_id", "id"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "channel_id"),
    Index(None, "user_id"),
    Index(None, "issue_id"),
    Index(None, "monitor_id"),
    _one_of("status", DELIVERY_STATUSES),
    sqlite_autoincrement=True,
)

notification_windows = Table(
    "notification_windows",
    metadata,
    _ref("issue_id", "issues.id"),
    _text("destination"),
    _copy("project_id"),
    _ref("channel_id", "notification_channels.id", null=True),
    _ref("user_id", "users.id", null=True),
    Column("baseline", BigInteger, nullable=False),
    _when("ends_at"),
    PrimaryKeyConstraint("issue_id", "destination"),
    Index(None, "ends_at"),
    Index(None, "channel_id"),
    Index(None, "user_id"),
)
