"""Storage contract, as properties: issue counters stay exact under any sequence of batches.

Runs on SQLite in memory and on disk with a fresh storage per example (PostgreSQL gets the
example-based suite; a database per example would be too slow here).
"""

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resentry_core._projects import Projects
from resentry_core._records import PreparedEnvelope
from resentry_core._storage._protocol import EventFilter, Storage
from resentry_core._storage._sqlite_memory import MEMORY_URL
from tests.core.conftest import open_sql_storage
from tests.core.records import at, error_envelope, transaction_envelope

EVENT_IDS = [f"{index:032x}" for index in range(1, 9)]  # a small pool, so ids repeat
FINGERPRINTS = ["fp0", "fp1", "fp2"]


@dataclass(frozen=True, slots=True)
class Sent:
    """One envelope sent: which pooled event id, grouped how, received when."""

    event_index: int
    fingerprint: str | None  # None: a transaction
    second: int


sent = st.builds(
    Sent,
    event_index=st.integers(0, len(EVENT_IDS) - 1),
    fingerprint=st.sampled_from([*FINGERPRINTS, None]),
    second=st.integers(0, 5),
)
batches = st.lists(st.lists(sent, min_size=1, max_size=4), min_size=1, max_size=4)


@asynccontextmanager
async def _fresh(backend: str) -> AsyncIterator[Storage]:
    with tempfile.TemporaryDirectory() as directory:
        url = MEMORY_URL if backend == "sqlite-memory" else f"sqlite:///{Path(directory) / 'p.db'}"
        storage = await open_sql_storage(url)
        try:
            yield storage
        finally:
            await storage.aclose()


def _envelope(project_id: int, item: Sent) -> PreparedEnvelope:
    event_id = EVENT_IDS[item.event_index]
    if item.fingerprint is None:
        return transaction_envelope(project_id, event_id=event_id, received_at=at(item.second))
    return error_envelope(
        project_id, event_id=event_id, fingerprint=item.fingerprint, received_at=at(item.second)
    )


def _expected(stored: list[tuple[str, Sent]], cutoff: int | None) -> dict[str, tuple[int, ...]]:
    """Per fingerprint: (times_seen, first second, last second, index of the last event)."""
    expected: dict[str, tuple[int, ...]] = {}
    for order, (_, item) in enumerate(stored):
        if item.fingerprint is None or (cutoff is not None and item.second < cutoff):
            continue
        count, first, last, last_order = expected.get(item.fingerprint, (0, 99, -1, -1))
        newest = item.second >= last
        expected[item.fingerprint] = (
            count + 1,
            min(first, item.second),
            max(last, item.second),
            order if newest else last_order,
        )
    return expected


@pytest.mark.parametrize("backend", ["sqlite-memory", "sqlite"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=batches, cutoff=st.none() | st.integers(0, 6))
async def test_issue_counters_match_stored_events(
    backend: str, batches: list[list[Sent]], cutoff: int | None
) -> None:
    """For every issue, times_seen/first_seen/last_seen/last_event_id match its stored events.

    Resent event ids are stored once (the first wins), transactions never count, the counts
    add up to the number of distinct grouped events, and all of it still holds after a prune.
    """
    async with _fresh(backend) as storage:
        project_id = (await Projects(storage).create_project("Props")).id
        stored: list[tuple[str, Sent]] = []
        for batch in batches:
            results = await storage.record([_envelope(project_id, item) for item in batch])
            for item, result in zip(batch, results, strict=True):
                event_id = EVENT_IDS[item.event_index]
                is_new = all(event_id != seen for seen, _ in stored)
                assert result.duplicate is not is_new
                if is_new:
                    stored.append((event_id, item))
        if cutoff is not None:
            await storage.prune(project_id, at(cutoff))

        expected = _expected(stored, cutoff)
        issues = (await storage.list_issues(project_id, limit=500)).items
        actual = {
            issue.fingerprint: (
                issue.times_seen,
                int((issue.first_seen - at(0)).total_seconds()),
                int((issue.last_seen - at(0)).total_seconds()),
                next(order for order, (eid, _) in enumerate(stored) if eid == issue.last_event_id),
            )
            for issue in issues
        }
        assert actual == expected

        events = (await storage.list_events(EventFilter(), limit=500)).items
        remaining = [item for _, item in stored if cutoff is None or item.second >= cutoff]
        assert len(events) == len(remaining)
        grouped = [event for event in events if event.issue_id is not None]
        assert sum(issue.times_seen for issue in issues) == len(grouped)
        by_issue = {issue.id: issue for issue in issues}
        for event in grouped:
            assert event.issue_id is not None
            assert by_issue[event.issue_id].fingerprint == dict(stored)[event.event_id].fingerprint
