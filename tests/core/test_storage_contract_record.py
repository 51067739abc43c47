"""Storage contract: recording envelopes, grouping, duplicates, payloads and raw data."""

import gzip
from dataclasses import replace

import anyio
import pytest

from resentry_core._errors import InvalidInputError, NotFoundError
from resentry_core._projects import Projects
from resentry_core._records import PreparedEnvelope
from resentry_core._storage._protocol import EventFilter, Storage
from tests.core.records import (
    at,
    attachment_envelope,
    error_envelope,
    event_record,
    json_item,
    new_id,
    prepared,
    raw_item_envelope,
    transaction_envelope,
)


async def _project_id(storage: Storage, name: str = "App") -> int:
    return (await Projects(storage).create_project(name)).id


async def test_error_event_creates_event_and_issue(storage: Storage) -> None:
    """An error envelope stores its event and opens an issue with the event's fields."""
    project_id = await _project_id(storage)
    envelope = error_envelope(
        project_id,
        received_at=at(5),
        level="warning",
        title="KeyError: 'id'",
        culprit="shop.cart in add",
        tags={"browser": "Firefox", "os": "Linux"},
        user={"id": "u1", "email": "u1@example.com"},
    )
    [recorded] = await storage.record([envelope])
    assert recorded.event_id == envelope.event_id
    assert recorded.envelope_id is not None
    assert (recorded.duplicate, recorded.new_issue, recorded.regression) == (False, True, False)
    assert recorded.issue_id is not None

    issue = await storage.get_issue(project_id, recorded.issue_id)
    assert (issue.title, issue.culprit, issue.level) == (
        "KeyError: 'id'",
        "shop.cart in add",
        "warning",
    )
    assert issue.status == "unresolved"
    assert (issue.first_seen, issue.last_seen) == (at(5), at(5))
    assert issue.times_seen == 1
    assert issue.last_event_id == envelope.event_id
    assert issue.fingerprint == "fp1"

    assert envelope.event_id is not None
    detail = await storage.get_event(project_id, envelope.event_id)
    event = detail.event
    assert (event.project_id, event.issue_id, event.envelope_id) == (
        project_id,
        issue.id,
        recorded.envelope_id,
    )
    assert (event.type, event.level, event.title, event.culprit) == (
        "error",
        "warning",
        "KeyError: 'id'",
        "shop.cart in add",
    )
    assert (event.timestamp, event.received_at) == (at(5), at(5))
    assert (event.release, event.environment, event.platform) == (
        "app@1.0.0",
        "production",
        "python",
    )
    assert event.tags == {"browser": "Firefox", "os": "Linux"}
    assert event.user == {"id": "u1", "email": "u1@example.com"}
    assert event.sdk == {"name": "sentry.python", "version": "2.19.0"}
    assert event.transaction is None
    assert detail.payload == envelope.items[0].payload
    assert detail.attachments == ()


async def test_same_fingerprint_increments_issue(storage: Storage) -> None:
    """A second event with the same fingerprint counts into the same issue."""
    project_id = await _project_id(storage)
    first = error_envelope(project_id, received_at=at(1), level="error")
    second = error_envelope(project_id, received_at=at(2), level="fatal", title="other title")
    [one] = await storage.record([first])
    [two] = await storage.record([second])
    assert two.issue_id == one.issue_id
    assert not two.new_issue
    assert one.issue_id is not None
    issue = await storage.get_issue(project_id, one.issue_id)
    assert issue.times_seen == 2
    assert (issue.first_seen, issue.last_seen) == (at(1), at(2))
    assert issue.last_event_id == second.event_id
    assert issue.level == "fatal"
    assert issue.title == "ValueError: boom"  # the title stays the first event's


async def test_late_event_does_not_move_last_seen(storage: Storage) -> None:
    """An event received earlier than the issue's last_seen widens first_seen only."""
    project_id = await _project_id(storage)
    newest = error_envelope(project_id, received_at=at(10), level="error")
    [recorded] = await storage.record([newest])
    await storage.record([error_envelope(project_id, received_at=at(3), level="debug")])
    assert recorded.issue_id is not None
    issue = await storage.get_issue(project_id, recorded.issue_id)
    assert (issue.times_seen, issue.first_seen, issue.last_seen) == (2, at(3), at(10))
    assert issue.last_event_id == newest.event_id
    assert issue.level == "error"


