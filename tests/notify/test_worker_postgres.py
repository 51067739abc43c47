"""Several workers on one PostgreSQL database share the work and deliver each notice once."""

import anyio
import anyio.lowlevel
import pytest

from resentry_core import Projects, SqlStorage, Worker
from tests.core.conftest import open_sql_storage
from tests.core.records import error_envelope
from tests.notify.worker_helpers import Clock, Recorder, config, worker_on

ISSUES = 120


async def rounds_until_done(worker: Worker, *recorders: Recorder) -> None:
    """Run rounds (idle ones too) until every notification arrived; at most a minute."""
    with anyio.fail_after(60):
        while sum(len(recorder.received) for recorder in recorders) < ISSUES:
            await worker.run_once()
            await anyio.lowlevel.checkpoint()


@pytest.mark.postgres
async def test_two_workers_deliver_each_notification_exactly_once(
    migrated_postgres_url: str,
) -> None:
    """Two workers (each with its own connection pool) racing over 120 new issues, each send
    taking a while: every notification is delivered, none twice, and both did some."""
    first, second = Recorder(delay=0.05), Recorder(delay=0.05)
    stores: list[SqlStorage] = [await open_sql_storage(migrated_postgres_url) for _ in range(2)]
    try:
        project = await Projects(stores[0]).create_project("Shop")
        await stores[0].record(
            [error_envelope(project.id, fingerprint=f"fp{n}") for n in range(ISSUES)]
        )
        core = config(migrated_postgres_url)
        clock = Clock()
        async with (
            worker_on(stores[0], core, clock, [first]) as one,
            worker_on(stores[1], core, clock, [second]) as two,
            anyio.create_task_group() as group,
        ):
            for worker in (one, two, one, two):
                group.start_soon(rounds_until_done, worker, first, second)
        keys = [n.key for n in (*first.received, *second.received)]
        assert len(keys) == ISSUES
        assert len(set(keys)) == ISSUES
        assert first.received and second.received  # both did some of the work
        log = (await stores[0].list_deliveries(project.id, limit=100)).items
        assert {(entry.status, entry.attempts) for entry in log} == {("delivered", 1)}
    finally:
        for store in stores:
            await store.aclose()
