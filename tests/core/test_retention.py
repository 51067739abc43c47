"""Retention: projects with ``retention_days`` lose older envelopes, in the background."""

import logging
from datetime import datetime, timedelta
from functools import partial

import anyio
import pytest

from resentry_core._clock import utc_now
from resentry_core._config import CoreConfig
from resentry_core._errors import StorageError
from resentry_core._projects import Projects
from resentry_core._resentry import Resentry
from resentry_core._retention import enforce_retention, sweep
from resentry_core._storage._protocol import EventFilter, Storage
from tests.core.records import T0, error_envelope

SECRET = "s" * 48


async def _event_ids(storage: Storage, project_id: int) -> set[str]:
    page = await storage.list_events(EventFilter(project_ids=(project_id,)))
    return {event.event_id for event in page.items}


async def test_sweep_prunes_only_what_is_past_each_projects_retention(storage: Storage) -> None:
    """Kept: the recent envelopes, and every envelope of projects without retention_days."""
    week = await Projects(storage).create_project("Week", retention_days=7)
    forever = await Projects(storage).create_project("Forever")
    old = error_envelope(week.id, received_at=T0)
    recent = error_envelope(week.id, received_at=T0 + timedelta(days=5))
    kept = error_envelope(forever.id, received_at=T0)
    await storage.record([old, recent, kept])

    assert await sweep(storage, T0 + timedelta(days=10)) == 1
    assert await _event_ids(storage, week.id) == {recent.events[0].event_id}
    assert await _event_ids(storage, forever.id) == {kept.events[0].event_id}
    assert await sweep(storage, T0 + timedelta(days=10)) == 0  # idempotent


async def test_a_failing_project_does_not_stop_the_others(
    storage: Storage, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """One project's prune failing is logged; the sweep goes on with the next."""
    broken = await Projects(storage).create_project("Broken", retention_days=1)
    fine = await Projects(storage).create_project("Fine", retention_days=1)
    await storage.record([error_envelope(fine.id, received_at=T0)])
    real_prune = storage.prune

    async def prune(project_id: int, older_than: datetime) -> int:
        if project_id == broken.id:
            raise StorageError("disk on fire")
        return await real_prune(project_id, older_than)

    monkeypatch.setattr(storage, "prune", prune)
    with caplog.at_level(logging.WARNING, logger="resentry_core._retention"):
        assert await sweep(storage, T0 + timedelta(days=2)) == 1
    assert f"pruning project {broken.id} failed: disk on fire" in caplog.text
    assert await _event_ids(storage, fine.id) == set()


async def test_enforce_retention_sweeps_at_once_and_then_periodically(storage: Storage) -> None:
    """The first sweep runs at start; later envelopes are pruned by the next ones."""
    project = await Projects(storage).create_project("Daily", retention_days=1)
    now = [T0 + timedelta(days=3)]
    await storage.record([error_envelope(project.id, received_at=T0)])
    async with anyio.create_task_group() as group:
        group.start_soon(
            partial(enforce_retention, clock=lambda: now[0]), storage, timedelta(seconds=0.01)
        )
        for _ in range(500):
            if not await _event_ids(storage, project.id):
                break
            await anyio.sleep(0.01)
        assert await _event_ids(storage, project.id) == set()
        await storage.record([error_envelope(project.id, received_at=now[0])])
        now[0] += timedelta(days=2)
        for _ in range(500):
            if not await _event_ids(storage, project.id):
                break
            await anyio.sleep(0.01)
        group.cancel_scope.cancel()
    assert await _event_ids(storage, project.id) == set()


@pytest.mark.parametrize("interval", [timedelta(hours=1), None])
async def test_open_core_enforces_retention_unless_disabled(
    storage: Storage, interval: timedelta | None
) -> None:
    """``Resentry.open`` sweeps at start when ``retention_interval`` is set, never when None."""
    project = await Projects(storage).create_project("Open", retention_days=7)
    stale = error_envelope(project.id, received_at=utc_now() - timedelta(days=30))
    fresh = error_envelope(project.id, received_at=utc_now())
    await storage.record([stale, fresh])
    config = CoreConfig(database_url="memory://", secret_key=SECRET, retention_interval=interval)
    async with Resentry.open(config, storage=storage):
        expected = {fresh.events[0].event_id}
        if interval is None:
            expected.add(stale.events[0].event_id)
        for _ in range(500):
            if await _event_ids(storage, project.id) == expected:
                break
            await anyio.sleep(0.01)
        await anyio.sleep(0.05)  # a disabled sweep would have had time to run
        assert await _event_ids(storage, project.id) == expected
