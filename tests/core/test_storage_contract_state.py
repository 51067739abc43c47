"""Every backend: rollback of failed writes, no aliasing, closing; cursors and slugs."""

import base64
import json
import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, select

from resentry_core._errors import InvalidInputError, StorageError
from resentry_core._projects import Projects
from resentry_core._rules import slugify
from resentry_core._storage import _sql_prune, _sql_record
from resentry_core._storage._cursor import (
    decode_cursor,
    encode_cursor,
    time_from_key,
    time_key,
)
from resentry_core._storage._protocol import Storage
from resentry_core._storage._sql import SqlStorage
from resentry_core._storage._sqlite_memory import MEMORY_URL
from resentry_core._storage._tables import metadata
from tests.core.records import (
    at,
    check_in,
    check_in_envelope,
    error_envelope,
    log_envelope,
    log_record,
    new_id,
    session_envelope,
    session_update,
)

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def _tables(conn: Connection) -> dict[str, object]:
    return {
        table.name: sorted(tuple(row) for row in conn.execute(select(table)).all())
        for table in metadata.sorted_tables
    }


async def _snapshot(storage: Storage) -> dict[str, object]:
    """Every table's rows (id sequences, which SQL never rolls back, may move on)."""
    assert isinstance(storage, SqlStorage)
    return await storage._db.read(_tables)


async def _seeded(storage: Storage) -> tuple[int, str]:
    project_id = (await Projects(storage).create_project("App")).id
    check_in_id = new_id()
    await storage.record(
        [
            error_envelope(project_id, received_at=at(1)),
            session_envelope(project_id, session_update("s1", seq=1, init=True)),
            check_in_envelope(project_id, check_in(check_in_id, status="in_progress")),
        ]
    )
    return project_id, check_in_id


def test_sql_storage_satisfies_the_protocol() -> None:
    """SqlStorage is a Storage structurally (mypy checks this assignment)."""
    store: Storage = SqlStorage.from_url(MEMORY_URL)
    assert callable(store.record)


async def test_failed_batch_rolls_back_everything(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch failing in its last step leaves every table exactly as before."""
    project_id, check_in_id = await _seeded(storage)
    before = await _snapshot(storage)
    real = _sql_record._insert_outbox
    calls = 0

    def fail_after_the_last_step(*args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(_sql_record, "_insert_outbox", fail_after_the_last_step)
    second = replace(
        error_envelope(project_id, received_at=at(3), fingerprint="new"),
        sessions=(session_update("s1", seq=2, status="exited"),),
        check_ins=(check_in(check_in_id, status="ok", timestamp=at(3)),),
        logs=(log_record("x"),),
    )
    batch = [error_envelope(project_id, received_at=at(2)), second]
    with pytest.raises(RuntimeError, match="disk on fire"):
        await storage.record(batch)
    assert calls == 1
    assert await _snapshot(storage) == before
    monkeypatch.undo()
    recorded = await storage.record(batch)
    assert [r.duplicate for r in recorded] == [False, False]


async def test_failed_prune_rolls_back(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    """A prune failing after its deletes leaves every table as it was."""
    project_id, _ = await _seeded(storage)
    await storage.record([log_envelope(project_id, log_record("old"), received_at=at(0))])
    before = await _snapshot(storage)

    def explode(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(_sql_prune, "_recount_issues", explode)
    with pytest.raises(RuntimeError):
        await storage.prune(project_id, at(100))
    assert await _snapshot(storage) == before


async def test_values_do_not_alias_the_state(storage: Storage) -> None:
    """Mutating what was passed in, or what came back, changes nothing stored."""
    project_id = (await Projects(storage).create_project("App")).id
    tags = {"a": "1"}
    user: dict[str, object] = {"id": "u1", "data": {"roles": ["admin"]}}
    envelope = error_envelope(project_id, tags=tags, user=user)
    await storage.record([envelope])
    tags["a"] = "changed"
    user["data"] = None
    assert envelope.event_id is not None
    event = (await storage.get_event(project_id, envelope.event_id)).event
    assert event.tags == {"a": "1"}
    assert event.user == {"id": "u1", "data": {"roles": ["admin"]}}
    assert isinstance(event.user, dict)
    event.user["data"]["roles"].append("root")
    assert isinstance(event.tags, dict)
    event.tags["b"] = "2"
    again = (await storage.get_event(project_id, envelope.event_id)).event
    assert again.tags == {"a": "1"}
    assert again.user == {"id": "u1", "data": {"roles": ["admin"]}}


async def test_closed_storage_raises_storage_error(storage: Storage) -> None:
    """After ``aclose`` every call raises StorageError."""
    await Projects(storage).create_project("App")
    await storage.aclose()
    with pytest.raises(StorageError):
        await storage.ping()
    with pytest.raises(StorageError):
        await storage.list_projects()
    with pytest.raises(StorageError):
        await storage.create_user("x", "y")


@given(kind=st.text(string.ascii_letters + ":_", max_size=20), sort_key=INT64, row_id=INT64)
def test_cursor_round_trips(kind: str, sort_key: int, row_id: int) -> None:
    """A cursor decodes to what it encodes, only for its own kind."""
    cursor = encode_cursor(kind, sort_key, row_id)
    assert cursor.isascii()
    assert decode_cursor(cursor, kind) == (sort_key, row_id)
    with pytest.raises(InvalidInputError):
        decode_cursor(cursor, kind + "x")


@given(st.text(max_size=80))
def test_any_text_is_a_cursor_or_invalid_input(text: str) -> None:
    """Decoding arbitrary text gives a key pair or InvalidInputError, nothing else."""
    try:
        sort_key, row_id = decode_cursor(text, "events")
    except InvalidInputError:
        return
    assert isinstance(sort_key, int)
    assert isinstance(row_id, int)


@pytest.mark.parametrize("values", [[2**63, 1], [1, -(2**63) - 1], [True, 1], [1.5, 1], ["1", 1]])
def test_out_of_range_cursor_values_are_invalid(values: list[object]) -> None:
    """Keys outside int64, booleans, floats and strings are refused."""
    cursor = base64.urlsafe_b64encode(json.dumps(["events", *values]).encode()).decode()
    with pytest.raises(InvalidInputError):
        decode_cursor(cursor, "events")


@given(st.datetimes(timezones=st.just(UTC)))
def test_time_keys_round_trip(moment: datetime) -> None:
    """A time key converts back to the same instant, and keys order like the instants."""
    assert time_from_key(time_key(moment)) == moment
    assert time_key(moment + timedelta(microseconds=1)) == time_key(moment) + 1


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("My Project", "my-project"),
        ("Café Web-App!", "cafe-web-app"),
        ("  --API v2.0--  ", "api-v2-0"),
        ("already-a-slug", "already-a-slug"),
        ("Ångström 日本 x", "angstrom-x"),
        ("!!!", ""),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    """Slugs are ASCII lowercase words joined by single dashes."""
    assert slugify(text) == slug
