"""The database handle under ``SqlStorage``: engine, connection setup, transactions, migrations.

SQLite goes through the standard library's ``sqlite3`` in worker threads (``anyio.to_thread``),
one thread hop per transaction; ingest batches run on the calling thread (``write(inline=True)``).
An in-memory database (``memory://``) runs every transaction on the calling thread, begun and
ended on the driver's connection (``_in_driver_transaction``).
PostgreSQL goes through SQLAlchemy's async extension and asyncpg, the one place where Resentry
depends on asyncio; everything above it uses anyio.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a commit is durable against a crash of the
process (the WAL is in the OS page cache), only a power loss or OS crash can lose the last
transactions, and never corrupts the database. Writers are serialized twice: an ``anyio.Lock``
within the process, and ``BEGIN IMMEDIATE`` across processes, so that a second process waits
for the write lock (up to ``busy_timeout``) instead of failing with ``SQLITE_BUSY`` when a read
transaction would have to be upgraded. WAL checkpoints run in a background thread
(``_sqlite_checkpoint``), not inside the commits of ingest batches.
"""

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache, partial
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

import anyio
import anyio.to_thread
import orjson
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from resentry_core._errors import ConflictError, InvalidInputError, ResentryError, StorageError
from resentry_core._storage._sqlite_checkpoint import WalCheckpointer
from resentry_core._storage._sqlite_memory import MEMORY_URL, new_memory_database
from resentry_core._storage._tables import add_postgresql_options

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
# Page cache per connection (the pool holds up to SQLITE_THREADS): the OS page cache holds the
# rest of the file. 16 MiB cost ~16 MiB of resident memory after a load with no throughput
# gain measured (bench/http_ingest.py).
SQLITE_CACHE_KIB: Final = 4 * 1024
# A background thread checkpoints the WAL a few times a second (_sqlite_checkpoint). A commit
# checkpoints itself only past this many pages (~40 MB), should that thread fall behind.
# journal_size_limit trims the file afterwards.
SQLITE_CHECKPOINT_PAGES: Final = 10_000
SQLITE_WAL_LIMIT_BYTES: Final = 64 * 1024 * 1024
MIGRATIONS: Final = "resentry_core:_migrations"
# The newest revision in _migrations/versions (tests/core/test_migrations.py checks it), so an
# up-to-date database is recognized without importing Alembic (about 11 MiB and 0.4 s).
HEAD_REVISION: Final = "0005"
# Serializes concurrent ``migrate()`` calls from several processes on PostgreSQL.
_MIGRATION_LOCK_KEY: Final = 0x5E5E_17_0001
_WRITE_OPTION: Final = "resentry_write"
_DRIVERS: Final = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+asyncpg"}
# Worker threads (and pooled connections) for SQLite transactions; writes take one at a time.
SQLITE_THREADS: Final = 4
# An inline write that finds SQLite's write lock taken retries on the event loop after these
# pauses before it waits in a worker thread: the background checkpointer's RESTART holds the
# lock for a few milliseconds, and SQLite's own busy handler, which sleeps 1, 2, 5, 10 ms…
# between tries, made such a batch wait 8-21 ms.
_INLINE_RETRY_SECONDS: Final = (0.0005, 0.001, 0.002, 0.004)

