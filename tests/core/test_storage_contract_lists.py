"""Storage contract: listing events and issues (filters, sorts, cursor pagination)."""

import pytest

from resentry_core._errors import InvalidInputError, NotFoundError
from resentry_core._issues import Issues
from resentry_core._models import Event, Issue, Page
from resentry_core._projects import Projects
from resentry_core._storage._protocol import EventFilter, Storage
from tests.core.records import (
    at,
    check_in,
    check_in_envelope,
    error_envelope,
    feedback_envelope,
    new_id,
    transaction_envelope,
)


async def _walk_events(storage: Storage, where: EventFilter, limit: int) -> list[Event]:
    events: list[Event] = []
    cursor = None
    while True:
        page = await storage.list_events(where, cursor=cursor, limit=limit)
        assert len(page.items) <= limit
        events += page.items
        if page.next_cursor is None:
            return events
        cursor = page.next_cursor


async def test_list_events_filters(storage: Storage) -> None:
    """Each filter field narrows the list; the filters combine."""
    app = (await Projects(storage).create_project("App")).id
    web = (await Projects(storage).create_project("Web")).id
    await storage.record(
        [
            error_envelope(app, received_at=at(1), level="error", release="1.0", fingerprint="a"),
            error_envelope(app, received_at=at(2), level="warning", environment="staging"),
            transaction_envelope(app, received_at=at(3)),
            error_envelope(web, received_at=at(4), level="error", release="2.0", fingerprint="a"),
        ]
    )
    [issue_a, _] = sorted((await storage.list_issues(app)).items, key=lambda i: i.fingerprint)

    async def received(where: EventFilter) -> list[int]:
        page = await storage.list_events(where)
        return [int((event.received_at - at(0)).total_seconds()) for event in page.items]

    assert await received(EventFilter()) == [4, 3, 2, 1]
    assert await received(EventFilter(project_ids=(app,))) == [3, 2, 1]
    assert await received(EventFilter(project_ids=(app, web))) == [4, 3, 2, 1]
    assert await received(EventFilter(project_ids=())) == []
    assert await received(EventFilter(issue_id=issue_a.id)) == [1]
    assert await received(EventFilter(type="transaction")) == [3]
    assert await received(EventFilter(type="error")) == [4, 2, 1]
    assert await received(EventFilter(level="error")) == [4, 1]
    assert await received(EventFilter(level="error", project_ids=(web,))) == [4]
    assert await received(EventFilter(release="1.0")) == [1]
    assert await received(EventFilter(environment="staging")) == [2]
    assert await received(EventFilter(since=at(2))) == [4, 3, 2]
    assert await received(EventFilter(until=at(2))) == [1]
    assert await received(EventFilter(since=at(2), until=at(4))) == [3, 2]
    assert await received(EventFilter(release="9.9")) == []


async def test_naive_datetime_filter_is_invalid(storage: Storage) -> None:
    """A naive ``since`` is rejected rather than compared in some unknown zone."""
    with pytest.raises(InvalidInputError):
        await storage.list_events(EventFilter(since=at(0).replace(tzinfo=None)))


