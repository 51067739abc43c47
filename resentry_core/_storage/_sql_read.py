"""Reads of events, envelopes, items, attachments and issues on SQL (see ``_protocol``).

Every list is a keyset page over an index whose last columns are ``(sort column, id)``: the
query asks for ``limit + 1`` rows strictly below the cursor, newest first.
"""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, or_, select, union_all, update

from resentry_core._errors import InvalidInputError, NotFoundError
from resentry_core._models import (
    Attachment,
    Event,
    EventDetail,
    Issue,
    IssueStatus,
    Page,
    StoredEnvelope,
    StoredItem,
)
from resentry_core._rules import check_status
from resentry_core._storage._cursor import (
    clamp_limit,
    decode_cursor,
    encode_cursor,
    time_from_key,
    time_key,
)
from resentry_core._storage._protocol import EventFilter
from resentry_core._storage._sql_tx import Tx, chunks
from resentry_core._storage._tables import (
    attachments,
    envelope_items,
    envelopes,
    events,
    issues,
    projects,
)
from resentry_core._storage._values import aware

T = TypeVar("T")

_PROJECTS_PER_UNION = 100


def _below(
    sort: ColumnElement[Any], row_id: ColumnElement[int], after: tuple[int, int], timed: bool
) -> list[ColumnElement[bool]]:
    """Rows strictly below the cursor position ``after`` in ``(sort, row_id)`` order.

    Written as a range on ``sort`` plus a tie-break, so that both databases use the index.
    """
    key, last_id = after
    bound = time_from_key(key) if timed else key
    return [sort <= bound, or_(sort < bound, row_id < last_id)]


def _page(
    rows: Sequence[Any],
    *,
    limit: int,
    kind: str,
    key: Callable[[Any], tuple[int, int]],
    present: Callable[[Any], T],
) -> Page[T]:
    """A page of ``rows`` (already in order, at most ``limit + 1`` of them)."""
    if len(rows) <= limit:
        return Page(items=tuple(present(row) for row in rows), next_cursor=None)
    rows = rows[:limit]
    return Page(
        items=tuple(present(row) for row in rows), next_cursor=encode_cursor(kind, *key(rows[-1]))
    )


def keyset_page(
    tx: Tx,
    query: Select[Any],
    *,
    kind: str,
    sort: ColumnElement[Any],
    row_id: ColumnElement[int],
    cursor: str | None,
    limit: int,
    present: Callable[[Any], T],
    timed: bool = True,
) -> Page[T]:
    """One page of ``query`` ordered by ``(sort, row_id)`` descending, after ``cursor``.

    ``timed``: ``sort`` is a datetime column (its cursor key is :func:`time_key`), else an
    integer column.
    """
    limit = clamp_limit(limit)
    if cursor is not None:
        query = query.where(*_below(sort, row_id, decode_cursor(cursor, kind), timed))
    query = query.order_by(sort.desc(), row_id.desc()).limit(limit + 1)
    rows = tx.conn.execute(query).all()

    def key(row: Any) -> tuple[int, int]:
        value = row._mapping[sort]
        return (time_key(value) if timed else value), row._mapping[row_id]

    return _page(rows, limit=limit, kind=kind, key=key, present=present)


def event_from_row(row: Any) -> Event:
    """The :class:`Event` of an ``events`` row."""
    return Event(
        event_id=row.event_id,
        project_id=row.project_id,
        issue_id=row.issue_id,
        envelope_id=row.envelope_id,
        type=row.type,
        level=row.level,
        timestamp=row.timestamp,
        received_at=row.received_at,
        platform=row.platform,
        title=row.title,
        culprit=row.culprit,
        message=row.message,
        release=row.release,
        environment=row.environment,
        tags=row.tags,
        user=row.user_data,
        sdk=row.sdk,
        transaction=row.transaction,
        op=row.op,
        duration_ms=row.duration_ms,
        status=row.status,
        span_count=row.span_count,
    )


