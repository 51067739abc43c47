"""``import resentry_core`` and a worker with nothing to send leave the heavy libraries
(HTTP, SMTP, JWT, cron, SQLAlchemy's PostgreSQL dialect) unimported: they load when first used."""

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx

from resentry_core._notify._http import LazyClient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HEAVY = (
    "httpx",
    "httpcore",
    "aiosmtplib",
    "jwt",
    "cryptography",
    "croniter",
    "sqlalchemy.dialects.postgresql",
)


def loaded_after(code: str) -> list[str]:
    """The heavy modules in ``sys.modules`` after ``code`` runs in a fresh interpreter."""
    probe = (
        textwrap.dedent(code)
        + f"\nimport sys\nprint(*[m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    done = subprocess.run(  # noqa: S603 - our own code with the test interpreter
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.split()


def test_importing_the_core_loads_none_of_the_heavy_libraries() -> None:
    assert loaded_after("import resentry_core") == []


def test_the_probe_sees_an_eager_import() -> None:
    """The check above can fail: a library imported with the core shows up."""
    assert loaded_after("import resentry_core, jwt, aiosmtplib") == [
        "aiosmtplib",
        "jwt",
        "cryptography",
    ]


def test_a_worker_with_nothing_to_send_makes_no_http_client() -> None:
    """``Resentry.open`` starts the worker, which runs rounds while an event is ingested and
    read back; with no channel and no member to tell, httpx is never imported. The database is
    ``memory://``: SQLite, so the PostgreSQL dialect is never imported either."""
    script = """
        import sys

        import anyio

        sys.path.insert(0, EXAMPLES)
        from embed_core import sample_envelope
        from resentry_core import CoreConfig, IngestRequest, Resentry

        async def main() -> None:
            config = CoreConfig(database_url="memory://", secret_key="k" * 48, bcrypt_rounds=4)
            async with Resentry.open(config) as core:
                project = await core.projects.create_project("Shop")
                body = sample_envelope(project.keys[0].public_key, project.id, line=1)
                await core.ingestor.ingest(IngestRequest(project_id=project.id, body=body))
                await anyio.sleep(0.2)
                assert (await core.storage.list_issues(project.id)).items

        anyio.run(main)
    """
    assert loaded_after(script.replace("EXAMPLES", repr(str(EXAMPLES)))) == []


def test_a_postgresql_database_loads_its_dialect_and_the_partial_index_predicate() -> None:
    """Opening a PostgreSQL URL (no connection is made) loads the dialect, and the partial
    index of real check-in ids gets its ``WHERE`` on PostgreSQL, as the migrations build it."""
    script = """
        from sqlalchemy.dialects import postgresql
        from sqlalchemy.schema import CreateIndex

        from resentry_core._storage._sql_db import Database
        from resentry_core._storage._tables import check_ins

        def unique_index() -> str:
            (index,) = [index for index in check_ins.indexes if index.unique]
            return str(CreateIndex(index).compile(dialect=postgresql.dialect()))

        assert "WHERE" not in unique_index()
        Database("postgresql://resentry@127.0.0.1/nothing")
        assert unique_index().endswith("WHERE check_in_id != '" + "0" * 32 + "'"), unique_index()
    """
    assert loaded_after(script) == ["sqlalchemy.dialects.postgresql"]


async def test_the_lazy_client_is_made_once_and_closed() -> None:
    lazy = LazyClient(timeout=3.0)
    assert not lazy.created
    await lazy.aclose()  # nothing made, nothing to close
    client = lazy.get()
    assert isinstance(client, httpx.AsyncClient)
    assert lazy.get() is client
    assert client.timeout == httpx.Timeout(3.0)
    assert not client.follow_redirects
    await lazy.aclose()
    assert client.is_closed
    assert not lazy.created
    assert lazy.get() is not client
    await lazy.aclose()
