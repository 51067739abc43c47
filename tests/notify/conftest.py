"""Fixtures of the worker tests: a migrated SqlStorage on SQLite and on PostgreSQL."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from resentry_core import SqlStorage
from tests.core.conftest import (  # noqa: F401  # fixtures used here
    _postgres_session_url,
    migrated_postgres_url,
    open_sql_storage,
    postgres_database_url,
)


@pytest.fixture(params=["sqlite", "postgres"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a new SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'notify.db'}"
    return str(request.getfixturevalue("migrated_postgres_url"))


@pytest.fixture
async def sql(sql_url: str) -> AsyncIterator[SqlStorage]:
    """A migrated SqlStorage on each database in turn."""
    store = await open_sql_storage(sql_url)
    yield store
    await store.aclose()
