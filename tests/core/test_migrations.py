"""The Alembic migrations shipped in ``resentry_core/_migrations``, on SQLite and PostgreSQL."""

import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from resentry_core._projects import Projects
from resentry_core._storage._sql import SqlStorage
from resentry_core._storage._sql_db import HEAD_REVISION, MIGRATIONS, Database
from resentry_core._storage._sqlite_memory import MEMORY_URL
from resentry_core._storage._tables import metadata
from tests.core.records import error_envelope


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    return str(request.getfixturevalue("postgres_database_url"))


@pytest.fixture
async def database(empty_url: str) -> AsyncIterator[Database]:
    """The database handle under SqlStorage, on the empty database."""
    handle = Database(empty_url)
    yield handle
    await handle.aclose()


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def test_upgrade_builds_exactly_the_metadata(database: Database) -> None:
    """Upgrading an empty database to head creates every table, and nothing differs."""
    await database.migrate()
    assert await database.read(_table_names) == {*metadata.tables, "alembic_version"}
    assert await database.read(_differences) == []


async def test_schema_comparison_notices_drift(database: Database) -> None:
    """The comparison above has teeth: an index dropped behind its back is reported."""
    await database.migrate()
    await database.write(
        lambda conn: conn.execute(text("DROP INDEX ix_events_project_id_type_received_at_id"))
    )
    differences = await database.read(_differences)
    assert [difference[0] for difference in differences] == ["add_index"]
    assert differences[0][1].name == "ix_events_project_id_type_received_at_id"


async def test_downgrade_to_base_then_upgrade_again(database: Database) -> None:
    """Downgrading to base drops every table; upgrading again rebuilds the same schema."""
    await database.migrate()
    await database.migrate("base", downgrade=True)
    assert await database.read(_table_names) <= {"alembic_version"}
    assert await database.read(_revision) is None
    await database.migrate()
    assert await database.read(_differences) == []
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert await database.read(_revision) == head


def _sqlite_schema(connection: Connection) -> dict[str, object]:
    """Every table's columns, indexes (with their columns, uniqueness and partial flag) and
    foreign keys, as SQLite reports them."""
    schema: dict[str, object] = {}
    for table in inspect(connection).get_table_names():
        # Unique constraints' automatic indexes are numbered in the order of declaration.
        indexes = sorted(
            (
                "" if row[1].startswith("sqlite_autoindex_") else row[1],
                row[2],
                row[4],
                _pragma(connection, f"index_info('{row[1]}')"),
            )
            for row in _pragma(connection, f"index_list('{table}')")
        )
        schema[table] = (
            _pragma(connection, f"table_info('{table}')"),
            indexes,
            # Without the constraint's number, which follows the order of declaration.
            sorted(row[2:] for row in _pragma(connection, f"foreign_key_list('{table}')")),
        )
    return schema


def _pragma(connection: Connection, pragma: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in connection.exec_driver_sql(f"PRAGMA {pragma}"))


async def test_memory_databases_start_at_the_migrated_schema(tmp_path: Path) -> None:
    """A ``memory://`` database (a copy of a template built from the metadata) has exactly the
    schema and revision the migrations build in a SQLite file."""
    migrated, memory = Database(f"sqlite:///{tmp_path / 'm.db'}"), Database(MEMORY_URL)
    try:
        await migrated.migrate()
        assert await memory.read(_revision) == HEAD_REVISION
        assert await memory.read(_differences) == []
        assert await memory.read(_sqlite_schema) == await migrated.read(_sqlite_schema)
    finally:
        await migrated.aclose()
        await memory.aclose()


async def test_migrate_is_idempotent_and_keeps_data(empty_url: str) -> None:
    """Running migrate() on a database at head changes nothing and keeps its rows."""
    storage = SqlStorage.from_url(empty_url)
    try:
        await storage.migrate()
        project = await Projects(storage).create_project("Kept")
        await storage.record([error_envelope(project.id)])
        await storage.migrate()
        assert [p.id for p in await storage.list_projects()] == [project.id]
        assert len((await storage.list_issues(project.id)).items) == 1
    finally:
        await storage.aclose()


_ROOT = str(Path(__file__).resolve().parents[2])
_MIGRATE_SCRIPT = """
import sys, anyio
from resentry_core import SqlStorage

async def main(url: str) -> None:
    storage = SqlStorage.from_url(url)
    try:
        await storage.migrate()
    finally:
        await storage.aclose()

anyio.run(main, sys.argv[1])
"""


