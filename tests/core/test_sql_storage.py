"""SqlStorage beyond the shared contract: concurrency, faults, caching, PRAGMAs, the outbox.

Every test runs on SQLite (a file in WAL mode) and PostgreSQL.
"""

import functools
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import FrozenInstanceError, dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import pytest
from sqlalchemy import Connection, func, select, text

from resentry_core._errors import InvalidInputError, StorageError
from resentry_core._models import Issue
from resentry_core._projects import Projects
from resentry_core._records import PreparedEnvelope, Recorded
from resentry_core._storage import _sql, _sql_admin, _sql_db, _sql_prune, _sql_read, _sql_record
from resentry_core._storage._protocol import EventFilter
from resentry_core._storage._sql import SqlStorage
from resentry_core._storage._sql_db import Database, IntegrityConflictError
from resentry_core._storage._sql_notify_work import Outcome
from resentry_core._storage._sql_read import issue_from_row, slotted_from_row
from resentry_core._storage._sql_tx import Query, Tx, chunks
from resentry_core._storage._sqlite_checkpoint import WalCheckpointer
from resentry_core._storage._sqlite_memory import MEMORY_URL
from resentry_core._storage._tables import _utc_text, issues, metadata
from tests.core.conftest import open_sql_storage
from tests.core.records import (
    T0,
    at,
    attachment_envelope,
    check_in,
    check_in_envelope,
    error_envelope,
    feedback_envelope,
    log_envelope,
    log_record,
    new_id,
    session_envelope,
    session_update,
    transaction_envelope,
)


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: a fresh SQLite file, or an empty migrated PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sql.db'}"
    return str(request.getfixturevalue("migrated_postgres_url"))


@pytest.fixture
async def storage(url: str) -> AsyncIterator[SqlStorage]:
    """A migrated SqlStorage on ``url``."""
    store = await open_sql_storage(url)
    yield store
    await store.aclose()


async def row_counts(url: str) -> dict[str, int]:
    """The number of rows of every Resentry table, read through a connection of its own."""
    database = Database(url)
    try:
        return await database.read(
            lambda conn: {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in metadata.sorted_tables
            }
        )
    finally:
        await database.aclose()


async def record_all(storage: SqlStorage, envelopes: list[PreparedEnvelope]) -> list[Recorded]:
    """Record each envelope in its own concurrent call (its own transaction)."""
    results: list[Recorded] = []

    async def write(envelope: PreparedEnvelope) -> None:
        results.extend(await storage.record([envelope]))

    async with anyio.create_task_group() as group:
        for envelope in envelopes:
            group.start_soon(write, envelope)
    return results


async def test_500_concurrent_records_count_exactly(storage: SqlStorage) -> None:
    """500 concurrent single-envelope batches of one fingerprint make one issue seen 500 times."""
    project_id = (await Projects(storage).create_project("Busy")).id
    envelopes = [error_envelope(project_id, received_at=at(i)) for i in range(500)]
    results = await record_all(storage, envelopes)
    assert sum(result.new_issue for result in results) == 1
    assert not any(result.duplicate for result in results)
    [issue] = (await storage.list_issues(project_id)).items
    assert issue.times_seen == 500
    assert (issue.first_seen, issue.last_seen) == (at(0), at(499))
    assert issue.last_event_id == envelopes[-1].event_id
    page = await storage.list_events(EventFilter(issue_id=issue.id), limit=500)
    assert len(page.items) == 500


async def test_50_concurrent_resends_store_one_event(storage: SqlStorage, url: str) -> None:
    """The same event id recorded 50 times at once is stored once; 49 calls are duplicates."""
    project_id = (await Projects(storage).create_project("Resends")).id
    event_id = new_id()
    envelopes = [
        error_envelope(project_id, event_id=event_id, received_at=at(i)) for i in range(50)
    ]
    results = await record_all(storage, envelopes)
    assert sorted(result.duplicate for result in results) == [False] + [True] * 49
    [issue] = (await storage.list_issues(project_id)).items
    assert issue.times_seen == 1
    counts = await row_counts(url)
    assert (counts["envelopes"], counts["events"], counts["notification_outbox"]) == (1, 1, 1)


