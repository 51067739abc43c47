"""Reads of events, envelopes, items, attachments and issues on SQL (see ``_protocol``).

Every list is a keyset page over an index whose last columns are ``(sort column, id)``: the
query asks for ``limit + 1`` rows strictly below the cursor, newest first.
"""

from collections.abc import Callable, Sequence
from dataclasses import fields
from functools import cache, partial
from operator import attrgetter
from typing import Any, Final, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, or_, select, union_all, update

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
from resentry_core._storage._sql_tx import Query, Row, Tx, chunks
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


def _below(sort: ColumnElement[Any], row_id: ColumnElement[int]) -> list[ColumnElement[bool]]:
    """Rows strictly below the cursor position (parameters ``after_sort``, ``after_id``) in
    ``(sort, row_id)`` order.

    Written as a range on ``sort`` plus a tie-break, so that both databases use the index.
    """
    bound = bindparam("after_sort", type_=sort.type)
    return [sort <= bound, or_(sort < bound, row_id < bindparam("after_id", type_=row_id.type))]


def _cursor_parameters(cursor: str | None, kind: str, timed: bool) -> Row:
    """The parameters of :func:`_below` for ``cursor`` (none without one)."""
    if cursor is None:
        return {}
    key, last_id = decode_cursor(cursor, kind)
    return {"after_sort": time_from_key(key) if timed else key, "after_id": last_id}


def keyset_query(
    query: Select[Any], sort: ColumnElement[Any], row_id: ColumnElement[int], *, after: bool
) -> Select[Any]:
    """``query`` ordered by ``(sort, row_id)`` descending, below the cursor when ``after``, and
    limited to the parameter ``limit``: what :func:`keyset_page` runs."""
    if after:
        query = query.where(*_below(sort, row_id))
    return query.order_by(sort.desc(), row_id.desc()).limit(bindparam("limit"))


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
    query: Select[Any] | Callable[[bool], Query],
    *,
    kind: str,
    sort: ColumnElement[Any],
    row_id: ColumnElement[int],
    cursor: str | None,
    limit: int,
    present: Callable[[Any], T],
    timed: bool = True,
    parameters: Row | None = None,
) -> Page[T]:
    """One page of ``query`` ordered by ``(sort, row_id)`` descending, after ``cursor``.

    ``query``: a select, ordered and limited here (:func:`keyset_query`); or, for a hot read,
    a function of ``after`` (a cursor is given) returning that query built once, with the
    bind ``parameters`` of its own. ``timed``: ``sort`` is a datetime column (its cursor key
    is :func:`time_key`), else an integer column.
    """
    limit = clamp_limit(limit)
    after = cursor is not None
    statement = (
        keyset_query(query, sort, row_id, after=after)
        if isinstance(query, Select)
        else query(after)
    )
    bound = {**(parameters or {}), **_cursor_parameters(cursor, kind, timed), "limit": limit + 1}
    rows = tx.rows(statement, bound)
    sort_key, id_key = str(sort.key), str(row_id.key)  # the rows' attributes

    def key(row: Any) -> tuple[int, int]:
        value = getattr(row, sort_key)
        return (time_key(value) if timed else value), getattr(row, id_key)

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


_EVENT_FILTERS: dict[str, Callable[[Any], ColumnElement[bool]]] = {
    "issue_id": lambda value: events.c.issue_id == value,
    "type": lambda value: events.c.type == value,
    "level": lambda value: events.c.level == value,
    "release": lambda value: events.c.release == value,
    "environment": lambda value: events.c.environment == value,
    "since": lambda value: events.c.received_at >= value,
    "until": lambda value: events.c.received_at < value,
}


def _event_filter(where: EventFilter) -> Row:
    """The filters ``where`` sets, by name (bind parameters of :func:`_event_conditions`)."""
    values: Row = {
        "issue_id": where.issue_id,
        "type": where.type,
        "level": where.level,
        "release": where.release,
        "environment": where.environment,
        "since": None if where.since is None else aware(where.since, "since"),
        "until": None if where.until is None else aware(where.until, "until"),
    }
    return {name: value for name, value in values.items() if value is not None}


