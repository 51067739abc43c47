"""Storage fixtures: every contract test runs against memory, SQLite and PostgreSQL."""

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import asyncpg
import pytest
from sqlalchemy.engine import make_url

from resentry_core._storage._protocol import Storage
from tests.conftest import postgres_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL for a fresh SQLite database file."""
    return f"sqlite+aiosqlite:///{tmp_path / 'resentry.db'}"


@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A URL for a fresh, empty PostgreSQL database, dropped after the test."""
    base = make_url(postgres_url())
    name = f"resentry_t_{secrets.token_hex(6)}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    anyio.run(_admin, admin_dsn, f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        anyio.run(_admin, admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def open_sql_storage(url: str) -> Storage:
    """A migrated SqlStorage on ``url``."""
    from resentry_core._storage._sql import SqlStorage

    storage = SqlStorage.from_url(url)
    await storage.migrate()
    return storage  # type: ignore[no-any-return]  # until SqlStorage exists


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """Each backend in turn, empty and migrated."""
    backend: str = request.param
    if backend == "memory":
        from resentry_core._storage._memory import MemoryStorage

        store: Storage = MemoryStorage()
        yield store
        await store.aclose()
        return
    if backend == "sqlite":
        store = await open_sql_storage(f"sqlite+aiosqlite:///{tmp_path / 'contract.db'}")
        yield store
        await store.aclose()
        return
    url_fixture = request.getfixturevalue("postgres_database_url")
    store = await open_sql_storage(url_fixture)
    yield store
    await store.aclose()