async def test_two_instances_keep_counters_exact(storage: SqlStorage, url: str) -> None:
    """Two SqlStorage instances on one database (two processes) count shared issues exactly."""
    project_id = (await Projects(storage).create_project("Shared")).id
    other = SqlStorage.from_url(url)
    try:
        batches: list[tuple[SqlStorage, list[PreparedEnvelope]]] = [
            (
                (storage, other)[writer % 2],
                [
                    error_envelope(project_id, fingerprint=f"fp{n % 3}", received_at=at(n))
                    for n in range(writer * 10, writer * 10 + 10)
                ],
            )
            for writer in range(20)
        ]

        async def write(target: SqlStorage, batch: list[PreparedEnvelope]) -> None:
            await target.record(batch)

        async with anyio.create_task_group() as group:
            for target, batch in batches:
                group.start_soon(write, target, batch)
    finally:
        await other.aclose()
    issues = (await storage.list_issues(project_id, sort="times_seen")).items
    assert sorted((issue.fingerprint, issue.times_seen) for issue in issues) == [
        ("fp0", 67),
        ("fp1", 67),
        ("fp2", 66),
    ]
    counts = await row_counts(url)
    assert (counts["issues"], counts["events"], counts["notification_outbox"]) == (3, 200, 3)


async def test_prune_goes_in_steps_with_exact_counters(
    storage: SqlStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backlog is pruned a few envelopes per transaction; ties on a timestamp go together,
    and after the last step every count is exact."""
    monkeypatch.setattr(_sql_prune, "PRUNE_STEP", 2)
    steps: list[tuple[int, bool]] = []
    real_step = _sql_prune.prune_step

    def step(tx: Tx, project_id: int, older_than: datetime) -> tuple[int, bool]:
        steps.append(real_step(tx, project_id, older_than))
        return steps[-1]

    monkeypatch.setattr(_sql, "prune_step", step)
    project_id = (await Projects(storage).create_project("Steps")).id
    old = [error_envelope(project_id, fingerprint="a", received_at=at(i)) for i in range(5)]
    tied = [error_envelope(project_id, fingerprint="b", received_at=at(10)) for _ in range(3)]
    kept = error_envelope(project_id, fingerprint="a", received_at=at(100))
    await storage.record([*old, *tied, kept])

    assert await storage.prune(project_id, at(50)) == 8
    assert [deleted for deleted, _ in steps] == [2, 2, 4, 0]  # at(4) with the 3 tied ones
    assert [done for _, done in steps] == [False, False, False, True]
    [issue] = (await storage.list_issues(project_id)).items
    assert (issue.fingerprint, issue.times_seen, issue.first_seen) == ("a", 1, at(100))
    assert [e.event_id for e in (await storage.list_events(EventFilter())).items] == [
        kept.events[0].event_id
    ]


async def test_failure_mid_batch_leaves_no_trace(
    storage: SqlStorage, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that fails after its envelopes and items were inserted writes nothing at all."""
    project_id = (await Projects(storage).create_project("Faulty")).id
    before = await row_counts(url)

    def explode(*args: object) -> None:
        raise RuntimeError("injected after the item insert")

    monkeypatch.setattr(_sql_record, "_insert_events", explode)
    batch = [
        error_envelope(project_id, attachments=[("a.bin", b"\x00" * 10)]),
        transaction_envelope(project_id),
        session_envelope(project_id, session_update("s1", seq=1)),
    ]
    with pytest.raises(RuntimeError, match="injected"):
        await storage.record(batch)
    assert await row_counts(url) == before
    monkeypatch.undo()
    assert not any(result.duplicate for result in await storage.record(batch))
    counts = await row_counts(url)
    assert (counts["envelopes"], counts["events"], counts["issues"]) == (3, 2, 1)


async def test_conflicting_batch_is_retried_once(
    storage: SqlStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A constraint conflict (a concurrent writer won) retries the batch once, then gives up."""
    project_id = (await Projects(storage).create_project("Retry")).id
    real = _sql_record.record_batch
    state = {"calls": 0, "failures": 1}

    def conflicting(tx: Tx, batch: Sequence[PreparedEnvelope]) -> list[Recorded]:
        state["calls"] += 1
        if state["calls"] <= state["failures"]:
            raise IntegrityConflictError("lost a race")
        return real(tx, batch)

    monkeypatch.setattr(_sql, "record_batch", conflicting)
    [recorded] = await storage.record([error_envelope(project_id)])
    assert not recorded.duplicate
    assert state["calls"] == 2
    state.update(calls=0, failures=2)
    with pytest.raises(StorageError, match="twice"):
        await storage.record([error_envelope(project_id)])
    assert state["calls"] == 2
    assert len((await storage.list_events(EventFilter())).items) == 1


async def test_revoked_key_is_rejected_at_once_by_the_same_instance(storage: SqlStorage) -> None:
    """A cached key answer is dropped when this instance revokes the key or adds one."""
    project = await Projects(storage).create_project("Keys")
    [key] = project.keys
    assert await storage.project_for_key(project.id, key.public_key) is not None
    await storage.revoke_key(project.id, key.id)
    assert await storage.project_for_key(project.id, key.public_key) is None
    new_key = await storage.create_key(project.id)
    found = await storage.project_for_key(project.id, new_key.public_key)
    assert found is not None
    assert [k.is_active for k in found.keys] == [False, True]


async def test_other_instances_changes_show_within_a_second(storage: SqlStorage, url: str) -> None:
    """Answers are cached for at most one second: another process's revoke shows after that."""
    project = await Projects(storage).create_project("Cached")
    [key] = project.keys
    assert await storage.project_for_key(project.id, key.public_key) is not None
    other = SqlStorage.from_url(url)
    try:
        await other.revoke_key(project.id, key.id)
    finally:
        await other.aclose()
    assert await storage.project_for_key(project.id, key.public_key) is not None  # cached
    await anyio.sleep(1.05)
    assert await storage.project_for_key(project.id, key.public_key) is None


async def test_notices_are_expanded_once_and_deliveries_leased(storage: SqlStorage) -> None:
    """New issues and regressions queue one notice each (transactions none); a notice is
    expanded into deliveries once, and a claimed delivery is not claimed again before its
    lease ends or it is given back."""
    project_id = (await Projects(storage).create_project("Notify")).id
    first = error_envelope(project_id, fingerprint="a", received_at=at(0))
    created, _ = await storage.record([first, error_envelope(project_id, fingerprint="a")])
    assert created.issue_id is not None
    await storage.record([transaction_envelope(project_id)])  # no issue, no notice
    now = datetime.now(UTC) + timedelta(seconds=1)
    window, lease = timedelta(minutes=10), timedelta(minutes=1)
    assert await storage.fan_out(10, now=now, window=window, app_notifiers=1) == 1
    assert await storage.fan_out(10, now=now, window=window, app_notifiers=1) == 0
    assert await storage.claim_deliveries(10, now=now, lease=lease) == []  # app: needs one
    [job] = await storage.claim_deliveries(10, now=now, lease=lease, app_notifiers=1)
    assert (job.delivery.reason, job.delivery.issue_id, job.delivery.event_id) == (
        "new_issue",
        created.issue_id,
        first.event_id,
    )
    assert job.issue is not None and job.issue.times_seen == 2
    later = now + timedelta(seconds=59)
    assert await storage.claim_deliveries(10, now=later, lease=lease, app_notifiers=1) == []
    await storage.release_deliveries([job.delivery.id], now=later)
    [again] = await storage.claim_deliveries(10, now=later, lease=lease, app_notifiers=1)
    assert (again.delivery.id, again.delivery.attempts) == (job.delivery.id, 1)
    await storage.settle_deliveries([Outcome(again.delivery.id, later)])
    assert (
        await storage.claim_deliveries(10, now=later + 2 * lease, lease=lease, app_notifiers=1)
        == []
    )

    await storage.set_issue_status(project_id, created.issue_id, "resolved")
    [regressed] = await storage.record([error_envelope(project_id, fingerprint="a")])
    assert regressed.regression
    after = datetime.now(UTC) + window + timedelta(seconds=1)
    assert await storage.fan_out(10, now=after, window=window, app_notifiers=1) == 1
    [notice] = await storage.claim_deliveries(10, now=after, lease=lease, app_notifiers=1)
    assert (notice.delivery.reason, notice.delivery.issue_id) == ("regression", created.issue_id)


async def test_delete_project_leaves_no_row_behind(storage: SqlStorage, url: str) -> None:
    """Deleting a project removes every row it owned, in every table, through the cascades."""
    keep = (await Projects(storage).create_project("Keep")).id
    await storage.record([error_envelope(keep)])
    empty = await row_counts(url)
    doomed = (await Projects(storage).create_project("Doomed")).id
    user = await storage.create_user("ana", "hash")
    await storage.add_member(doomed, user.id)
    event = error_envelope(doomed, attachments=[("a.bin", b"abc")])
    assert event.event_id is not None
    await storage.record(
        [
            event,
            attachment_envelope(doomed, event.event_id, "late.dmp", b"MDMP"),
            transaction_envelope(doomed),
            session_envelope(doomed, session_update("s", seq=1, status="exited")),
            check_in_envelope(doomed, check_in(new_id(), monitor_config={"schedule": "@daily"})),
            log_envelope(doomed, log_record("hello")),
            feedback_envelope(doomed),
        ]
    )
    await storage.delete_user(user.id)
    await storage.delete_project(doomed)
    assert await row_counts(url) == empty


async def test_prune_leaves_no_orphans(storage: SqlStorage, url: str) -> None:
    """Pruning deletes old envelopes' rows in every table and recounts the issues that remain."""
    project_id = (await Projects(storage).create_project("Old")).id
    old = [error_envelope(project_id, received_at=at(i)) for i in range(3)]
    new = error_envelope(project_id, received_at=at(100))
    await storage.record([*old, log_envelope(project_id, log_record("x"), received_at=at(1)), new])
    assert await storage.prune(project_id, at(50)) == 4
    counts = await row_counts(url)
    assert (counts["envelopes"], counts["envelope_items"], counts["events"]) == (1, 1, 1)
    assert (counts["logs"], counts["issues"]) == (0, 1)
    [issue] = (await storage.list_issues(project_id)).items
    assert (issue.times_seen, issue.first_seen, issue.last_event_id) == (1, at(100), new.event_id)


async def test_timestamps_with_offsets_order_and_come_back_utc(storage: SqlStorage) -> None:
    """Datetimes with any UTC offset are stored as instants: ordered right, returned as UTC."""
    project_id = (await Projects(storage).create_project("Zones")).id
    plus_two = timezone(timedelta(hours=2))
    early = error_envelope(project_id, received_at=datetime(2024, 5, 1, 13, 0, tzinfo=plus_two))
    late = error_envelope(project_id, received_at=datetime(2024, 5, 1, 11, 30, tzinfo=UTC))
    await storage.record([late, early])
    page = await storage.list_events(EventFilter(project_ids=(project_id,)))
    assert [event.event_id for event in page.items] == [late.event_id, early.event_id]
    assert page.items[1].received_at == datetime(2024, 5, 1, 11, 0, 0, tzinfo=UTC)
    assert all(event.received_at.tzinfo is UTC for event in page.items)
    since = datetime(2024, 5, 1, 13, 15, tzinfo=plus_two)  # 11:15 UTC
    filtered = await storage.list_events(EventFilter(since=since))
    assert [event.event_id for event in filtered.items] == [late.event_id]
    precise = T0 + timedelta(microseconds=123457)
    [recorded] = await storage.record([error_envelope(project_id, received_at=precise)])
    assert recorded.issue_id is not None
    issue = await storage.get_issue(project_id, recorded.issue_id)
    assert issue.last_seen == precise


async def test_events_of_many_projects_page_newest_first(storage: SqlStorage) -> None:
    """Listing every project's events (more projects than one UNION holds) walks all of them."""
    envelopes = []
    for number in range(130):
        project_id = (await Projects(storage).create_project(f"P{number}")).id
        envelopes.append(error_envelope(project_id, received_at=at(number % 7)))
    await storage.record(envelopes)
    seen: list[str] = []
    cursor = None
    while True:
        page = await storage.list_events(EventFilter(), cursor=cursor, limit=40)
        seen.extend(event.event_id for event in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    newest_first = sorted(
        range(130), key=lambda number: (number % 7, number), reverse=True
    )  # ties: the later recorded first
    assert seen == [envelopes[number].event_id for number in newest_first]


async def test_memoryview_payloads_are_stored_byte_exact(storage: SqlStorage) -> None:
    """Item payloads given as views into a request body are written and read back exactly."""
    project_id = (await Projects(storage).create_project("Views")).id
    envelope = error_envelope(project_id, attachments=[("a.bin", b"\x00\n\xff" * 700)])
    body = b"head" + bytes(envelope.items[1].payload) + b"tail"
    view = memoryview(body)[4:-4]
    envelope = replace(
        envelope, items=(envelope.items[0], replace(envelope.items[1], payload=view))
    )
    await storage.record([envelope])
    assert envelope.event_id is not None
    [attachment] = (await storage.get_event(project_id, envelope.event_id)).attachments
    _, data = await storage.get_attachment(project_id, attachment.id)
    assert data == bytes(view)
    assert isinstance(data, bytes)


async def test_json_values_survive_round_trip(storage: SqlStorage) -> None:
    """Tags, users and headers keep unicode and integers beyond 64 bits."""
    project_id = (await Projects(storage).create_project("Json")).id
    user = {"id": 2**70, "name": "Zoë 🐍", "nested": {"list": [1, 2.5, None, True]}}
    envelope = error_envelope(project_id, tags={"ключ": "значение"}, user=user)
    await storage.record([envelope])
    assert envelope.event_id is not None
    detail = await storage.get_event(project_id, envelope.event_id)
    assert detail.event.user == user
    assert detail.event.tags == {"ключ": "значение"}


async def test_driver_plans_convert_as_sqlalchemy_does(storage: SqlStorage) -> None:
    """The ingest statements compiled once and run on the driver (``Tx.select_in``,
    ``Tx.execute_many``) read and write the same values as SQLAlchemy's own execution, for
    ``IN`` lists longer than a chunk too."""
    project_id = (await Projects(storage).create_project("Plans")).id
    fingerprints = [f"fp{index:03}" for index in range(501)]
    await storage.record(
        [
            error_envelope(project_id, fingerprint=fingerprint, received_at=at(index))
            for index, fingerprint in enumerate(fingerprints)
        ]
    )
    columns = [issues.c[name] for name in _sql_record._StoredIssue._fields]
    wanted = [*fingerprints, "never-seen"]

    def compare(conn: Connection) -> None:
        tx = Tx(conn)
        through_plans = [
            row
            for chunk in chunks(wanted)
            for row in tx.select_in(_sql_record._ISSUES, {"project_id": project_id}, chunk)
        ]
        query = select(*columns).where(issues.c.project_id == project_id)
        through_sqlalchemy = conn.execute(query.order_by(issues.c.fingerprint)).all()
        assert through_plans == [tuple(row) for row in through_sqlalchemy]
        assert len(through_plans) == 501
        assert through_plans[0][3] == at(0)  # first_seen, UTC-aware
        first = through_plans[0]
        tx.execute_many(
            _sql_record._UPDATE_ISSUE,
            [
                {
                    "b_id": first[0],
                    "b_count": 2,
                    "b_first_seen": at(-5),
                    "b_last_seen": at(600),
                    "b_last_event_id": "e" * 32,
                    "b_level": "fatal",
                    "b_status": "resolved",
                }
            ],
        )
        updated = conn.execute(select(issues).where(issues.c.id == first[0])).one()
        assert (updated.times_seen, updated.first_seen, updated.last_seen) == (3, at(-5), at(600))
        assert (updated.last_event_id, updated.level, updated.status) == (
            "e" * 32,
            "fatal",
            "resolved",
        )

    await storage._db.write(compare)


async def test_queries_on_the_driver_read_as_sqlalchemy_does(storage: SqlStorage) -> None:
    """The read statements built once (``Query``, run by ``Tx.rows``: on SQLite's driver)
    bind and return the same values, under the same names, as SQLAlchemy's own execution:
    timestamps (a cursor bound, UTC-aware results), JSON, blobs, booleans and NULLs."""
    project = await Projects(storage).create_project("Queries")
    received = [at(index) for index in range(5)]
    await storage.record(
        [error_envelope(project.id, fingerprint="fp", received_at=when) for when in received]
    )
    [event] = (await storage.list_events(EventFilter(project_ids=(project.id,)), limit=1)).items
    [issue] = (await storage.list_issues(project.id)).items
    checks: list[tuple[Query, dict[str, Any]]] = [
        (_sql_read._EVENT, {"project_id": project.id, "event_id": event.event_id}),
        (_sql_read._ISSUE, {"project_id": project.id, "issue_id": issue.id}),
        (
            _sql_read._events_query(("since",), True),
            {
                "project_id": project.id,
                "since": at(1),
                "after_sort": at(3),
                "after_id": 10**9,
                "limit": 10,
            },
        ),
        (_sql_admin._PROJECT_KEYS, {"project_id": project.id}),
        (_sql_admin._ALL[0], {}),
    ]

    def compare(conn: Connection) -> None:
        tx = Tx(conn)
        for query, parameters in checks:
            through_query = tx.rows(query, parameters)
            through_sqlalchemy = conn.execute(query.statement, parameters).all()
            assert [tuple(row) for row in through_query] == [
                tuple(row) for row in through_sqlalchemy
            ]
            assert through_query
            assert through_query[0]._fields == through_sqlalchemy[0]._fields
        since = tx.rows(checks[2][0], checks[2][1])
        assert [row.received_at for row in since] == [at(3), at(2), at(1)]
        assert since[0].received_at.tzinfo is UTC
        assert tx.first(_sql_read._EVENT, checks[0][1]).payload  # the item's bytes

    await storage._db.read(compare)


async def test_query_with_an_unnamed_parameter_is_refused(storage: SqlStorage) -> None:
    """A ``Query`` names its parameters: a literal other than an integer (which SQLite's LIMIT
    … OFFSET 0 adds) would be frozen into the statement built once."""
    frozen = Query(select(issues).where(issues.c.title == "frozen"))
    if storage._db.is_sqlite:
        with pytest.raises(TypeError, match="unnamed parameter"):
            await storage._db.read(lambda conn: Tx(conn).rows(frozen, {}))
    else:  # SQLAlchemy executes the statement itself on PostgreSQL
        assert await storage._db.read(lambda conn: Tx(conn).rows(frozen, {})) == []


async def test_closed_storage_raises_storage_error(storage: SqlStorage) -> None:
    """After aclose every call raises StorageError."""
    await storage.aclose()
    with pytest.raises(StorageError):
        await storage.ping()
    with pytest.raises(StorageError):
        await storage.list_projects()


async def test_sqlite_pragmas_are_set_on_every_connection(tmp_path: Path) -> None:
    """SQLite connections use WAL (40 MB checkpoints), foreign keys, a 30 s busy timeout and
    synchronous=NORMAL."""
    database = Database(f"sqlite:///{tmp_path / 'p.db'}")
    names = ["journal_mode", "foreign_keys", "busy_timeout", "synchronous"]
    names += ["wal_autocheckpoint", "journal_size_limit"]
    both_open = threading.Barrier(2, timeout=10)  # two reads at once: two connections
    found: list[tuple[int, list[Any]]] = []

    def pragmas(conn: Connection) -> None:
        both_open.wait()
        values = [conn.execute(text(f"PRAGMA {name}")).scalar() for name in names]
        found.append((id(conn.connection.dbapi_connection), values))

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(database.read, pragmas)
            group.start_soon(database.read, pragmas)
    finally:
        await database.aclose()
    assert len({connection for connection, _ in found}) == 2
    for _, values in found:
        assert values == ["wal", 1, 30_000, 1, 10_000, 64 * 1024 * 1024]


def test_sqlite_new_file_opened_by_several_connections_at_once(tmp_path: Path) -> None:
    """Connections that switch a new file to WAL at the same moment all succeed: SQLite
    refuses all but one of them at once, without waiting, and they try again."""
    failures: list[sqlite3.Error] = []

    def open_connection(path: Path, together: threading.Barrier) -> None:
        connection = sqlite3.connect(path, check_same_thread=False)
        try:
            together.wait()
            _sql_db._sqlite_connect(connection, None)  # type: ignore[arg-type]
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        except sqlite3.Error as exc:
            failures.append(exc)
        finally:
            connection.close()

    for attempt in range(50):
        together = threading.Barrier(4, timeout=10)
        path = tmp_path / f"{attempt}.db"
        threads = [
            threading.Thread(target=open_connection, args=(path, together)) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []


async def test_sqlite_wal_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    """Committed pages reach the database file without a commit checkpointing them.

    2 MB is far below the commits' own autocheckpoint (~40 MB), so only the background
    thread can have copied them; it stops with the storage.
    """
    path = tmp_path / "wal.db"
    storage = await open_sql_storage(f"sqlite:///{path}")
    try:
        project_id = (await Projects(storage).create_project("Wal")).id
        before = path.stat().st_size
        await storage.record([error_envelope(project_id, attachments=[("big", b"x" * 2**21)])])
        for _ in range(200):  # up to 10 s
            if path.stat().st_size >= before + 2**21:
                break
            await anyio.sleep(0.05)
        assert path.stat().st_size >= before + 2**21
        assert any(t.name == "resentry-wal-checkpoint" for t in threading.enumerate())
    finally:
        await storage.aclose()
    assert not any(t.name == "resentry-wal-checkpoint" for t in threading.enumerate())


def test_sqlite_wal_restarts_under_continuous_commits(tmp_path: Path) -> None:
    """Commits closer together than a checkpoint takes leave no moment when the log is fully
    copied, so a passive checkpoint alone never lets it restart: it grew until a commit's own
    autocheckpoint (~40 MB, off here) copied the rest, pausing that commit. The background
    thread restarts it, and the log stays a fraction of what was written."""
    path = tmp_path / "busy.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA synchronous = NORMAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("PRAGMA busy_timeout = 5000")
    writer.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)")
    checkpointer = WalCheckpointer(str(path), interval=0.02)
    checkpointer.start()
    largest = 0
    try:
        for index in range(640):  # 40 MiB in 64 KiB commits
            writer.execute("INSERT INTO blobs (data) VALUES (?)", (bytes([index % 256]) * 2**16,))
            largest = max(largest, (tmp_path / "busy.db-wal").stat().st_size)
            time.sleep(0.0002)  # as an ingest loop between batches: shorter than any copy
    finally:
        checkpointer.stop()
        writer.close()
    assert largest < 2**24


async def test_sqlite_batch_waits_off_the_event_loop_for_another_writer(tmp_path: Path) -> None:
    """Batches run on the event loop, except when another process holds the write lock:
    then the batch waits for it in a worker thread while the loop keeps running."""
    path = tmp_path / "locked.db"
    storage = await open_sql_storage(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        project_id = (await Projects(storage).create_project("Locked")).id
        other.execute("BEGIN IMMEDIATE")  # another process's write transaction
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await anyio.sleep(0.01)

        async with anyio.create_task_group() as group:
            group.start_soon(tick)
            group.start_soon(storage.record, [error_envelope(project_id)])
            await anyio.sleep(0.3)
            assert not (await storage.list_events(EventFilter())).items
            ticks_while_locked = ticks
            other.execute("COMMIT")
            for _ in range(1000):  # up to 10 s
                if (await storage.list_events(EventFilter())).items:
                    break
                await anyio.sleep(0.01)
            group.cancel_scope.cancel()
        assert ticks_while_locked >= 10  # the loop ran while the batch waited
        assert len((await storage.list_events(EventFilter())).items) == 1
    finally:
        other.close()
        await storage.aclose()


async def test_sqlite_batch_retries_on_the_loop_while_the_lock_is_briefly_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write lock taken for a moment (the checkpointer's RESTART) does not send the batch to
    a worker thread, where SQLite's busy handler sleeps in steps of up to 10 ms: the batch
    tries again on the event loop and runs there once the lock is free."""
    monkeypatch.setattr(_sql_db, "_INLINE_RETRY_SECONDS", (0.05, 0.1, 0.2, 0.4, 0.8))
    path = tmp_path / "briefly.db"
    database = Database(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    ran_on: list[threading.Thread] = []

    def write(conn: Connection) -> None:
        ran_on.append(threading.current_thread())
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")

    try:
        await database.write(lambda conn: conn.exec_driver_sql("CREATE TABLE t (x)"))
        other.execute("BEGIN IMMEDIATE")
        async with anyio.create_task_group() as group:
            group.start_soon(functools.partial(database.write, write, inline=True))
            await anyio.sleep(0.01)
            assert not ran_on  # tried once, found the lock taken, pausing on the loop
            other.execute("COMMIT")
        assert ran_on == [threading.current_thread()]
        count = await database.read(
            lambda conn: conn.exec_driver_sql("SELECT count(*) FROM t").scalar()
        )
        assert count == 1
    finally:
        other.close()
        await database.aclose()


async def test_sqlite_writers_in_two_instances_wait_instead_of_failing(tmp_path: Path) -> None:
    """Two instances (two processes' worth of engines) writing at once never hit SQLITE_BUSY."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    first = await open_sql_storage(url)
    second = SqlStorage.from_url(url)
    try:
        project_id = (await Projects(first).create_project("Busy")).id
        envelopes = [error_envelope(project_id, received_at=at(i)) for i in range(200)]

        async def write(index: int) -> None:
            await (first, second)[index % 2].record([envelopes[index]])

        async with anyio.create_task_group() as group:
            for index in range(200):
                group.start_soon(write, index)
        [issue] = (await first.list_issues(project_id)).items
        assert issue.times_seen == 200
    finally:
        await first.aclose()
        await second.aclose()


async def test_in_memory_sqlite_serves_concurrent_calls() -> None:
    """A private in-memory SQLite database shares one connection safely between tasks."""
    storage = SqlStorage.from_url("sqlite://")
    try:
        await storage.migrate()
        project_id = (await Projects(storage).create_project("Memory")).id
        envelopes = [error_envelope(project_id, received_at=at(i)) for i in range(30)]

        async def read() -> None:
            await storage.list_issues(project_id)

        async with anyio.create_task_group() as group:
            for envelope in envelopes:
                group.start_soon(storage.record, [envelope])
                group.start_soon(read)
        [issue] = (await storage.list_issues(project_id)).items
        assert issue.times_seen == 30
    finally:
        await storage.aclose()


async def test_each_memory_storage_is_a_database_of_its_own() -> None:
    """Two ``memory://`` storages share nothing, and the schema needs no migration."""
    first, second = SqlStorage.from_url(MEMORY_URL), SqlStorage.from_url(MEMORY_URL)
    try:
        project = await Projects(first).create_project("Only here")
        assert await second.list_projects() == []
        assert [p.id for p in await first.list_projects()] == [project.id]
        assert (await Projects(second).create_project("Also first")).id == project.id
    finally:
        await first.aclose()
        await second.aclose()


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "2026-01-02 03:04:05.000006"),
        (datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))), "2026-01-02 03:04:05"),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(0))), "2026-01-02 03:04:05"),
        (datetime(9, 1, 2, 3, 4, 5, tzinfo=UTC), "0009-01-02 03:04:05"),
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02 03:04:05"),  # naive: taken as UTC
    ],
)
def test_sqlite_timestamps_are_stored_as_utc_text(value: datetime, stored: str) -> None:
    """SQLite keeps timestamps as sortable UTC text with microseconds and no offset."""
    expected = stored if "." in stored else f"{stored}.000000"
    assert _utc_text(value) == expected


