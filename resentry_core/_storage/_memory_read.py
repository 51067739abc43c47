"""Reads of ingested data from a memory state: events, issues and the other stored kinds.

Every function returns fresh values: mappings are copied, so callers cannot reach the state.
"""

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TypeVar

from resentry_core._errors import InvalidInputError, NotFoundError
from resentry_core._models import (
    ISSUE_STATUSES,
    Attachment,
    CheckIn,
    DiscardCounter,
    Event,
    EventDetail,
    Feedback,
    Issue,
    IssueStatus,
    LogEntry,
    Monitor,
    Page,
    ReleaseHealth,
    StoredEnvelope,
    StoredItem,
)
from resentry_core._storage._cursor import clamp_limit, decode_cursor, encode_cursor, time_key
from resentry_core._storage._memory_state import (
    EventRow,
    ItemRow,
    State,
    copy_object,
    copy_optional,
)
from resentry_core._storage._protocol import EventFilter
from resentry_core._storage._values import aware

R = TypeVar("R")
T = TypeVar("T")

_ISSUE_SORTS: dict[str, Callable[[Issue], int]] = {
    "last_seen": lambda issue: time_key(issue.last_seen),
    "first_seen": lambda issue: time_key(issue.first_seen),
    "times_seen": lambda issue: issue.times_seen,
}


def paginate(
    rows: Iterable[R],
    key: Callable[[R], tuple[int, int]],
    kind: str,
    cursor: str | None,
    limit: int,
    present: Callable[[R], T],
) -> Page[T]:
    """One page of ``rows`` in descending ``key`` order, after ``cursor``."""
    limit = clamp_limit(limit)
    after = None if cursor is None else decode_cursor(cursor, kind)
    candidates = (row for row in rows if after is None or key(row) < after)
    ordered = heapq.nlargest(limit + 1, candidates, key=key)
    page = ordered[:limit]
    more = len(ordered) > limit
    next_cursor = encode_cursor(kind, *key(page[-1])) if more else None
    return Page(items=tuple(present(row) for row in page), next_cursor=next_cursor)


def present_event(event: Event) -> Event:
    """A copy of ``event`` that shares no mutable value with the state."""
    return replace(
        event, tags=dict(event.tags), user=copy_optional(event.user), sdk=copy_optional(event.sdk)
    )


def _matches(where: EventFilter, event: Event) -> bool:
    return (
        (where.project_ids is None or event.project_id in where.project_ids)
        and (where.issue_id is None or event.issue_id == where.issue_id)
        and (where.type is None or event.type == where.type)
        and (where.level is None or event.level == where.level)
        and (where.release is None or event.release == where.release)
        and (where.environment is None or event.environment == where.environment)
        and (where.since is None or event.received_at >= where.since)
        and (where.until is None or event.received_at < where.until)
    )


def _event_key(row: EventRow) -> tuple[int, int]:
    return time_key(row.event.received_at), row.seq


def list_events(state: State, where: EventFilter, cursor: str | None, limit: int) -> Page[Event]:
    """Matching events, newest received first."""
    where = replace(
        where,
        since=None if where.since is None else aware(where.since, "since"),
        until=None if where.until is None else aware(where.until, "until"),
    )
    rows = (row for row in state.events.values() if _matches(where, row.event))
    return paginate(rows, _event_key, "events", cursor, limit, lambda row: present_event(row.event))


def get_event(state: State, project_id: int, event_id: str) -> EventDetail:
    """One event with its payload and attachments."""
    row = state.events.get((project_id, event_id))
    if row is None:
        raise NotFoundError(f"event {event_id} not found in project {project_id}")
    envelope_id = row.event.envelope_id
    attachments = sorted(
        (
            attachment.attachment
            for attachment in state.attachments.values()
            if attachment.attachment.project_id == project_id
            and (
                attachment.attachment.envelope_id == envelope_id
                or attachment.attachment.event_id == event_id
            )
        ),
        key=lambda attachment: attachment.id,
    )
    return EventDetail(
        event=present_event(row.event),
        payload=state.items[row.item_id].payload,
        attachments=tuple(attachments),
    )


def get_attachment(state: State, project_id: int, attachment_id: int) -> tuple[Attachment, bytes]:
    """An attachment and its bytes."""
    row = state.attachments.get(attachment_id)
    if row is None or row.attachment.project_id != project_id:
        raise NotFoundError(f"attachment {attachment_id} not found in project {project_id}")
    return row.attachment, state.items[row.item_id].payload


def get_envelope(state: State, project_id: int, envelope_id: int) -> StoredEnvelope:
    """A stored envelope with its raw body."""
    envelope = state.envelopes.get(envelope_id)
    if envelope is None or envelope.project_id != project_id:
        raise NotFoundError(f"envelope {envelope_id} not found in project {project_id}")
    return replace(envelope, headers=copy_object(envelope.headers))


def _present_item(row: ItemRow) -> StoredItem:
    return replace(row.item, headers=copy_object(row.item.headers))


def list_items(
    state: State, project_id: int, item_type: str | None, cursor: str | None, limit: int
) -> Page[StoredItem]:
    """The project's items (optionally of one type), newest received first."""
    rows = (
        row
        for row in state.items.values()
        if row.item.project_id == project_id and (item_type is None or row.item.type == item_type)
    )
    return paginate(
        rows,
        lambda row: (time_key(row.item.received_at), row.item.id),
        "items",
        cursor,
        limit,
        _present_item,
    )


