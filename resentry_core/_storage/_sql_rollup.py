"""The hourly event counts (``event_hours``): added to by ``record``, lowered by ``prune``,
read by the histograms of ``InsightStore``.

Each count is exactly the number of stored events of its issue (or, with ``issue_id``
:data:`PROJECT_TOTAL`, of its project) received in its hour: ``record`` adds a batch's events
in the transaction that inserts them, one upsert per distinct (project, issue, hour);
``prune`` takes away the events it deletes, in the transaction that deletes them. Hours are
whole UTC hours.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, bindparam, delete, func, select, update

from resentry_core._storage._insights import HistogramUnit
from resentry_core._storage._sql_tx import DriverSql, Row, Tx, chunks
from resentry_core._storage._tables import event_hours, events

PROJECT_TOTAL: Final = 0
"""The ``issue_id`` of a project's own rows: every event of the project, with or without issue."""

UNITS: Final[dict[HistogramUnit, timedelta]] = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
_HOUR_SECONDS = 3600
_SQLITE_PREFIX = {"hour": 13, "day": 10}  # "YYYY-MM-DD HH" / "YYYY-MM-DD" of the UTC text

# Plain SQL run on the driver (``_sql_tx.DriverSql``): part of every batch that stores events.
_ADD_COLUMNS = ("project_id", "issue_id", "hour", "count")
_ADD = DriverSql(
    'INSERT INTO "event_hours" ("project_id", "issue_id", "hour", "count")'
    " VALUES ({project_id}, {issue_id}, {hour}, {count})"
    ' ON CONFLICT ("project_id", "issue_id", "hour")'
    ' DO UPDATE SET "count" = "event_hours"."count" + excluded."count"',
    {name: event_hours.c[name].type for name in _ADD_COLUMNS},
)
# PostgreSQL: the batch's rows as four arrays (asyncpg's parameters), unnested in one statement.
_ADD_POSTGRES = (
    'INSERT INTO "event_hours" ("project_id", "issue_id", "hour", "count")'
    " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::bigint[])"
    ' ON CONFLICT ("project_id", "issue_id", "hour")'
    ' DO UPDATE SET "count" = "event_hours"."count" + excluded."count"'
)

_KEY = (
    event_hours.c.project_id == bindparam("b_project_id"),
    event_hours.c.issue_id == bindparam("b_issue_id"),
    event_hours.c.hour == bindparam("b_hour"),
)
_LOWER = update(event_hours).where(*_KEY).values(count=event_hours.c.count - bindparam("b_count"))
_DROP_EMPTY = delete(event_hours).where(*_KEY, event_hours.c.count <= 0)


def floor(moment: datetime, unit: HistogramUnit = "hour") -> datetime:
    """The start of the UTC hour (day) holding ``moment``."""
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if unit == "day" else moment