T = TypeVar("T")


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
    """Parse a database URL: SQLite always gets ``sqlite3``, plain ``postgresql`` gets asyncpg.

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
    if backend == "sqlite":
        # Always the standard library's sqlite3, run in worker threads (see Database);
        # ``sqlite+aiosqlite`` URLs of earlier versions mean the same database.
        if parsed.get_driver_name() not in ("pysqlite", "aiosqlite"):
            raise InvalidInputError(f"unsupported SQLite driver {parsed.get_driver_name()!r}")
        return parsed.set(drivername=_DRIVERS[backend])
    if "+" not in parsed.drivername:
        parsed = parsed.set(drivername=_DRIVERS[backend])
    return parsed


class Database:
    """An engine plus the transaction discipline every ``SqlStorage`` method uses.

    Each storage method is one synchronous function of a :class:`Connection`, run inside one
    transaction by :meth:`read` or :meth:`write`. On SQLite (the standard library's
    ``sqlite3``) the whole function runs in a worker thread: one thread hop per transaction,
    however many statements it runs; ``write(inline=True)`` runs it on the calling thread
    instead, as every transaction in memory runs. On PostgreSQL (asyncpg) it runs through
    ``AsyncConnection.run_sync`` on the event loop.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = parse_database_url("sqlite://" if url == MEMORY_URL else url)
        self.url: URL = parsed
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # A private in-memory SQLite database (``memory://``) lives in one connection, held
        # open from the first transaction to aclose(). With no I/O to wait for, each
        # transaction runs on the calling thread from start to end: none can interleave.
        self._in_memory = self.is_sqlite and parsed.database in (None, "", ":memory:")
        self._connection: Connection | None = None
        self._engine: Engine | AsyncEngine
        self._checkpointer: WalCheckpointer | None = None
        if self._in_memory:
            self._engine = _memory_engine(echo)
        elif self.is_sqlite:
            # Every use ends its transaction explicitly, so the pool need not roll back on
            # check-in. One pooled connection per worker thread the limiter allows.
            self._engine = _sqlite_engine(
                parsed,
                pool_reset_on_return=None,
                pool_size=SQLITE_THREADS,
                max_overflow=0,
                **_options(echo),
            )
            if parsed.database and "uri" not in parsed.query:
                self._checkpointer = WalCheckpointer(parsed.database)
        else:
            # LIFO: a lone writer keeps reusing one connection and its prepared statements.
            options = _options(echo)
            options.update(pool_size=10, max_overflow=10, pool_pre_ping=True, pool_use_lifo=True)
            # Imported here: SQLite never needs the asyncio extension (and greenlet), ~8 MiB.
            from sqlalchemy.ext.asyncio import create_async_engine

            add_postgresql_options()
            self._engine = create_async_engine(parsed, **options)
        self._threads = anyio.CapacityLimiter(SQLITE_THREADS)
        self._write_lock = anyio.Lock()
        self._closed = False

    async def write(self, fn: Callable[[Connection], T], *, inline: bool = False) -> T:
        """Run ``fn`` in a write transaction: committed when it returns, else rolled back.

        ``inline``: on SQLite, run ``fn`` on the calling (event loop) thread instead of a worker
        thread, unless another connection (a checkpoint, another process) holds the write lock:
        then it tries again a few times over ~8 ms, letting the loop run meanwhile, and at
        last waits for the lock in a worker thread.
        For short, CPU-bound writes such as ingest batches: the GIL serializes the Python work
        anyway, and handing it to a thread adds GIL hand-offs at every SQLite call (measured:
        ~25% more CPU per envelope, ~25% less HTTP throughput).

        Raises:
            IntegrityConflictError: a constraint was violated.
            StorageError: the database failed or is unreachable.
        """
        if self._checkpointer is not None:
            self._checkpointer.start()
        if not self.is_sqlite or self._in_memory:
            return await self._run(fn, write=True)
        async with self._write_lock:
            if inline:
                pauses = iter(_INLINE_RETRY_SECONDS)
                while not self._closed:
                    try:
                        return self._transaction(fn, write=True, wait=False)
                    except _WriteLockBusyError:  # a checkpoint or another process writes
                        pause = next(pauses, None)
                        if pause is None:
                            break
                        await anyio.sleep(pause)
            return await self._run(fn, write=True)  # waits for the lock off the event loop

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in a read transaction (a snapshot on SQLite; read committed on PostgreSQL)."""
        return await self._run(fn, write=False)

    async def _run(self, fn: Callable[[Connection], T], *, write: bool) -> T:
        if self._closed:
            raise StorageError("the storage is closed")
        if self._in_memory:
            # Synchronous on the event loop: no other transaction can interleave, so the
            # held connection needs no lock (nor does a write need the write lock).
            return self._transaction(fn, write)
        if isinstance(self._engine, Engine):
            # Not abandoned on cancellation: the transaction always ends before we return.
            return await anyio.to_thread.run_sync(
                self._transaction, fn, write, limiter=self._threads
            )
        with _translated_errors():
            async with self._engine.connect() as conn, conn.begin():
                return await conn.run_sync(fn)

    async def ping(self) -> None:
        """Run a trivial query. Raises StorageError."""
        await self.read(lambda conn: conn.execute(text("SELECT 1")))

    async def migrate(self, revision: str = "head", *, downgrade: bool = False) -> None:
        """Run Alembic ``upgrade`` (or ``downgrade``) to ``revision`` in one transaction.

        Upgrading a database already at :data:`HEAD_REVISION` does nothing and loads no Alembic;
        nor does upgrading a ``memory://`` database, created at the head.
        """
        if self._in_memory and revision == "head" and not downgrade:
            return
        await self.write(lambda conn: _migrate(conn, revision, downgrade))

    async def aclose(self) -> None:
        """Close every pooled connection; later transactions raise StorageError."""
        self._closed = True
        if self._checkpointer is not None:
            await anyio.to_thread.run_sync(self._checkpointer.stop)
        if self._in_memory:  # the engine is shared; the database goes with its connection
            if self._connection is not None:
                self._connection.close()
        elif isinstance(self._engine, Engine):
            async with self._write_lock:
                await anyio.to_thread.run_sync(self._engine.dispose, limiter=self._threads)
        else:
            await self._engine.dispose()

    def _transaction(self, fn: Callable[[Connection], T], write: bool, wait: bool = True) -> T:
        """Run ``fn`` in a transaction on a SQLite connection (the held one, in memory)."""
        engine = cast(Engine, self._engine)  # only SQLite runs transactions here
        with _translated_errors():
            if not self._in_memory:
                with engine.connect() as conn:
                    return _in_transaction(conn, fn, write, wait)
            if self._connection is None:
                self._connection = engine.connect()
            return _in_driver_transaction(self._connection, fn, write)


class _WriteLockBusyError(Exception):
    """Another connection holds SQLite's write lock (raised only when asked not to wait)."""