def get_item_payload(state: State, project_id: int, item_id: int) -> tuple[StoredItem, bytes]:
    """An item and its payload."""
    row = state.items.get(item_id)
    if row is None or row.item.project_id != project_id:
        raise NotFoundError(f"item {item_id} not found in project {project_id}")
    return _present_item(row), row.payload


def check_status(status: str) -> IssueStatus:
    """``status`` as an issue status. Raises InvalidInputError."""
    for known in ISSUE_STATUSES:
        if status == known:
            return known
    raise InvalidInputError(f"unknown issue status {status!r}; use one of {ISSUE_STATUSES}")


def list_issues(
    state: State,
    project_id: int,
    status: IssueStatus | None,
    sort: str,
    cursor: str | None,
    limit: int,
) -> Page[Issue]:
    """The project's issues in ``sort`` order."""
    sort_key = _ISSUE_SORTS.get(sort)
    if sort_key is None:
        raise InvalidInputError(f"unknown issue sort {sort!r}; use one of {sorted(_ISSUE_SORTS)}")
    if status is not None:
        check_status(status)
    issues = (
        issue
        for issue in state.issues.values()
        if issue.project_id == project_id and (status is None or issue.status == status)
    )
    return paginate(
        issues, lambda issue: (sort_key(issue), issue.id), f"issues:{sort}", cursor, limit, _same
    )


def get_issue(state: State, project_id: int, issue_id: int) -> Issue:
    """One issue of the project."""
    issue = state.issues.get(issue_id)
    if issue is None or issue.project_id != project_id:
        raise NotFoundError(f"issue {issue_id} not found in project {project_id}")
    return issue


def release_health(state: State, project_id: int) -> list[ReleaseHealth]:
    """Session counts per release and environment."""
    counts: dict[tuple[str, str | None], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for session in state.sessions.values():
        if session.project_id != project_id:
            continue
        bucket = counts[session.release, session.environment]
        bucket["started"] += 1
        bucket["errored"] += session.errored
        if session.status in ("exited", "crashed", "abnormal"):
            bucket[session.status] += 1
    for row in state.aggregates.values():
        if row.project_id != project_id:
            continue
        aggregate = row.aggregate
        bucket = counts[aggregate.release, aggregate.environment]
        bucket["started"] += (
            aggregate.exited + aggregate.errored + aggregate.abnormal + aggregate.crashed
        )
        bucket["exited"] += aggregate.exited + aggregate.errored
        bucket["errored"] += aggregate.errored + aggregate.crashed + aggregate.abnormal
        bucket["crashed"] += aggregate.crashed
        bucket["abnormal"] += aggregate.abnormal
    return [
        ReleaseHealth(
            release=release,
            environment=environment,
            started=bucket["started"],
            errored=bucket["errored"],
            crashed=bucket["crashed"],
            abnormal=bucket["abnormal"],
            exited=bucket["exited"],
        )
        for (release, environment), bucket in sorted(
            counts.items(), key=lambda entry: (entry[0][0], entry[0][1] is not None, entry[0][1])
        )
    ]


def _present_monitor(monitor: Monitor) -> Monitor:
    return replace(monitor, config=copy_optional(monitor.config))


def list_monitors(state: State, project_id: int) -> list[Monitor]:
    """The project's monitors by slug."""
    monitors = [monitor for monitor in state.monitors.values() if monitor.project_id == project_id]
    return [_present_monitor(monitor) for monitor in sorted(monitors, key=lambda m: m.slug)]


def list_check_ins(
    state: State, project_id: int, monitor_slug: str, cursor: str | None, limit: int
) -> Page[CheckIn]:
    """A monitor's check-ins, newest timestamp first."""
    monitor = state.monitors.get((project_id, monitor_slug))
    if monitor is None:
        raise NotFoundError(f"monitor {monitor_slug!r} not found in project {project_id}")
    check_ins = (
        row.check_in for row in state.check_ins.values() if row.check_in.monitor_id == monitor.id
    )
    return paginate(
        check_ins,
        lambda check_in: (time_key(check_in.timestamp), check_in.id),
        "check_ins",
        cursor,
        limit,
        _same,
    )


def list_logs(
    state: State,
    project_id: int,
    level: str | None,
    trace_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[LogEntry]:
    """The project's logs, newest timestamp first."""
    entries = (
        row.entry
        for row in state.logs.values()
        if row.entry.project_id == project_id
        and (level is None or row.entry.level == level)
        and (trace_id is None or row.entry.trace_id == trace_id)
    )
    return paginate(
        entries,
        lambda entry: (time_key(entry.timestamp), entry.id),
        "logs",
        cursor,
        limit,
        lambda entry: replace(entry, attributes=copy_object(entry.attributes)),
    )


def list_feedback(state: State, project_id: int, cursor: str | None, limit: int) -> Page[Feedback]:
    """The project's feedback, newest received first."""
    feedback = (
        row.feedback for row in state.feedback.values() if row.feedback.project_id == project_id
    )
    return paginate(
        feedback,
        lambda item: (time_key(item.received_at), item.id),
        "feedback",
        cursor,
        limit,
        _same,
    )


def discard_counters(state: State, project_id: int) -> list[DiscardCounter]:
    """Discarded quantities summed per reason and category."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for row in state.discards.values():
        if row.project_id == project_id:
            totals[row.count.reason, row.count.category] += row.count.quantity
    return [
        DiscardCounter(reason=reason, category=category, quantity=quantity)
        for (reason, category), quantity in sorted(totals.items())
    ]


def _same(value: T) -> T:
    return value