def _event_conditions(where: EventFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for column, value in (
        (events.c.issue_id, where.issue_id),
        (events.c.type, where.type),
        (events.c.level, where.level),
        (events.c.release, where.release),
        (events.c.environment, where.environment),
    ):
        if value is not None:
            conditions.append(column == value)
    if where.since is not None:
        conditions.append(events.c.received_at >= aware(where.since, "since"))
    if where.until is not None:
        conditions.append(events.c.received_at < aware(where.until, "until"))
    return conditions


def list_events(tx: Tx, where: EventFilter, cursor: str | None, limit: int) -> Page[Event]:
    """Matching events, newest received first.

    One project (or an issue) is one index range. Several projects are a ``UNION ALL`` of one
    limited range per project, merged: each range stays an index scan, however many events
    the other projects have (in groups of projects, below SQLite's limit on compound selects).
    """
    conditions = _event_conditions(where)
    after = None if cursor is None else decode_cursor(cursor, "events")
    project_ids: Sequence[int]
    if where.project_ids is None:
        project_ids = list(tx.conn.execute(select(projects.c.id)).scalars())
    else:
        project_ids = sorted(set(where.project_ids))
    if not project_ids:
        return Page(items=(), next_cursor=None)
    if len(project_ids) == 1 or where.issue_id is not None:
        query = select(events).where(events.c.project_id.in_(project_ids), *conditions)
        return keyset_page(
            tx,
            query,
            kind="events",
            sort=events.c.received_at,
            row_id=events.c.id,
            cursor=cursor,
            limit=limit,
            present=event_from_row,
        )
    limit = clamp_limit(limit)
    rows: list[Any] = []
    for chunk in chunks(project_ids, _PROJECTS_PER_UNION):
        ranges = []
        for project_id in chunk:
            one = select(events).where(events.c.project_id == project_id, *conditions)
            if after is not None:
                one = one.where(*_below(events.c.received_at, events.c.id, after, timed=True))
            one = one.order_by(events.c.received_at.desc(), events.c.id.desc()).limit(limit + 1)
            ranges.append(select(one.subquery()))
        merged = union_all(*ranges).subquery()
        query = (
            select(merged)
            .order_by(merged.c.received_at.desc(), merged.c.id.desc())
            .limit(limit + 1)
        )
        rows.extend(tx.conn.execute(query).all())
    rows.sort(key=lambda row: (row.received_at, row.id), reverse=True)
    return _page(
        rows[: limit + 1],
        limit=limit,
        kind="events",
        key=lambda row: (time_key(row.received_at), row.id),
        present=event_from_row,
    )


def _attachment(row: Any) -> Attachment:
    return Attachment(
        id=row.id,
        project_id=row.project_id,
        envelope_id=row.envelope_id,
        event_id=row.event_id,
        filename=row.filename,
        content_type=row.content_type,
        attachment_type=row.attachment_type,
        size=row.size,
    )


def get_event(tx: Tx, project_id: int, event_id: str) -> EventDetail:
    """One event, its payload, and its envelope's and later attachments. Raises NotFoundError."""
    query = (
        select(events, envelope_items.c.payload)
        .join(envelope_items, envelope_items.c.id == events.c.item_id)
        .where(events.c.project_id == project_id, events.c.event_id == event_id)
    )
    row = tx.conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"event {event_id} not found in project {project_id}")
    attached = (
        select(attachments)
        .where(
            attachments.c.project_id == project_id,
            or_(attachments.c.envelope_id == row.envelope_id, attachments.c.event_id == event_id),
        )
        .order_by(attachments.c.id)
    )
    found = tx.conn.execute(attached).all()
    return EventDetail(
        event=event_from_row(row),
        payload=row.payload,
        attachments=tuple(_attachment(attachment) for attachment in found),
    )


def get_attachment(tx: Tx, project_id: int, attachment_id: int) -> tuple[Attachment, bytes]:
    """An attachment and its bytes (its item's payload). Raises NotFoundError."""
    query = (
        select(attachments, envelope_items.c.payload)
        .join(envelope_items, envelope_items.c.id == attachments.c.item_id)
        .where(attachments.c.id == attachment_id, attachments.c.project_id == project_id)
    )
    row = tx.conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"attachment {attachment_id} not found in project {project_id}")
    return _attachment(row), row.payload


def get_envelope(tx: Tx, project_id: int, envelope_id: int) -> StoredEnvelope:
    """A stored envelope with its raw body. Raises NotFoundError."""
    query = select(envelopes).where(
        envelopes.c.id == envelope_id, envelopes.c.project_id == project_id
    )
    row = tx.conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"envelope {envelope_id} not found in project {project_id}")
    return StoredEnvelope(
        id=row.id,
        project_id=row.project_id,
        event_id=row.event_id,
        received_at=row.received_at,
        headers=row.headers,
        size=row.size,
        raw=row.raw,
        raw_encoding=row.raw_encoding,
    )