@cache
def _event_conditions(names: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """The conditions of the named filters, each on a bind parameter of its name."""
    return [_EVENT_FILTERS[name](bindparam(name)) for name in names]


@cache
def _events_query(names: tuple[str, ...], after: bool) -> Query:
    """One project's events (parameter ``project_id``) matching the named filters."""
    query = select(events).where(events.c.project_id == bindparam("project_id"))
    query = query.where(*_event_conditions(names))
    return Query(keyset_query(query, events.c.received_at, events.c.id, after=after))


def list_events(tx: Tx, where: EventFilter, cursor: str | None, limit: int) -> Page[Event]:
    """Matching events, newest received first.

    One project (or an issue) is one index range. Several projects are a ``UNION ALL`` of one
    limited range per project, merged: each range stays an index scan, however many events
    the other projects have (in groups of projects, below SQLite's limit on compound selects).
    """
    filters = _event_filter(where)
    conditions = _event_conditions(tuple(filters))
    project_ids: Sequence[int]
    if where.project_ids is None:
        project_ids = list(tx.conn.execute(select(projects.c.id)).scalars())
    else:
        project_ids = sorted(set(where.project_ids))
    if not project_ids:
        return Page(items=(), next_cursor=None)
    if len(project_ids) == 1 or where.issue_id is not None:
        query: Select[Any] | Callable[[bool], Query]
        if len(project_ids) == 1:
            query = partial(_events_query, tuple(filters))
            filters["project_id"] = project_ids[0]
        else:
            query = select(events).where(events.c.project_id.in_(project_ids), *conditions)
        return keyset_page(
            tx,
            query,
            parameters=filters,
            kind="events",
            sort=events.c.received_at,
            row_id=events.c.id,
            cursor=cursor,
            limit=limit,
            present=event_from_row,
        )
    limit = clamp_limit(limit)
    bound = {**filters, **_cursor_parameters(cursor, "events", timed=True), "limit": limit + 1}
    rows: list[Any] = []
    for chunk in chunks(project_ids, _PROJECTS_PER_UNION):
        ranges = []
        for project_id in chunk:
            one = select(events).where(events.c.project_id == project_id, *conditions)
            one = keyset_query(one, events.c.received_at, events.c.id, after=cursor is not None)
            ranges.append(select(one.subquery()))
        merged = union_all(*ranges).subquery()
        query = (
            select(merged)
            .order_by(merged.c.received_at.desc(), merged.c.id.desc())
            .limit(bindparam("limit"))
        )
        rows.extend(tx.rows(query, bound))
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


_EVENT = Query(
    select(events, envelope_items.c.payload)
    .join(envelope_items, envelope_items.c.id == events.c.item_id)
    .where(
        events.c.project_id == bindparam("project_id"),
        events.c.event_id == bindparam("event_id"),
    )
)
_ATTACHED = Query(
    select(attachments)
    .where(
        attachments.c.project_id == bindparam("project_id"),
        or_(
            attachments.c.envelope_id == bindparam("envelope_id"),
            attachments.c.event_id == bindparam("event_id"),
        ),
    )
    .order_by(attachments.c.id)
)


def get_event(tx: Tx, project_id: int, event_id: str) -> EventDetail:
    """One event, its payload, and its envelope's and later attachments. Raises NotFoundError."""
    bound = {"project_id": project_id, "event_id": event_id}
    row = tx.first(_EVENT, bound)
    if row is None:
        raise NotFoundError(f"event {event_id} not found in project {project_id}")
    found = tx.rows(_ATTACHED, {**bound, "envelope_id": row.envelope_id})
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


def slotted_from_row(cls: type[T]) -> Callable[[Any], T]:
    """A function that builds ``cls``, a slotted dataclass without ``__post_init__``, from a
    row whose columns include its fields by name.

    The values are stored into the slots directly: a frozen dataclass's ``__init__`` sets each
    field through ``object.__setattr__``, twice as slow (an ``Issue``: 1.6 against 0.8 µs).
    """
    if not hasattr(cls, "__slots__") or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} must be slotted and have no __post_init__")
    names = [field.name for field in fields(cls)]  # type: ignore[arg-type]
    values = attrgetter(*names)
    setters = [getattr(cls, name).__set__ for name in names]
    new = object.__new__

    def build(row: Any) -> T:
        built = new(cls)
        for set_value, value in zip(setters, values(row), strict=True):
            set_value(built, value)
        return built

    return build


_issue: Final = slotted_from_row(Issue)


def issue_from_row(row: Any) -> Issue:
    """The :class:`Issue` of an ``issues`` row (its status checked)."""
    check_status(row.status)
    return _issue(row)


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
    parameters: Row = {"project_id": project_id}
    if status is not None:
        parameters["status"] = check_status(status)
    query = partial(_issues_query, sort, status is not None)
    return _issues_keyset(tx, query, parameters, sort, cursor, limit)


@cache
def _issues_query(sort: str, by_status: bool, after: bool) -> Query:
    query = select(issues).where(issues.c.project_id == bindparam("project_id"))
    if by_status:
        query = query.where(issues.c.status == bindparam("status"))
    return Query(keyset_query(query, issue_sort(sort), issues.c.id, after=after))


def issue_page(
    tx: Tx,
    project_id: int,
    conditions: Sequence[ColumnElement[bool]],
    sort: str,
    cursor: str | None,
    limit: int,
) -> Page[Issue]:
    """The project's issues matching ``conditions``, in ``sort`` order (descending, ties by id)."""
    query = select(issues).where(issues.c.project_id == project_id, *conditions)
    return _issues_keyset(tx, query, {}, sort, cursor, limit)


def _issues_keyset(
    tx: Tx,
    query: Select[Any] | Callable[[bool], Query],
    parameters: Row,
    sort: str,
    cursor: str | None,
    limit: int,
) -> Page[Issue]:
    column = issue_sort(sort)
    return keyset_page(
        tx,
        query,
        parameters=parameters,
        kind=f"issues:{sort}",
        sort=column,
        row_id=issues.c.id,
        cursor=cursor,
        limit=limit,
        present=issue_from_row,
        timed=sort != "times_seen",
    )


_ISSUE = Query(
    select(issues).where(
        issues.c.id == bindparam("issue_id"), issues.c.project_id == bindparam("project_id")
    )
)


def get_issue(tx: Tx, project_id: int, issue_id: int) -> Issue:
    """One issue of the project. Raises NotFoundError."""
    row = tx.first(_ISSUE, {"issue_id": issue_id, "project_id": project_id})
    if row is None:
        raise NotFoundError(f"issue {issue_id} not found in project {project_id}")
    return issue_from_row(row)


_SET_STATUS = Query(  # an UPDATE's parameters must not be named after the table's columns
    update(issues)
    .where(issues.c.id == bindparam("issue_id"), issues.c.project_id == bindparam("in_project"))
    .values(status=bindparam("new_status", type_=issues.c.status.type))
    .returning(*issues.c)
)


def set_issue_status(tx: Tx, project_id: int, issue_id: int, status: IssueStatus) -> Issue:
    """Set an issue's status. Raises NotFoundError."""
    bound = {"issue_id": issue_id, "in_project": project_id, "new_status": status}
    row = tx.first(_SET_STATUS, bound)
    if row is None:
        raise NotFoundError(f"issue {issue_id} not found in project {project_id}")
    return issue_from_row(row)
