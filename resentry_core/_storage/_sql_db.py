"""The database handle under ``SqlStorage``: engine, connection setup, transactions, migrations.

SQLAlchemy's async extension is the one place where Resentry depends on asyncio (it runs only
on asyncio event loops); everything above it uses anyio.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a commit is durable against a crash of the
process (the WAL is in the OS page cache), only a power loss or OS crash can lose the last
transactions, and never corrupts the database. Writers are serialized twice: an ``anyio.Lock``
within the process, and ``BEGIN IMMEDIATE`` across processes, so that a second process waits
for the write lock (up to ``busy_timeout``) instead of failing with ``SQLITE_BUSY`` when a read
transaction would have to be upgraded.
"""

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

import anyio
import orjson
from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from resentry_core._errors import ConflictError, InvalidInputError, ResentryError, StorageError

SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
# Per connection; the pool holds up to 15 connections.
SQLITE_CACHE_KIB: Final = 16 * 1024
# The WAL is copied back into the database every this many pages (~40 MB) instead of SQLite's
# 1,000: fewer, larger checkpoints write each hot index page once per checkpoint rather than
# many times, which pays off with big payloads. journal_size_limit trims the file afterwards.
SQLITE_CHECKPOINT_PAGES: Final = 10_000
SQLITE_WAL_LIMIT_BYTES: Final = 64 * 1024 * 1024
MIGRATIONS: Final = "resentry_core:_migrations"
# The newest revision in _migrations/versions (tests/core/test_migrations.py checks it), so an
# up-to-date database is recognized without importing Alembic (about 11 MiB and 0.4 s).
HEAD_REVISION: Final = "0001"
# Serializes concurrent ``migrate()`` calls from several processes on PostgreSQL.
_MIGRATION_LOCK_KEY: Final = 0x5E5E_17_0001
_WRITE_OPTION: Final = "resentry_write"
_DRIVERS: Final = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


class IntegrityConflictError(ConflictError):
    """A write broke a unique or foreign-key constraint (the original error is the cause)."""


class TransientStorageError(StorageError):
    """PostgreSQL aborted the transaction to break a deadlock or a serialization conflict."""


# SQLSTATEs of serialization_failure and deadlock_detected: retrying the transaction is safe.
_TRANSIENT_SQLSTATES: Final = frozenset({"40001", "40P01"})


def json_dumps(value: object) -> str:
    """Serialize a JSON column value (orjson; the standard library for integers past 64 bits)."""
    try:
        return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits
        return json.dumps(value, default=_json_default, ensure_ascii=False)


def _json_default(value: object) -> object:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def parse_database_url(url: str) -> URL:
    """Parse a database URL, choosing the async driver for plain ``sqlite``/``postgresql`` URLs.

    Raises:
        InvalidInputError: the URL is malformed or names an unsupported database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInputError(f"malformed database URL: {exc}") from None
    backend = "postgresql" if parsed.get_backend_name() == "postgres" else parsed.get_backend_name()
    if backend not in _DRIVERS:
        raise InvalidInputError(f"unsupported database {backend!r}: use SQLite or PostgreSQL")
    if "+" not in parsed.drivername:
        parsed = parsed.set(drivername=_DRIVERS[backend])
    return parsed


class Database:
    """An async engine plus the transaction discipline every ``SqlStorage`` method uses."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = parse_database_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # A private in-memory SQLite database lives in a single shared connection, so every
        # transaction, not only writes, must take the lock.
        self._single_connection = self.is_sqlite and parsed.database in (None, "", ":memory:")
        options: dict[str, Any] = {
            "echo": echo,
            # Errors and logs must not carry payloads, password hashes or keys.
            "hide_parameters": not echo,
            "json_serializer": json_dumps,
            "json_deserializer": orjson.loads,
        }
        if self.is_sqlite:
            # Every use ends its transaction explicitly (see _transaction), so the pool need
            # not roll back on check-in: with aiosqlite that would cost a thread round trip.
            options.update(pool_reset_on_return=None)
        else:
            # LIFO: a lone writer keeps reusing one connection and its prepared statements.
            options.update(pool_size=10, max_overflow=10, pool_pre_ping=True, pool_use_lifo=True)
        self.engine: AsyncEngine = create_async_engine(parsed, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_connect)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self._write_lock = anyio.Lock()
        self._closed = False

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed when the block exits normally, else rolled back.

        Raises:
            IntegrityConflictError: a constraint was violated.
            StorageError: the database failed or is unreachable.
        """
        if self.is_sqlite:
            async with self._write_lock, self._transaction(write=True) as conn:
                yield conn
        else:
            async with self._transaction(write=True) as conn:
                yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction (one snapshot on SQLite; read committed on PostgreSQL)."""
        if self._single_connection:
            async with self._write_lock, self._transaction(write=False) as conn:
                yield conn
        else:
            async with self._transaction(write=False) as conn:
                yield conn

    @asynccontextmanager
    async def _transaction(self, *, write: bool) -> AsyncIterator[AsyncConnection]:
        if self._closed:
            raise StorageError("the storage is closed")
        try:
            async with self.engine.connect() as conn:
                if write:
                    await conn.execution_options(**{_WRITE_OPTION: True})
                async with conn.begin():
                    yield conn
        except ResentryError:
            raise
        except IntegrityError as exc:
            raise IntegrityConflictError(f"constraint violated: {exc.orig}") from exc
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
                raise TransientStorageError(f"transaction aborted: {exc.orig}") from exc
            raise StorageError(f"database error: {type(exc.orig).__name__}: {exc.orig}") from exc
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"database error: {type(exc).__name__}: {exc}") from exc

    async def ping(self) -> None:
        """Run a trivial query. Raises StorageError."""
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def migrate(self, revision: str = "head", *, downgrade: bool = False) -> None:
        """Run Alembic ``upgrade`` (or ``downgrade``) to ``revision`` in one transaction.

        Upgrading a database already at :data:`HEAD_REVISION` does nothing and loads no Alembic.
        """
        async with self.write() as conn:
            if not self.is_sqlite:
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            if revision == "head" and not downgrade and await _at_head(conn):
                return
            await conn.run_sync(_run_alembic, revision, downgrade)

    async def aclose(self) -> None:
        """Close every pooled connection; later transactions raise StorageError."""
        self._closed = True
        await self.engine.dispose()


async def _at_head(conn: AsyncConnection) -> bool:
    if not await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
        return False
    versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars()
    return list(versions) == [HEAD_REVISION]


def _run_alembic(connection: Connection, revision: str, downgrade: bool) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(attributes={"connection": connection})
    config.set_main_option("script_location", MIGRATIONS)
    if downgrade:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


def _sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # SQLAlchemy emits BEGIN itself (see _sqlite_begin); the driver must not.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in (
            f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON",
            f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}",
            "PRAGMA temp_store = MEMORY",
            f"PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}",
            f"PRAGMA journal_size_limit = {SQLITE_WAL_LIMIT_BYTES}",
        ):
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get(_WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
