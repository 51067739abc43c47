"""Two server processes on one PostgreSQL database, ingesting into the same issues at once.

Stateless server processes share one PostgreSQL (``docs/models.md``, PostgreSQL specifics):
counters stay exact under concurrent writers and a resent event is stored once, whichever
process receives it.
"""

import random
import secrets
import uuid
from collections import Counter
from pathlib import Path

import anyio
import httpx
import pytest

from resentry_core import Dsn
from resentry_core._models import Event
from resentry_core._storage._protocol import EventFilter
from tests.core.conftest import postgres_database_url
from tests.factories import error_envelope
from tests.server.conftest import StartLiveServer, run_cli, server_env

pytestmark = pytest.mark.postgres

__all__ = ["postgres_database_url"]  # the fixture, used by name below

GROUPS = 4  # distinct bugs, so distinct issues
EVENTS_PER_GROUP = 60
RESENT = 40  # events sent to both servers at the same time
CONCURRENCY = 24


async def test_two_processes_store_each_event_once_with_exact_counters(
    postgres_database_url: str, start_live_server: StartLiveServer, tmp_path: Path
) -> None:
    """Concurrent events (some sent to both processes) are stored once; times_seen is exact."""
    shared: dict[str, str] = {
        "RESENTRY_DATABASE_URL": postgres_database_url,
        "RESENTRY_SECRET_KEY": secrets.token_urlsafe(48),
    }
    migrated = run_cli(server_env(tmp_path / "cli", **shared), "migrate")
    assert migrated.returncode == 0, migrated.stderr
    servers = [start_live_server(data_dir=tmp_path / name, **shared) for name in ("a", "b")]
    project_id, dsn = servers[0].create_project("Shared")
    key = Dsn.parse(dsn).public_key

    sends: list[tuple[int, str, bytes]] = []  # (server index, event id, body)
    group_of: dict[str, int] = {}
    for group in range(GROUPS):
        for _ in range(EVENTS_PER_GROUP):
            event_id = uuid.uuid4().hex
            group_of[event_id] = group
            body = error_envelope(
                event_id, function=f"handler_{group}", lineno=random.randint(1, 500)
            )
            sends.append((len(sends) % 2, event_id, body))
    resent = random.sample(sends, RESENT)
    sends += [(1 - index, event_id, body) for index, event_id, body in resent]
    random.shuffle(sends)

    statuses: list[int] = []
    limiter = anyio.CapacityLimiter(CONCURRENCY)

    async def send(client: httpx.AsyncClient, index: int, body: bytes) -> None:
        async with limiter:
            response = await client.post(
                f"{servers[index].base_url}/api/{project_id}/envelope/",
                content=body,
                headers={"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7"},
            )
        statuses.append(response.status_code)

    async with httpx.AsyncClient(timeout=120) as client, anyio.create_task_group() as tg:
        for index, _, body in sends:
            tg.start_soon(send, client, index, body)
    assert Counter(statuses) == {200: len(sends)}

    async with servers[0].open_core() as core:
        events: list[Event] = []
        cursor = None
        while True:
            page = await core.storage.list_events(EventFilter(), cursor=cursor, limit=500)
            events += page.items
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert sorted(event.event_id for event in events) == sorted(group_of)
        issues = (await core.storage.list_issues(project_id, limit=500)).items
        assert len(issues) == GROUPS
        for issue in issues:
            members = [event for event in events if event.issue_id == issue.id]
            assert issue.times_seen == len(members) == EVENTS_PER_GROUP
            assert {group_of[event.event_id] for event in members} == {
                group_of[members[0].event_id]
            }
