"""The hourly event counts (``event_hours``) equal counts over the stored events, on SQLite and
PostgreSQL: after any sequence of batches, after pruning in steps, and after migration 0004
fills them from events stored before it."""

import itertools
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select, text, update

from resentry_core._records import PreparedEnvelope
from resentry_core._storage import _sql_prune
from resentry_core._storage._sql import SqlStorage
from resentry_core._storage._sql_db import Database
from resentry_core._storage._sql_rollup import PROJECT_TOTAL, floor
from resentry_core._storage._tables import event_hours, events
from tests.core.conftest import open_sql_storage
from tests.core.records import T0, error_envelope, feedback_envelope, transaction_envelope

EVENT_IDS = [f"{index:032x}" for index in range(1, 13)]  # a small pool, so ids repeat
_SLUGS = itertools.count()  # a new project per example: the database is the fixture's
Hours = dict[tuple[int, datetime], int]  # (issue id or PROJECT_TOTAL, hour) -> events


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database: a SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rollup.db'}"
    return str(request.getfixturevalue("migrated_postgres_url"))


@pytest.fixture
async def store(url: str) -> AsyncIterator[SqlStorage]:
    """SqlStorage on ``url``, migrated."""
    storage = await open_sql_storage(url)
    yield storage
    await storage.aclose()


@dataclass(frozen=True, slots=True)
class Sent:
    """One envelope: which pooled event id, what kind, received how many minutes after T0."""

    event_index: int
    kind: str  # a fingerprint, "transaction" or "feedback"
    minute: int


sent = st.builds(
    Sent,
    event_index=st.integers(0, len(EVENT_IDS) - 1),
    kind=st.sampled_from(["fp0", "fp1", "fp2", "transaction", "feedback"]),
    minute=st.integers(0, 3 * 24 * 60).map(lambda minute: minute - minute % 20),
)
batches = st.lists(st.lists(sent, min_size=1, max_size=5), min_size=1, max_size=4)


def _envelope(project_id: int, item: Sent) -> PreparedEnvelope:
    event_id = EVENT_IDS[item.event_index]
    received_at = T0 + timedelta(minutes=item.minute)
    if item.kind == "transaction":
        return transaction_envelope(project_id, event_id=event_id, received_at=received_at)
    if item.kind == "feedback":
        return feedback_envelope(project_id, event_id=event_id, received_at=received_at)
    return error_envelope(
        project_id, event_id=event_id, fingerprint=item.kind, received_at=received_at
    )


def _stored_hours(conn: Connection, project_id: int) -> Hours:
    rows = conn.execute(
        select(event_hours.c.issue_id, event_hours.c.hour, event_hours.c.count).where(
            event_hours.c.project_id == project_id
        )
    )
    return {(issue_id, hour): count for issue_id, hour, count in rows}


def _counted_hours(conn: Connection, project_id: int) -> Hours:
    """The same counts, computed from the events table."""
    counts: Counter[tuple[int, datetime]] = Counter()
    rows = conn.execute(
        select(events.c.issue_id, events.c.received_at).where(events.c.project_id == project_id)
    )
    for issue_id, received_at in rows:
        counts[PROJECT_TOTAL, floor(received_at)] += 1
        if issue_id is not None:
            counts[issue_id, floor(received_at)] += 1
    return dict(counts)


async def _assert_exact(store: SqlStorage, project_id: int) -> Hours:
    stored = await store._db.read(lambda conn: _stored_hours(conn, project_id))
    assert stored == await store._db.read(lambda conn: _counted_hours(conn, project_id))
    return stored


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sends=batches,
    cutoff=st.integers(0, 3 * 24 * 60),
    step=st.sampled_from([1, 3, _sql_prune.PRUNE_STEP]),
)
async def test_counts_equal_the_events_after_batches_and_pruning(
    url: str, sends: list[list[Sent]], cutoff: int, step: int
) -> None:
    """Whatever the batches (duplicates, transactions and feedback among them), every hour's
    count is the number of stored events of its issue (or project) received in it; pruning
    in steps of any size, ending inside an hour, keeps them so and drops emptied hours."""
    store = await open_sql_storage(url)
    try:
        project = await store.create_project("p", slug=f"p-{next(_SLUGS)}")
        for batch in sends:
            await store.record([_envelope(project.id, item) for item in batch])
        before = await _assert_exact(store, project.id)
        assert sum(count for (issue_id, _), count in before.items() if not issue_id) == len(
            {item.event_index for batch in sends for item in batch}
        )
        with mock.patch.object(_sql_prune, "PRUNE_STEP", step):
            await store.prune(project.id, T0 + timedelta(minutes=cutoff))
        after = await _assert_exact(store, project.id)
        assert all(count > 0 for count in after.values())
    finally:
        await store.aclose()


async def test_histograms_read_the_counts(store: SqlStorage) -> None:
    """A page of issues gets its daily sparklines, and a project its hourly one, from the
    stored counts: changing a count changes what the histograms report."""
    project = await store.create_project("shop", slug="shop")
    await store.record(
        [
            error_envelope(project.id, fingerprint="a", received_at=T0),
            error_envelope(project.id, fingerprint="b", received_at=T0 + timedelta(days=1)),
        ]
    )
    ids = {issue.fingerprint: issue.id for issue in (await store.list_issues(project.id)).items}
    until = T0 + timedelta(days=1)
    daily = await store.issue_histograms(
        project.id, [ids["a"], ids["b"]], until=until, unit="day", buckets=2
    )
    assert daily == {ids["a"]: (1, 0), ids["b"]: (0, 1)}
    await store._db.write(
        lambda conn: conn.execute(
            update(event_hours).where(event_hours.c.issue_id == ids["a"]).values(count=7)
        )
    )
    daily = await store.issue_histograms(project.id, [ids["a"]], until=until, unit="day", buckets=2)
    assert daily == {ids["a"]: (7, 0)}
    hourly = await store.project_histograms([project.id], until=until, unit="hour", buckets=25)
    assert hourly[project.id] == (1, *[0] * 23, 1)


async def test_deleting_a_project_deletes_its_counts(store: SqlStorage) -> None:
    """The counts go with their project (a foreign key cascade)."""
    gone = await store.create_project("gone", slug="gone")
    kept = await store.create_project("kept", slug="kept")
    await store.record([error_envelope(gone.id), error_envelope(kept.id)])
    await store.delete_project(gone.id)
    assert await store._db.read(lambda conn: _stored_hours(conn, gone.id)) == {}
    assert len(await _assert_exact(store, kept.id)) == 2


async def test_migration_0004_counts_the_stored_events(url: str) -> None:
    """Upgrading from 0003 fills the counts from the events already stored, across several
    id ranges (the backfill's batches), exactly as ``record`` would have."""
    store = await open_sql_storage(url)
    try:
        projects = [await store.create_project(name, slug=name) for name in ("one", "two")]
        for project in projects:
            await store.record(
                [
                    _envelope(project.id, Sent(index, kind, index * 47))
                    for index, kind in enumerate(["fp0", "fp1", "transaction", "fp0", "feedback"])
                ]
            )
        recorded = [await _assert_exact(store, project.id) for project in projects]
        database: Database = store._db
        await database.migrate("0003", downgrade=True)
        # Spread the ids so that every event falls in a backfill batch of its own.
        await database.write(lambda conn: conn.execute(text("UPDATE events SET id = id * 150000")))
        await database.migrate()
        assert [await _assert_exact(store, project.id) for project in projects] == recorded
    finally:
        await store.aclose()