async def test_different_fingerprints_make_different_issues(storage: Storage) -> None:
    """Events with different fingerprints, or in different projects, get different issues."""
    project_id = await _project_id(storage)
    other_project = await _project_id(storage, "Other")
    recorded = await storage.record(
        [
            error_envelope(project_id, fingerprint="a"),
            error_envelope(project_id, fingerprint="b"),
            error_envelope(other_project, fingerprint="a"),
        ]
    )
    issue_ids = {r.issue_id for r in recorded}
    assert len(issue_ids) == 3
    assert all(r.new_issue for r in recorded)
    issues = (await storage.list_issues(project_id)).items
    assert sorted(issue.fingerprint for issue in issues) == ["a", "b"]
    assert all(issue.times_seen == 1 for issue in issues)


async def test_duplicate_event_in_one_batch_is_stored_once(storage: Storage) -> None:
    """The same event id twice in a batch is stored once; the second is reported duplicate."""
    project_id = await _project_id(storage)
    event_id = new_id()
    first = error_envelope(project_id, event_id=event_id)
    again = error_envelope(project_id, event_id=event_id)
    one, two = await storage.record([first, again])
    assert not one.duplicate
    assert two.duplicate
    assert two.envelope_id is None
    assert two.event_id == event_id
    assert one.issue_id is not None
    assert (await storage.get_issue(project_id, one.issue_id)).times_seen == 1
    assert len((await storage.list_events(EventFilter())).items) == 1
    assert len((await storage.list_items(project_id)).items) == 1


async def test_duplicate_event_across_batches_is_stored_once(storage: Storage) -> None:
    """Resending a stored event writes nothing: no event, item, envelope or count."""
    project_id = await _project_id(storage)
    event_id = new_id()
    [first] = await storage.record(
        [error_envelope(project_id, event_id=event_id, attachments=[("a.bin", b"1")])]
    )
    [again] = await storage.record(
        [error_envelope(project_id, event_id=event_id, attachments=[("b.bin", b"2")])]
    )
    assert again.duplicate
    assert again.envelope_id is None
    assert first.issue_id is not None
    assert (await storage.get_issue(project_id, first.issue_id)).times_seen == 1
    assert len((await storage.list_items(project_id)).items) == 2
    detail = await storage.get_event(project_id, event_id)
    assert [attachment.filename for attachment in detail.attachments] == ["a.bin"]


async def test_same_event_id_in_another_project_is_not_a_duplicate(storage: Storage) -> None:
    """Event ids are unique per project: another project may store the same id."""
    first = await _project_id(storage, "First")
    second = await _project_id(storage, "Second")
    event_id = new_id()
    recorded = await storage.record(
        [error_envelope(first, event_id=event_id), error_envelope(second, event_id=event_id)]
    )
    assert [r.duplicate for r in recorded] == [False, False]
    assert (await storage.get_event(first, event_id)).event.project_id == first
    assert (await storage.get_event(second, event_id)).event.project_id == second


async def test_transaction_has_no_issue(storage: Storage) -> None:
    """A transaction is stored as an event with its span fields and no issue."""
    project_id = await _project_id(storage)
    envelope = transaction_envelope(project_id, transaction="GET /cart", duration_ms=87.25)
    [recorded] = await storage.record([envelope])
    assert (recorded.issue_id, recorded.new_issue) == (None, False)
    assert envelope.event_id is not None
    event = (await storage.get_event(project_id, envelope.event_id)).event
    assert (event.type, event.issue_id, event.transaction) == ("transaction", None, "GET /cart")
    assert (event.op, event.duration_ms, event.status, event.span_count) == (
        "http.server",
        87.25,
        "ok",
        3,
    )
    assert not (await storage.list_issues(project_id)).items


async def test_resolved_issue_regresses(storage: Storage) -> None:
    """A new event on a resolved issue reopens it and is reported as a regression."""
    project_id = await _project_id(storage)
    [first] = await storage.record([error_envelope(project_id, received_at=at(1))])
    assert first.issue_id is not None
    resolved = await storage.set_issue_status(project_id, first.issue_id, "resolved")
    assert resolved.status == "resolved"
    [second] = await storage.record([error_envelope(project_id, received_at=at(2))])
    assert (second.issue_id, second.regression, second.new_issue) == (first.issue_id, True, False)
    issue = await storage.get_issue(project_id, first.issue_id)
    assert (issue.status, issue.times_seen) == ("unresolved", 2)
    [third] = await storage.record([error_envelope(project_id, received_at=at(3))])
    assert not third.regression


async def test_ignored_issue_stays_ignored(storage: Storage) -> None:
    """A new event on an ignored issue counts but neither reopens it nor regresses."""
    project_id = await _project_id(storage)
    [first] = await storage.record([error_envelope(project_id)])
    assert first.issue_id is not None
    await storage.set_issue_status(project_id, first.issue_id, "ignored")
    [second] = await storage.record([error_envelope(project_id)])
    assert not second.regression
    issue = await storage.get_issue(project_id, first.issue_id)
    assert (issue.status, issue.times_seen) == ("ignored", 2)