@pytest.mark.parametrize("bad", ["not a url", "mysql://user@host/db", "mssql+pyodbc://h/db"])
def test_unusable_urls_are_invalid_input(bad: str) -> None:
    """Malformed or non-SQLite/PostgreSQL URLs are rejected when the storage is built."""
    with pytest.raises(InvalidInputError):
        SqlStorage.from_url(bad)


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///resentry.db", "sqlite+pysqlite"),
        ("sqlite+aiosqlite:///resentry.db", "sqlite+pysqlite"),
        ("postgresql://u:p@db/resentry", "postgresql+asyncpg"),
        ("postgres://u:p@db/resentry", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u:p@db/resentry", "postgresql+asyncpg"),
    ],
)
async def test_urls_get_their_drivers(given: str, driver: str) -> None:
    """SQLite always runs on sqlite3 (aiosqlite URLs too); PostgreSQL on asyncpg."""
    database = Database(given)
    try:
        assert database.url.drivername == driver
    finally:
        await database.aclose()


async def test_unreachable_database_is_a_storage_error(tmp_path: Path) -> None:
    """Building a storage does no I/O; using an unreachable database raises StorageError."""
    for url in (
        "postgresql://nobody:secret@127.0.0.1:1/nothing",
        f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}",
    ):
        storage = SqlStorage.from_url(url)
        with pytest.raises(StorageError):
            await storage.ping()
        await storage.aclose()


def test_rows_build_issues_equal_to_the_constructors() -> None:
    """``slotted_from_row`` (the fast path of ``issue_from_row``) fills every field, as
    ``Issue(...)`` does, and refuses a class it cannot fill that way."""
    now = datetime.now(UTC)
    values = {
        "id": 7,
        "project_id": 2,
        "fingerprint": "fp",
        "title": "ZeroDivisionError",
        "culprit": "billing in ratio",
        "level": "error",
        "status": "resolved",
        "first_seen": now,
        "last_seen": now,
        "times_seen": 3,
        "last_event_id": "a" * 32,
    }
    row = SimpleNamespace(**values, extra="a column the issue has no field for")
    built = issue_from_row(row)
    assert built == Issue(**values)  # type: ignore[arg-type]
    with pytest.raises(FrozenInstanceError):
        built.title = "changed"  # type: ignore[misc]
    with pytest.raises(InvalidInputError):
        issue_from_row(SimpleNamespace(**{**values, "status": "gone"}))

    @dataclass(frozen=True)
    class Unslotted:
        id: int

    with pytest.raises(TypeError):
        slotted_from_row(Unslotted)