async def test_event_pagination_walks_every_event_once(storage: Storage) -> None:
    """Pages walk every event once, newest first, ties broken consistently, at any page size."""
    project_id = (await Projects(storage).create_project("App")).id
    envelopes = [
        error_envelope(project_id, received_at=at(index // 3), fingerprint=f"fp{index % 4}")
        for index in range(14)
    ]
    await storage.record(envelopes)
    expected = None
    for limit in (1, 3, 5, 14, 50):
        walked = await _walk_events(storage, EventFilter(project_ids=(project_id,)), limit)
        ids = [event.event_id for event in walked]
        assert len(ids) == len(set(ids)) == 14
        times = [event.received_at for event in walked]
        assert times == sorted(times, reverse=True)
        assert expected is None or ids == expected
        expected = ids
    # Among equal received_at, the later recorded event comes first.
    assert expected is not None
    assert expected[:2] == [envelopes[13].event_id, envelopes[12].event_id]


async def test_full_last_page_has_no_cursor(storage: Storage) -> None:
    """A page that ends exactly at the last event has no next cursor."""
    project_id = (await Projects(storage).create_project("App")).id
    await storage.record([error_envelope(project_id, received_at=at(i)) for i in range(4)])
    page = await storage.list_events(EventFilter(), limit=4)
    assert (len(page.items), page.next_cursor) == (4, None)
    first = await storage.list_events(EventFilter(), limit=2)
    assert first.next_cursor is not None
    second = await storage.list_events(EventFilter(), limit=2, cursor=first.next_cursor)
    assert (len(second.items), second.next_cursor) == (2, None)


async def test_event_pagination_with_new_arrivals(storage: Storage) -> None:
    """Events arriving between pages neither repeat nor skip anything of the walk."""
    project_id = (await Projects(storage).create_project("App")).id
    old = [error_envelope(project_id, received_at=at(i)) for i in range(6)]
    await storage.record(old)
    where = EventFilter(project_ids=(project_id,))
    walked: list[str] = []
    page = await storage.list_events(where, limit=2)
    newer = 100
    while True:
        walked += [event.event_id for event in page.items]
        if page.next_cursor is None:
            break
        await storage.record([error_envelope(project_id, received_at=at(newer))])
        newer += 1
        page = await storage.list_events(where, cursor=page.next_cursor, limit=2)
    assert walked == [envelope.event_id for envelope in reversed(old)]


async def test_limit_is_clamped(storage: Storage) -> None:
    """A limit below 1 returns one event; above 500 returns 500."""
    project_id = (await Projects(storage).create_project("App")).id
    await storage.record(
        [error_envelope(project_id, received_at=at(i), fingerprint="f") for i in range(501)]
    )
    one = await storage.list_events(EventFilter(), limit=0)
    assert len(one.items) == 1
    assert one.next_cursor is not None
    assert len((await storage.list_events(EventFilter(), limit=-5)).items) == 1
    most = await storage.list_events(EventFilter(), limit=10_000)
    assert len(most.items) == 500
    assert most.next_cursor is not None
    rest = await storage.list_events(EventFilter(), limit=10_000, cursor=most.next_cursor)
    assert (len(rest.items), rest.next_cursor) == (1, None)
    assert rest.items[0].received_at == at(0)


BAD_CURSORS = ["", "garbage", "!!!!", "WyJldmVudHMiXQ", "eyJhIjogMX0", "é", "W10", "x" * 600]


async def test_bad_cursors_are_invalid_input(storage: Storage) -> None:
    """Malformed cursors raise InvalidInputError in every paged list."""
    project_id = (await Projects(storage).create_project("App")).id
    await storage.record([check_in_envelope(project_id, check_in(new_id()))])
    for cursor in BAD_CURSORS:
        with pytest.raises(InvalidInputError):
            await storage.list_events(EventFilter(), cursor=cursor)
        with pytest.raises(InvalidInputError):
            await storage.list_issues(project_id, cursor=cursor)
        with pytest.raises(InvalidInputError):
            await storage.list_items(project_id, cursor=cursor)
        with pytest.raises(InvalidInputError):
            await storage.list_logs(project_id, cursor=cursor)
        with pytest.raises(InvalidInputError):
            await storage.list_feedback(project_id, cursor=cursor)
        with pytest.raises(InvalidInputError):
            await storage.list_check_ins(project_id, "nightly-job", cursor=cursor)


async def test_items_and_feedback_pages(storage: Storage) -> None:
    """Items and feedback page newest first without repeats or gaps."""
    project_id = (await Projects(storage).create_project("App")).id
    envelopes = [feedback_envelope(project_id, message=str(i), received_at=at(i)) for i in range(5)]
    await storage.record(envelopes)
    messages: list[str] = []
    cursor = None
    while True:
        feedback = await storage.list_feedback(project_id, cursor=cursor, limit=2)
        messages += [item.message for item in feedback.items]
        if (cursor := feedback.next_cursor) is None:
            break
    assert messages == ["4", "3", "2", "1", "0"]
    received = []
    cursor = None
    while True:
        items = await storage.list_items(project_id, type="feedback", cursor=cursor, limit=3)
        received += [item.received_at for item in items.items]
        if (cursor := items.next_cursor) is None:
            break
    assert received == [at(i) for i in range(4, -1, -1)]


async def test_cursor_of_another_list_is_invalid_input(storage: Storage) -> None:
    """A cursor from the issues list (or another sort) is refused by the events list."""
    project_id = (await Projects(storage).create_project("App")).id
    await storage.record(
        [error_envelope(project_id, fingerprint=f"f{i}", received_at=at(i)) for i in range(3)]
    )
    issues = await storage.list_issues(project_id, limit=1)
    assert issues.next_cursor is not None
    with pytest.raises(InvalidInputError):
        await storage.list_events(EventFilter(), cursor=issues.next_cursor)
    with pytest.raises(InvalidInputError):
        await storage.list_issues(project_id, sort="times_seen", cursor=issues.next_cursor)
    events = await storage.list_events(EventFilter(), limit=1)
    assert events.next_cursor is not None
    with pytest.raises(InvalidInputError):
        await storage.list_items(project_id, cursor=events.next_cursor)


async def _issues(storage: Storage, project_id: int) -> dict[str, Issue]:
    return {issue.fingerprint: issue for issue in (await storage.list_issues(project_id)).items}


async def _record_three_issues(storage: Storage, project_id: int) -> None:
    """``old``: 3 events at 0-2; ``busy``: 5 events at 10-14; ``recent``: 1 event at 20."""
    envelopes = [error_envelope(project_id, fingerprint="old", received_at=at(i)) for i in range(3)]
    envelopes += [
        error_envelope(project_id, fingerprint="busy", received_at=at(10 + i)) for i in range(5)
    ]
    envelopes.append(error_envelope(project_id, fingerprint="recent", received_at=at(20)))
    await storage.record(envelopes)


def _fingerprints(page: Page[Issue]) -> list[str]:
    return [issue.fingerprint for issue in page.items]


async def test_issue_sorts(storage: Storage) -> None:
    """Issues sort by last_seen (default), first_seen or times_seen, descending."""
    project_id = (await Projects(storage).create_project("App")).id
    await _record_three_issues(storage, project_id)
    assert _fingerprints(await storage.list_issues(project_id)) == ["recent", "busy", "old"]
    by_first = await storage.list_issues(project_id, sort="first_seen")
    assert _fingerprints(by_first) == ["recent", "busy", "old"]
    await storage.record([error_envelope(project_id, fingerprint="old", received_at=at(30))])
    assert _fingerprints(await storage.list_issues(project_id, sort="last_seen")) == [
        "old",
        "recent",
        "busy",
    ]
    assert _fingerprints(await storage.list_issues(project_id, sort="first_seen")) == [
        "recent",
        "busy",
        "old",
    ]
    assert _fingerprints(await storage.list_issues(project_id, sort="times_seen")) == [
        "busy",
        "old",
        "recent",
    ]
    with pytest.raises(InvalidInputError):
        await storage.list_issues(project_id, sort="priority")


async def test_issue_status_filter_and_updates(storage: Storage) -> None:
    """The status filter lists issues by status; ``Issues.set_status`` (over storage's
    ``set_issue_status``) resolves, ignores, reopens, and refuses an unknown status."""
    project_id = (await Projects(storage).create_project("App")).id
    await _record_three_issues(storage, project_id)
    issues = await _issues(storage, project_id)
    resolved = await Issues(storage).set_status(project_id, issues["old"].id, "resolved")
    assert resolved.status == "resolved"
    assert resolved.times_seen == issues["old"].times_seen
    await Issues(storage).set_status(project_id, issues["busy"].id, "ignored")
    unresolved = await storage.list_issues(project_id, status="unresolved")
    assert _fingerprints(unresolved) == ["recent"]
    assert _fingerprints(await storage.list_issues(project_id, status="resolved")) == ["old"]
    assert _fingerprints(await storage.list_issues(project_id, status="ignored")) == ["busy"]
    reopened = await Issues(storage).set_status(project_id, issues["busy"].id, "unresolved")
    assert reopened.status == "unresolved"
    assert (await storage.get_issue(project_id, issues["busy"].id)).status == "unresolved"
    with pytest.raises(InvalidInputError):
        await Issues(storage).set_status(project_id, issues["busy"].id, "closed")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        await storage.list_issues(project_id, status="open")  # type: ignore[arg-type]


async def test_unknown_issue_is_reported_before_a_bad_status(storage: Storage) -> None:
    """``Issues.set_status`` answers NotFoundError for a missing issue, whatever the status."""
    project_id = (await Projects(storage).create_project("App")).id
    with pytest.raises(NotFoundError):
        await Issues(storage).set_status(project_id, 9999, "closed")  # type: ignore[arg-type]


async def test_issue_pagination(storage: Storage) -> None:
    """Every sort pages through all issues once, ties broken by id descending."""
    project_id = (await Projects(storage).create_project("App")).id
    await storage.record(
        [error_envelope(project_id, fingerprint=f"f{i}", received_at=at(i // 2)) for i in range(7)]
    )
    for sort in ("last_seen", "first_seen", "times_seen"):
        walked: list[Issue] = []
        cursor = None
        while True:
            page = await storage.list_issues(project_id, sort=sort, cursor=cursor, limit=2)
            walked += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(walked) == len({issue.id for issue in walked}) == 7
        if sort == "times_seen":
            assert [issue.id for issue in walked] == sorted((i.id for i in walked), reverse=True)
        else:
            assert [issue.fingerprint for issue in walked] == [f"f{i}" for i in range(6, -1, -1)]


async def test_events_of_an_issue(storage: Storage) -> None:
    """``issue_id`` lists exactly the issue's events, newest first."""
    project_id = (await Projects(storage).create_project("App")).id
    mine = [error_envelope(project_id, fingerprint="x", received_at=at(i)) for i in range(3)]
    await storage.record([*mine, error_envelope(project_id, fingerprint="y", received_at=at(9))])
    [issue] = [i for i in (await storage.list_issues(project_id)).items if i.fingerprint == "x"]
    page = await storage.list_events(EventFilter(project_ids=(project_id,), issue_id=issue.id))
    assert [event.event_id for event in page.items] == [e.event_id for e in reversed(mine)]
    assert all(event.issue_id == issue.id for event in page.items)
    assert not (await storage.list_events(EventFilter(issue_id=issue.id + 1000))).items
