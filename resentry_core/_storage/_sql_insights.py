"""``InsightStore`` on SQL: issue search, event histograms, tag counts, event neighbours.

Each read is an index range: issues by ``(project_id, sort, id)``, events by
``(project_id, received_at, id)`` or ``(issue_id, received_at, id)``, histograms by the
primary key of the hourly counts (``_sql_rollup``), summed into buckets by the database.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

import orjson
from sqlalchemy import ColumnElement, Text, cast, exists, func, or_, select, tuple_

from resentry_core._errors import NotFoundError
from resentry_core._models import Issue, LogEntry, Page
from resentry_core._rules import check_status
from resentry_core._storage._insights import HistogramUnit, IssueFilter, TagDistribution
from resentry_core._storage._protocol import DEFAULT_PAGE_SIZE
from resentry_core._storage._sql_db import Database
from resentry_core._storage._sql_read import issue_page
from resentry_core._storage._sql_rollup import UNITS, floor, issue_counts, project_counts
from resentry_core._storage._sql_telemetry import list_logs
from resentry_core._storage._sql_tx import Tx, chunks
from resentry_core._storage._tables import events, issues
from resentry_core._storage._values import aware

P = ParamSpec("P")
T = TypeVar("T")

# Tags taken from an event's own columns when the event has no tag of that name.
_COLUMN_TAGS = ("environment", "release")


class SqlInsights:
    """The :class:`~resentry_core._storage._insights.InsightStore` methods of ``SqlStorage``."""

    _db: Database

    async def _insight(self, fn: Callable[Concatenate[Tx, P], T], *a: P.args, **k: P.kwargs) -> T:
        return await self._db.read(lambda conn: fn(Tx(conn), *a, **k))

    async def search_issues(
        self,
        project_id: int,
        where: IssueFilter,
        *,
        sort: str = "last_seen",
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Issue]:
        """See ``InsightStore.search_issues``."""
        return await self._insight(search_issues, project_id, where, sort, cursor, limit)

    async def search_logs(
        self,
        project_id: int,
        *,
        level: str | None = None,
        text: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[LogEntry]:
        """See ``InsightStore.search_logs``."""
        return await self._insight(list_logs, project_id, level, None, cursor, limit, text)

    async def unresolved_counts(self, project_ids: Sequence[int]) -> dict[int, int]:
        """See ``InsightStore.unresolved_counts``."""
        return await self._insight(unresolved_counts, project_ids)

    async def project_histograms(
        self, project_ids: Sequence[int], *, until: datetime, unit: HistogramUnit, buckets: int
    ) -> dict[int, tuple[int, ...]]:
        """See ``InsightStore.project_histograms``."""
        since, end = _window(until, unit, buckets)
        counts = await self._insight(project_counts, project_ids, since, end, unit)
        return _histograms(counts, project_ids, since, unit, buckets)

    async def issue_histograms(
        self,
        project_id: int,
        issue_ids: Sequence[int],
        *,
        until: datetime,
        unit: HistogramUnit,
        buckets: int,
    ) -> dict[int, tuple[int, ...]]:
        """See ``InsightStore.issue_histograms``."""
        since, end = _window(until, unit, buckets)
        counts = await self._insight(issue_counts, project_id, issue_ids, since, end, unit)
        return _histograms(counts, issue_ids, since, unit, buckets)

    async def tag_distribution(
        self, project_id: int, issue_id: int, *, sample: int = 1000
    ) -> TagDistribution:
        """See ``InsightStore.tag_distribution``."""
        return await self._insight(tag_distribution, project_id, issue_id, sample)

    async def event_neighbors(
        self, project_id: int, issue_id: int, event_id: str
    ) -> tuple[str | None, str | None]:
        """See ``InsightStore.event_neighbors``."""
        return await self._insight(event_neighbors, project_id, issue_id, event_id)


def _issue_conditions(where: IssueFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.status is not None:
        conditions.append(issues.c.status == check_status(where.status))
    if where.level is not None:
        conditions.append(issues.c.level == where.level)
    for column, value in (
        (events.c.environment, where.environment),
        (events.c.release, where.release),
    ):
        if value is not None:
            conditions.append(exists().where(events.c.issue_id == issues.c.id, column == value))
    if where.text:
        conditions.append(
            or_(
                issues.c.title.icontains(where.text, autoescape=True),
                issues.c.culprit.icontains(where.text, autoescape=True),
            )
        )
    return conditions


def search_issues(
    tx: Tx, project_id: int, where: IssueFilter, sort: str, cursor: str | None, limit: int
) -> Page[Issue]:
    """The project's issues matching ``where``, in ``sort`` order (descending, ties by id)."""
    return issue_page(tx, project_id, _issue_conditions(where), sort, cursor, limit)