_ITEM_COLUMNS = [column for column in envelope_items.c if column.name != "payload"]


def _item(row: Any) -> StoredItem:
    return StoredItem(
        id=row.id,
        project_id=row.project_id,
        envelope_id=row.envelope_id,
        position=row.position,
        type=row.type,
        headers=row.headers,
        size=row.size,
        received_at=row.received_at,
    )


def list_items(
    tx: Tx, project_id: int, item_type: str | None, cursor: str | None, limit: int
) -> Page[StoredItem]:
    """The project's items (optionally of one type), newest received first."""
    query = select(*_ITEM_COLUMNS).where(envelope_items.c.project_id == project_id)
    if item_type is not None:
        query = query.where(envelope_items.c.type == item_type)
    return keyset_page(
        tx,
        query,
        kind="items",
        sort=envelope_items.c.received_at,
        row_id=envelope_items.c.id,
        cursor=cursor,
        limit=limit,
        present=_item,
    )


def get_item_payload(tx: Tx, project_id: int, item_id: int) -> tuple[StoredItem, bytes]:
    """An item and its payload. Raises NotFoundError."""
    query = select(envelope_items).where(
        envelope_items.c.id == item_id, envelope_items.c.project_id == project_id
    )
    row = tx.conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"item {item_id} not found in project {project_id}")
    return _item(row), row.payload


def issue_from_row(row: Any) -> Issue:
    """The :class:`Issue` of an ``issues`` row."""
    return Issue(
        id=row.id,
        project_id=row.project_id,
        fingerprint=row.fingerprint,
        title=row.title,
        culprit=row.culprit,
        level=row.level,
        status=check_status(row.status),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        times_seen=row.times_seen,
        last_event_id=row.last_event_id,
    )


_ISSUE_SORTS = {
    "last_seen": issues.c.last_seen,
    "first_seen": issues.c.first_seen,
    "times_seen": issues.c.times_seen,
}


def issue_sort(sort: str) -> ColumnElement[Any]:
    """The column of an issue sort. Raises InvalidInputError."""
    column = _ISSUE_SORTS.get(sort)
    if column is None:
        raise InvalidInputError(f"unknown issue sort {sort!r}; use one of {sorted(_ISSUE_SORTS)}")
    return column


def list_issues(
    tx: Tx, project_id: int, status: IssueStatus | None, sort: str, cursor: str | None, limit: int
) -> Page[Issue]:
    """The project's issues in ``sort`` order (descending, ties by id)."""
    conditions = [] if status is None else [issues.c.status == check_status(status)]
    return issue_page(tx, project_id, conditions, sort, cursor, limit)


def issue_page(
    tx: Tx,
    project_id: int,
    conditions: Sequence[ColumnElement[bool]],
    sort: str,
    cursor: str | None,
    limit: int,
) -> Page[Issue]:
    """The project's issues matching ``conditions``, in ``sort`` order (descending, ties by id)."""
    column = issue_sort(sort)
    query = select(issues).where(issues.c.project_id == project_id, *conditions)
    return keyset_page(
        tx,
        query,
        kind=f"issues:{sort}",
        sort=column,
        row_id=issues.c.id,
        cursor=cursor,
        limit=limit,
        present=issue_from_row,
        timed=sort != "times_seen",
    )


def get_issue(tx: Tx, project_id: int, issue_id: int) -> Issue:
    """One issue of the project. Raises NotFoundError."""
    query = select(issues).where(issues.c.id == issue_id, issues.c.project_id == project_id)
    row = tx.conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"issue {issue_id} not found in project {project_id}")
    return issue_from_row(row)


def set_issue_status(tx: Tx, project_id: int, issue_id: int, status: IssueStatus) -> Issue:
    """Set an issue's status. Raises NotFoundError."""
    statement = (
        update(issues)
        .where(issues.c.id == issue_id, issues.c.project_id == project_id)
        .values(status=status)
        .returning(*issues.c)
    )
    row = tx.conn.execute(statement).first()
    if row is None:
        raise NotFoundError(f"issue {issue_id} not found in project {project_id}")
    return issue_from_row(row)