async def test_concurrent_migrations_from_several_processes(empty_url: str) -> None:
    """Four processes migrating the same empty database at once all succeed."""
    env = {**os.environ, "PYTHONPATH": _ROOT}
    command = [sys.executable, "-c", _MIGRATE_SCRIPT, empty_url]
    errors: list[str] = []

    async def migrate() -> None:
        result = await anyio.run_process(command, env=env, check=False)
        if result.returncode:
            errors.append(result.stderr.decode(errors="replace"))

    with anyio.fail_after(120):
        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(migrate)
    assert errors == []
    storage = SqlStorage.from_url(empty_url)
    try:
        project = await Projects(storage).create_project("After")
        assert (await storage.get_project(project.id)).name == "After"
    finally:
        await storage.aclose()


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config


def test_one_linear_history() -> None:
    """The migrations form one chain whose single head is HEAD_REVISION, each revision
    documented."""
    scripts = ScriptDirectory.from_config(_config())
    assert scripts.get_heads() == [HEAD_REVISION]  # what migrate() trusts without Alembic
    revisions = list(scripts.walk_revisions())
    assert revisions[-1].down_revision is None
    assert all(revision.doc for revision in revisions)


def test_env_refuses_to_run_without_a_connection() -> None:
    """The environment only runs through SqlStorage.migrate(), never on its own."""
    with pytest.raises(RuntimeError, match=r"SqlStorage\.migrate"):
        command.upgrade(_config(), "head")


async def test_0002_reports_existing_lookalike_usernames(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Users whose names collide after case folding or as confusables are reported by name;
    the oldest keeps the name's key, the others still log in by their exact name."""
    await database.migrate("0001")
    names = ["admin", "Admin", "\u0430dmin", "bob"]
    await database.write(
        lambda conn: conn.execute(
            text(
                "INSERT INTO users (username, password_hash, is_admin, is_active, created_at) "
                "VALUES (:name, :name, false, true, CURRENT_TIMESTAMP)"
            ),
            [{"name": name} for name in names],
        )
    )
    with caplog.at_level("WARNING", logger="resentry_core.migrations"):
        await database.migrate()
    [report] = [record.getMessage() for record in caplog.records]
    assert "2 username(s) collide" in report
    assert "user 2 'Admin' ~ user 1 'admin'" in report
    assert "user 3 '\u0430dmin' ~ user 1 'admin'" in report
    storage = SqlStorage(database)
    for name in names:
        credentials = await storage.get_credentials(name)
        assert credentials is not None
        assert (credentials[0].username, credentials[1]) == (name, name)
    assert await database.read(_differences) == []


async def test_0005_dates_used_refresh_tokens_long_before_any_grace(database: Database) -> None:
    """Refresh tokens used before 0005 get ``used_at`` 1970-01-01: replaying one, even with a
    grace, stays a reuse; downgrading drops the column and keeps the rows."""
    await database.migrate("0004")
    await database.write(
        lambda conn: conn.execute(
            text(
                "INSERT INTO users (username, username_key, username_skeleton, password_hash, "
                "is_admin, is_active, created_at) "
                "VALUES ('ann', 'ann', 'ann', 'x', false, true, CURRENT_TIMESTAMP)"
            )
        )
    )
    expires = datetime(2100, 1, 1, tzinfo=UTC)
    await database.write(
        lambda conn: conn.execute(
            text(
                "INSERT INTO used_refresh_tokens (token_id, user_id, expires_at) "
                "VALUES ('jti-old', 1, :expires)"
            ),
            {"expires": expires},
        )
    )
    await database.migrate()
    assert await database.read(_differences) == []
    storage = SqlStorage(database)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert not await storage.use_refresh_token(
        "jti-old", 1, expires, now=now, grace_since=now - timedelta(days=365 * 50)
    )
    rows = await database.read(
        lambda conn: conn.execute(text("SELECT token_id FROM used_refresh_tokens")).all()
    )
    assert [row[0] for row in rows] == ["jti-old"]
    await database.migrate("0004", downgrade=True)
    columns = await database.read(
        lambda conn: [c["name"] for c in inspect(conn).get_columns("used_refresh_tokens")]
    )
    assert "used_at" not in columns
    assert (
        await database.read(
            lambda conn: conn.execute(text("SELECT token_id FROM used_refresh_tokens")).all()
        )
        == rows
    )