def unresolved_counts(tx: Tx, project_ids: Sequence[int]) -> dict[int, int]:
    """Unresolved issues per project."""
    counts = dict.fromkeys(project_ids, 0)
    for chunk in chunks(sorted(set(project_ids))):
        query = (
            select(issues.c.project_id, func.count())
            .where(issues.c.project_id.in_(chunk), issues.c.status == "unresolved")
            .group_by(issues.c.project_id)
        )
        for owner_id, count in tx.conn.execute(query).all():
            counts[owner_id] = count
    return counts


def _window(until: datetime, unit: HistogramUnit, buckets: int) -> tuple[datetime, datetime]:
    """``[since, end)`` of ``buckets`` whole units, the last one holding ``until``."""
    step = UNITS[unit]
    last = floor(aware(until, "until"), unit)
    return last - step * (buckets - 1), last + step


def _histograms(
    counts: dict[tuple[int, datetime], int],
    owner_ids: Sequence[int],
    since: datetime,
    unit: HistogramUnit,
    buckets: int,
) -> dict[int, tuple[int, ...]]:
    step = UNITS[unit]
    starts = [since + step * index for index in range(buckets)]
    return {
        owner_id: tuple(counts.get((owner_id, start), 0) for start in starts)
        for owner_id in owner_ids
    }


def tag_distribution(tx: Tx, project_id: int, issue_id: int, sample: int) -> TagDistribution:
    """Tag value counts over the issue's latest ``sample`` events."""
    # The tags as JSON text, decoded here: SQLAlchemy's JSON result processing would cost
    # more than the decoding itself.
    query = (
        select(cast(events.c.tags, Text), events.c.environment, events.c.release)
        .where(events.c.issue_id == issue_id, events.c.project_id == project_id)
        .order_by(events.c.received_at.desc(), events.c.id.desc())
        .limit(max(1, sample))
    )
    rows = tx.conn.execute(query).all()
    pairs: list[tuple[str, str]] = []  # (name, value), counted at once (in C) below
    for tags, *columns in rows:
        own: dict[str, str] = orjson.loads(tags) if tags else {}
        pairs += own.items()
        pairs += [
            (name, value)
            for name, value in zip(_COLUMN_TAGS, columns, strict=True)
            if value is not None and name not in own
        ]
    by_name: dict[str, list[tuple[str, int]]] = {}
    for (name, value), count in Counter(pairs).items():
        by_name.setdefault(name, []).append((value, count))
    return TagDistribution(
        sampled=len(rows),
        tags={
            name: sorted(counts, key=lambda pair: (-pair[1], pair[0]))
            for name, counts in sorted(by_name.items())
        },
    )


def event_neighbors(
    tx: Tx, project_id: int, issue_id: int, event_id: str
) -> tuple[str | None, str | None]:
    """The issue's events received just before and after ``event_id``."""
    current = tx.conn.execute(
        select(events.c.received_at, events.c.id).where(
            events.c.project_id == project_id,
            events.c.event_id == event_id,
            events.c.issue_id == issue_id,
        )
    ).first()
    if current is None:
        raise NotFoundError(f"event {event_id} not found in issue {issue_id}")
    position = tuple_(events.c.received_at, events.c.id)
    mark = tuple_(*current)
    same_issue = events.c.issue_id == issue_id
    older = tx.conn.execute(
        select(events.c.event_id)
        .where(same_issue, events.c.received_at <= current.received_at, position < mark)
        .order_by(events.c.received_at.desc(), events.c.id.desc())
        .limit(1)
    ).scalar()
    newer = tx.conn.execute(
        select(events.c.event_id)
        .where(same_issue, events.c.received_at >= current.received_at, position > mark)
        .order_by(events.c.received_at, events.c.id)
        .limit(1)
    ).scalar()
    return older, newer