async def test_attachments_are_byte_exact(storage: Storage) -> None:
    """Attachment bytes (newlines, CRLF, NUL, non-UTF-8) come back exactly and are listed."""
    project_id = await _project_id(storage)
    text = b"line one\nline two\r\nend\r\n"
    binary = b"\x00\xff\xfe\x00\r\n\n\x00" + bytes(range(256))
    envelope = error_envelope(project_id, attachments=[("log.txt", text), ("core.bin", binary)])
    await storage.record([envelope])
    assert envelope.event_id is not None
    detail = await storage.get_event(project_id, envelope.event_id)
    assert [(a.filename, a.size, a.event_id) for a in detail.attachments] == [
        ("log.txt", len(text), envelope.event_id),
        ("core.bin", len(binary), envelope.event_id),
    ]
    for attachment, expected in zip(detail.attachments, (text, binary), strict=True):
        found, data = await storage.get_attachment(project_id, attachment.id)
        assert found == attachment
        assert data == expected
        assert (found.content_type, found.attachment_type) == (
            "application/octet-stream",
            "event.attachment",
        )


async def test_later_attachment_for_an_event_is_listed(storage: Storage) -> None:
    """An attachment sent in a later envelope for a stored event id shows up on that event."""
    project_id = await _project_id(storage)
    envelope = error_envelope(project_id)
    await storage.record([envelope])
    assert envelope.event_id is not None
    late = attachment_envelope(project_id, envelope.event_id, "late.dmp", b"MDMP\x00")
    [recorded] = await storage.record([late])
    assert not recorded.duplicate
    detail = await storage.get_event(project_id, envelope.event_id)
    [attachment] = detail.attachments
    assert (attachment.filename, attachment.attachment_type) == ("late.dmp", "event.minidump")
    assert attachment.envelope_id == recorded.envelope_id
    assert (await storage.get_attachment(project_id, attachment.id))[1] == b"MDMP\x00"


async def test_raw_envelope_comes_back_exactly(storage: Storage) -> None:
    """The raw body is stored as received, with its Content-Encoding and headers."""
    project_id = await _project_id(storage)
    plain = error_envelope(project_id)
    raw = gzip.compress(plain.raw + b"\r\n\x00trailing")
    envelope = replace(plain, raw=raw, raw_encoding="gzip")
    [recorded] = await storage.record([envelope])
    assert recorded.envelope_id is not None
    stored = await storage.get_envelope(project_id, recorded.envelope_id)
    assert (stored.raw, stored.raw_encoding, stored.size) == (raw, "gzip", len(raw))
    assert stored.headers == dict(plain.headers)
    assert (stored.event_id, stored.received_at, stored.project_id) == (
        plain.event_id,
        plain.received_at,
        project_id,
    )
    other = await _project_id(storage, "Other")
    with pytest.raises(NotFoundError):
        await storage.get_envelope(other, recorded.envelope_id)


async def test_unknown_item_types_are_kept(storage: Storage) -> None:
    """Items of any type are listed by type and their payloads come back exactly."""
    project_id = await _project_id(storage)
    payload = b"\x00binary\r\nprofile\n"
    await storage.record(
        [
            raw_item_envelope(project_id, "profile_chunk", payload, received_at=at(1)),
            raw_item_envelope(project_id, "x-custom", b"{}", received_at=at(2), headers={"a": 1}),
        ]
    )
    [item] = (await storage.list_items(project_id, type="profile_chunk")).items
    assert (item.type, item.position, item.size, item.received_at) == (
        "profile_chunk",
        0,
        len(payload),
        at(1),
    )
    assert item.headers == {"type": "profile_chunk", "length": len(payload)}
    found, data = await storage.get_item_payload(project_id, item.id)
    assert (found, data) == (item, payload)
    [custom] = (await storage.list_items(project_id, type="x-custom")).items
    assert custom.headers == {"type": "x-custom", "length": 2, "a": 1}
    everything = (await storage.list_items(project_id)).items
    assert [i.type for i in everything] == ["x-custom", "profile_chunk"]
    assert not (await storage.list_items(project_id, type="replay_video")).items
    other = await _project_id(storage, "Other")
    with pytest.raises(NotFoundError):
        await storage.get_item_payload(other, item.id)