def add_events(tx: Tx, rows: Iterable[Row]) -> None:
    """Count the ``events`` rows just inserted (``project_id``, ``issue_id``, ``received_at``).

    Hours are counted as whole hours since the epoch (cheaper than flooring each datetime;
    this runs for every stored event). The upserts run in key order, so concurrent
    PostgreSQL writers lock rows alike and cannot deadlock on them: an executemany on
    SQLite, one statement over arrays on PostgreSQL.
    """
    counts: dict[tuple[int, int, int], int] = {}
    get = counts.get
    for row in rows:
        hour = int(row["received_at"].timestamp() // _HOUR_SECONDS)
        project_id, issue_id = row["project_id"], row["issue_id"]
        key = (project_id, PROJECT_TOTAL, hour)
        counts[key] = get(key, 0) + 1
        if issue_id is not None:
            key = (project_id, issue_id, hour)
            counts[key] = get(key, 0) + 1
    hours = [
        (project_id, issue_id, datetime.fromtimestamp(hour * _HOUR_SECONDS, UTC), count)
        for (project_id, issue_id, hour), count in sorted(counts.items())
    ]
    if not hours:
        return
    if tx.sqlite:
        tx.execute_many(_ADD, [dict(zip(_ADD_COLUMNS, row, strict=True)) for row in hours])
    else:
        # One statement for every row: PostgreSQL would run an executemany's rows one by one.
        tx.conn.exec_driver_sql(_ADD_POSTGRES, tuple(map(list, zip(*hours, strict=True))))


def remove_events(tx: Tx, project_id: int, where: Sequence[ColumnElement[bool]]) -> list[int]:
    """Take the project's events matching ``where`` (about to be deleted) out of the counts,
    dropping hours left empty; return the ids of their issues."""
    hour = _bucket(tx, events.c.received_at, "hour").label("hour")
    query = (
        select(events.c.issue_id, hour, func.count())
        .where(events.c.project_id == project_id, *where)
        .group_by(events.c.issue_id, hour)
    )
    counts: Counter[tuple[int, datetime]] = Counter()
    for issue_id, start, count in tx.conn.execute(query).all():
        moment = _as_time(start, "hour")
        counts[PROJECT_TOTAL, moment] += count
        if issue_id is not None:
            counts[issue_id, moment] += count
    keys: list[Row] = [
        {"b_project_id": project_id, "b_issue_id": issue_id, "b_hour": moment, "b_count": count}
        for (issue_id, moment), count in sorted(counts.items())
    ]
    if keys:
        tx.conn.execute(_LOWER, keys)
        tx.conn.execute(_DROP_EMPTY, keys)
    return sorted({issue_id for issue_id, _ in counts} - {PROJECT_TOTAL})


def project_counts(
    tx: Tx, project_ids: Sequence[int], since: datetime, end: datetime, unit: HistogramUnit
) -> dict[tuple[int, datetime], int]:
    """Every event of each project received in ``[since, end)``, per (project, bucket start)."""
    scopes = [
        (event_hours.c.project_id.in_(chunk), event_hours.c.issue_id == PROJECT_TOTAL)
        for chunk in chunks(sorted(set(project_ids)))
    ]
    return _counts(tx, event_hours.c.project_id, scopes, since, end, unit)


def issue_counts(
    tx: Tx,
    project_id: int,
    issue_ids: Sequence[int],
    since: datetime,
    end: datetime,
    unit: HistogramUnit,
) -> dict[tuple[int, datetime], int]:
    """The events of the project's issues received in ``[since, end)``, per (issue, bucket
    start)."""
    wanted = sorted(set(issue_ids) - {PROJECT_TOTAL})
    scopes = [
        (event_hours.c.project_id == project_id, event_hours.c.issue_id.in_(chunk))
        for chunk in chunks(wanted)
    ]
    return _counts(tx, event_hours.c.issue_id, scopes, since, end, unit)


def _counts(
    tx: Tx,
    owner: ColumnElement[int],
    scopes: Iterable[tuple[ColumnElement[bool], ColumnElement[bool]]],
    since: datetime,
    end: datetime,
    unit: HistogramUnit,
) -> dict[tuple[int, datetime], int]:
    bucket = _bucket(tx, event_hours.c.hour, unit).label("bucket")
    counts: dict[tuple[int, datetime], int] = {}
    for scope in scopes:
        query = (
            select(owner, bucket, func.sum(event_hours.c.count))
            .where(*scope, event_hours.c.hour >= since, event_hours.c.hour < end)
            .group_by(owner, bucket)
        )
        for owner_id, start, count in tx.conn.execute(query).all():
            counts[owner_id, _as_time(start, unit)] = int(count)
    return counts


def _bucket(tx: Tx, column: ColumnElement[datetime], unit: HistogramUnit) -> ColumnElement[Any]:
    """The start of ``column``'s bucket: a prefix of SQLite's UTC text, ``date_trunc`` on
    PostgreSQL."""
    if tx.sqlite:
        return func.substr(column, 1, _SQLITE_PREFIX[unit])
    return func.date_trunc(unit, column, "UTC")


def _as_time(value: object, unit: HistogramUnit) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    text = str(value)
    return datetime.fromisoformat(text + (":00" if unit == "hour" else "")).replace(tzinfo=UTC)