def _in_transaction(conn: Connection, fn: Callable[[Connection], T], write: bool, wait: bool) -> T:
    conn.execution_options(**{_WRITE_OPTION: ("wait" if wait else "nowait") if write else None})
    with conn.begin():
        return fn(conn)


def _in_driver_transaction(conn: Connection, fn: Callable[[Connection], T], write: bool) -> T:
    """Run ``fn`` in a transaction begun and ended on the driver's connection (in memory).

    Half the cost of a short read went into SQLAlchemy's ``begin``/``commit`` and their
    events. A statement ``fn`` runs through SQLAlchemy joins the transaction (``_sqlite_begin``
    emits no second ``BEGIN``), and is then committed or rolled back through SQLAlchemy.
    """
    driver: Any = conn.connection.dbapi_connection
    driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        result = fn(conn)
    except BaseException:
        if conn.in_transaction():
            conn.rollback()
        if driver.in_transaction:
            driver.rollback()
        raise
    if conn.in_transaction():
        conn.commit()
    else:
        driver.commit()
    return result


def _options(echo: bool) -> dict[str, Any]:
    return {
        "echo": echo,
        # Errors and logs must not carry payloads, password hashes or keys.
        "hide_parameters": not echo,
        "json_serializer": json_dumps,
        "json_deserializer": orjson.loads,
    }


def _sqlite_engine(url: URL | str, **options: Any) -> Engine:
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


@cache
def _memory_engine(echo: bool) -> Engine:
    """The engine of every in-memory database: each connection it opens is a new database, a
    copy of the schema template (``_sqlite_memory``). One engine per process, so that its
    statements compile once, not once per database."""
    creator = partial(new_memory_database, HEAD_REVISION)
    return _sqlite_engine("sqlite://", poolclass=NullPool, creator=creator, **_options(echo))


@contextmanager
def _translated_errors() -> Iterator[None]:
    try:
        yield
    except ResentryError:
        raise
    except IntegrityError as exc:
        raise IntegrityConflictError(f"constraint violated: {exc.orig}") from exc
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
            raise TransientStorageError(f"transaction aborted: {exc.orig}") from exc
        raise StorageError(f"database error: {type(exc.orig).__name__}: {exc.orig}") from exc
    except (SQLAlchemyError, OSError, sqlite3.Error) as exc:  # sqlite3: BEGIN (_sqlite_begin)
        raise StorageError(f"database error: {type(exc).__name__}: {exc}") from exc


def _migrate(conn: Connection, revision: str, downgrade: bool) -> None:
    if conn.dialect.name != "sqlite":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
    if revision == "head" and not downgrade and _at_head(conn):
        return
    _run_alembic(conn, revision, downgrade)


def _at_head(conn: Connection) -> bool:
    if not inspect(conn).has_table("alembic_version"):
        return False
    versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
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
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        for pragma in (
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


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the database to WAL mode, retrying while another connection switches it too.

    Leaving rollback mode (a new file) takes an exclusive lock after a shared one. When several
    connections try at once, SQLite fails all but one with "database is locked" at once rather
    than calling the busy handler, which could deadlock them. The failure ends the attempt's
    locks, so trying again is safe, and soon finds the mode switched.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _sqlite_begin(conn: Connection) -> None:
    # On the driver's connection: SQLAlchemy's execution of a statement (~20 µs) would double
    # the cost of a short transaction.
    driver: Any = conn.connection.dbapi_connection
    if driver.in_transaction:  # begun on the driver (_in_driver_transaction)
        return
    write = conn.get_execution_options().get(_WRITE_OPTION)
    cursor = driver.cursor()
    try:
        if write != "nowait":
            cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            return
        cursor.execute("PRAGMA busy_timeout = 0")
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise _WriteLockBusyError from exc
            raise
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()
