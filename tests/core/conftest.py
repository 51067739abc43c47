"""Storage fixtures: every contract test runs on SQLite in memory, SQLite on disk and PostgreSQL."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TypeVarTuple

import pytest
from anyio.from_thread import start_blocking_portal

from resentry_core._accounts import Accounts
from resentry_core._clock import utc_now
from resentry_core._passwords import PasswordHasher
from resentry_core._storage._protocol import Storage
from resentry_core._storage._sql import SqlStorage
from resentry_core._storage._sqlite_memory import MEMORY_URL
from resentry_core._storage._tables import metadata
from resentry_core._tokens import TokenCodec
from tests.conftest import postgres_url
from tests.core.postgres_admin import execute, scratch_database

Ts = TypeVarTuple("Ts")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL for a fresh SQLite database file."""
    return f"sqlite:///{tmp_path / 'resentry.db'}"


@contextmanager
def _scratch_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped on exit."""
    # Through a portal (an event loop in a thread of its own): these fixtures may be set up
    # from inside a running event loop (the async ``storage`` fixture asks for them).
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(
            scratch_database(postgres_url() or "", "resentry_t")
        ) as url,
    ):
        yield url


@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A URL for a fresh, empty PostgreSQL database, dropped after the test."""
    with _scratch_database() as url:
        yield url


@pytest.fixture(scope="session")
def _postgres_session_url() -> Iterator[str]:
    """One database per test session, migrated once (``migrated_postgres_url`` empties it)."""
    with _scratch_database() as url:
        _run(_migrate, url)
        yield url


@pytest.fixture
def migrated_postgres_url(_postgres_session_url: str) -> str:
    """A URL for a PostgreSQL database at the latest migration, with every table empty.

    Emptying the session's database (``TRUNCATE … RESTART IDENTITY``) leaves it exactly as
    a fresh migration would, ids included, in a fraction of the time a new database takes.
    """
    tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    _run(execute, _postgres_session_url, f"TRUNCATE {tables} RESTART IDENTITY")
    return _postgres_session_url


def _run(fn: Callable[[*Ts], Awaitable[None]], *args: *Ts) -> None:
    with start_blocking_portal() as portal:  # see _scratch_database
        portal.call(fn, *args)


async def _migrate(url: str) -> None:
    storage = SqlStorage.from_url(url)
    try:
        await storage.migrate()
    finally:
        await storage.aclose()


@pytest.fixture
def accounts(storage: Storage) -> Accounts:
    """The accounts service over the ``storage`` fixture (cheap bcrypt: tests only)."""
    tokens = TokenCodec("s" * 48, access_ttl=timedelta(minutes=5), refresh_ttl=timedelta(days=1))
    return Accounts(storage, PasswordHasher(rounds=4), tokens, clock=utc_now)


async def open_sql_storage(url: str) -> SqlStorage:
    """A migrated SqlStorage on ``url``."""
    storage = SqlStorage.from_url(url)
    await storage.migrate()
    return storage


@pytest.fixture(params=["sqlite-memory", "sqlite", "postgres"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """Each backend in turn, empty and migrated: ``memory://``, a SQLite file, PostgreSQL."""
    backend: str = request.param
    if backend == "sqlite-memory":
        url = MEMORY_URL
    elif backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'contract.db'}"
    else:
        url = request.getfixturevalue("migrated_postgres_url")
    store = await open_sql_storage(url)
    yield store
    await store.aclose()