async def test_other_projects_data_is_not_found(storage: Storage) -> None:
    """Events, issues and attachments of another project raise NotFoundError."""
    mine = await _project_id(storage, "Mine")
    theirs = await _project_id(storage, "Theirs")
    envelope = error_envelope(theirs, attachments=[("a.txt", b"x")])
    [recorded] = await storage.record([envelope])
    assert envelope.event_id is not None
    assert recorded.issue_id is not None
    with pytest.raises(NotFoundError):
        await storage.get_event(mine, envelope.event_id)
    with pytest.raises(NotFoundError):
        await storage.get_event(theirs, new_id())
    with pytest.raises(NotFoundError):
        await storage.get_issue(mine, recorded.issue_id)
    with pytest.raises(NotFoundError):
        await storage.set_issue_status(mine, recorded.issue_id, "resolved")
    [attachment] = (await storage.get_event(theirs, envelope.event_id)).attachments
    with pytest.raises(NotFoundError):
        await storage.get_attachment(mine, attachment.id)
    assert (await storage.get_issue(theirs, recorded.issue_id)).status == "unresolved"


async def test_bad_batch_writes_nothing(storage: Storage) -> None:
    """A batch whose later envelope is invalid raises and leaves nothing of the batch behind."""
    project_id = await _project_id(storage)
    good = error_envelope(project_id, received_at=at(1))
    missing_project = error_envelope(project_id + 1000, received_at=at(2))
    with pytest.raises(NotFoundError):
        await storage.record([good, missing_project])
    bad_position = replace(
        error_envelope(project_id), events=(event_record(new_id(), item_position=7),)
    )
    with pytest.raises(InvalidInputError):
        await storage.record([good, bad_position])
    assert not (await storage.list_events(EventFilter())).items
    assert not (await storage.list_issues(project_id)).items
    assert not (await storage.list_items(project_id)).items
    [recorded] = await storage.record([good])
    assert not recorded.duplicate


async def test_concurrent_records_count_exactly(storage: Storage) -> None:
    """Concurrent writers of one fingerprint leave times_seen equal to the number of events."""
    project_id = await _project_id(storage)
    envelopes = [error_envelope(project_id, received_at=at(i)) for i in range(12)]

    async def write(envelope: PreparedEnvelope) -> None:
        await storage.record([envelope])

    async with anyio.create_task_group() as group:
        for envelope in envelopes:
            group.start_soon(write, envelope)
    [issue] = (await storage.list_issues(project_id)).items
    assert issue.times_seen == 12
    assert (issue.first_seen, issue.last_seen) == (at(0), at(11))
    assert issue.last_event_id == envelopes[-1].event_id


async def test_concurrent_resends_store_one_event(storage: Storage) -> None:
    """The same event sent by concurrent writers is stored once; the others are duplicates."""
    project_id = await _project_id(storage)
    event_id = new_id()
    results: list[bool] = []

    async def write(second: int) -> None:
        envelope = error_envelope(project_id, event_id=event_id, received_at=at(second))
        [recorded] = await storage.record([envelope])
        results.append(recorded.duplicate)

    async with anyio.create_task_group() as group:
        for second in range(6):
            group.start_soon(write, second)
    assert sorted(results) == [False] + [True] * 5
    [issue] = (await storage.list_issues(project_id)).items
    assert issue.times_seen == 1
    assert len((await storage.list_items(project_id)).items) == 1


async def test_later_event_of_an_envelope_already_stored_is_skipped(storage: Storage) -> None:
    """An envelope whose first event is new stores it even if a later event id exists."""
    project_id = await _project_id(storage)
    existing = error_envelope(project_id, received_at=at(1))
    await storage.record([existing])
    assert existing.event_id is not None
    first_id = new_id()
    envelope = prepared(
        project_id,
        [json_item("event", {"event_id": first_id}), json_item("event", {"n": 2})],
        received_at=at(2),
        event_id=first_id,
        events=[
            event_record(first_id, fingerprint="other", timestamp=at(2)),
            event_record(existing.event_id, item_position=1, timestamp=at(2)),
        ],
    )
    [recorded] = await storage.record([envelope])
    assert not recorded.duplicate
    assert recorded.new_issue
    assert (await storage.get_event(project_id, first_id)).event.envelope_id == recorded.envelope_id
    kept = await storage.get_event(project_id, existing.event_id)
    assert kept.event.received_at == at(1)
    assert kept.payload == existing.items[0].payload
    assert len((await storage.list_items(project_id)).items) == 3
    assert sorted(i.times_seen for i in (await storage.list_issues(project_id)).items) == [1, 1]


async def test_naive_datetimes_are_invalid_input(storage: Storage) -> None:
    """A naive received_at or event timestamp raises InvalidInputError and writes nothing."""
    project_id = await _project_id(storage)
    naive = at(1).replace(tzinfo=None)
    with pytest.raises(InvalidInputError):
        await storage.record([replace(error_envelope(project_id), received_at=naive)])
    envelope = error_envelope(project_id)
    bad_event = replace(envelope.events[0], timestamp=naive)
    with pytest.raises(InvalidInputError):
        await storage.record([replace(envelope, events=(bad_event,))])
    assert not (await storage.list_items(project_id)).items
