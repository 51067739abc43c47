"""Reads of release health, cron monitors, logs, feedback and client reports on SQL.

Short lists sorted by text (monitors by slug, release health, discard counters) are sorted in
Python, so that their order is the same on every backend whatever the database collation.
"""

from typing import Any

from sqlalchemy import Integer, cast, func, select

from resentry_core._errors import NotFoundError
from resentry_core._models import (
    CheckIn,
    DiscardCounter,
    Feedback,
    LogEntry,
    Monitor,
    Page,
    ReleaseHealth,
)
from resentry_core._storage._sql_read import keyset_page
from resentry_core._storage._sql_tx import Tx
from resentry_core._storage._tables import (
    check_ins,
    discard_counters,
    feedback,
    logs,
    monitors,
    session_aggregates,
    sessions,
)

_HEALTH_FIELDS = ("started", "errored", "crashed", "abnormal", "exited")


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(cast(condition, Integer)), 0)


def release_health(tx: Tx, project_id: int) -> list[ReleaseHealth]:
    """Session counts per release and environment (see ``EventStore.release_health``)."""
    counts: dict[tuple[str, str | None], dict[str, int]] = {}

    def add(release: str, environment: str | None, **values: int) -> None:
        bucket = counts.setdefault((release, environment), dict.fromkeys(_HEALTH_FIELDS, 0))
        for name, value in values.items():
            bucket[name] += int(value)

    single = (
        select(
            sessions.c.release,
            sessions.c.environment,
            func.count().label("started"),
            _count_if(sessions.c.errored).label("errored"),
            *(
                _count_if(sessions.c.status == status).label(status)
                for status in ("exited", "crashed", "abnormal")
            ),
        )
        .where(sessions.c.project_id == project_id)
        .group_by(sessions.c.release, sessions.c.environment)
    )
    for row in tx.conn.execute(single).all():
        add(
            row.release,
            row.environment,
            **{name: getattr(row, name) for name in _HEALTH_FIELDS},
        )
    sums = [
        func.coalesce(func.sum(session_aggregates.c[name]), 0).label(name)
        for name in ("exited", "errored", "abnormal", "crashed")
    ]
    buckets = (
        select(session_aggregates.c.release, session_aggregates.c.environment, *sums)
        .where(session_aggregates.c.project_id == project_id)
        .group_by(session_aggregates.c.release, session_aggregates.c.environment)
    )
    for row in tx.conn.execute(buckets).all():
        add(
            row.release,
            row.environment,
            started=row.exited + row.errored + row.abnormal + row.crashed,
            exited=row.exited + row.errored,
            errored=row.errored + row.crashed + row.abnormal,
            crashed=row.crashed,
            abnormal=row.abnormal,
        )
    return [
        ReleaseHealth(release=release, environment=environment, **bucket)
        for (release, environment), bucket in sorted(
            counts.items(), key=lambda entry: (entry[0][0], entry[0][1] is not None, entry[0][1])
        )
    ]


def monitor_from_row(row: Any) -> Monitor:
    """The :class:`Monitor` of a ``monitors`` row."""
    return Monitor(
        id=row.id,
        project_id=row.project_id,
        slug=row.slug,
        config=row.config,
        created_at=row.created_at,
        last_check_in=row.last_check_in,
        last_status=row.last_status,
    )


def list_monitors(tx: Tx, project_id: int) -> list[Monitor]:
    """The project's monitors by slug."""
    rows = tx.conn.execute(select(monitors).where(monitors.c.project_id == project_id)).all()
    return sorted((monitor_from_row(row) for row in rows), key=lambda monitor: monitor.slug)


def _check_in(row: Any) -> CheckIn:
    return CheckIn(
        id=row.id,
        monitor_id=row.monitor_id,
        check_in_id=row.check_in_id,
        status=row.status,
        duration=row.duration,
        environment=row.environment,
        release=row.release,
        timestamp=row.timestamp,
        trace_id=row.trace_id,
    )


def list_check_ins(
    tx: Tx, project_id: int, monitor_slug: str, cursor: str | None, limit: int
) -> Page[CheckIn]:
    """A monitor's check-ins, newest timestamp first. Raises NotFoundError."""
    query = select(monitors.c.id).where(
        monitors.c.project_id == project_id, monitors.c.slug == monitor_slug
    )
    monitor_id = tx.conn.execute(query).scalar()
    if monitor_id is None:
        raise NotFoundError(f"monitor {monitor_slug!r} not found in project {project_id}")
    return keyset_page(
        tx,
        select(check_ins).where(check_ins.c.monitor_id == monitor_id),
        kind="check_ins",
        sort=check_ins.c.timestamp,
        row_id=check_ins.c.id,
        cursor=cursor,
        limit=limit,
        present=_check_in,
    )


def _log(row: Any) -> LogEntry:
    return LogEntry(
        id=row.id,
        project_id=row.project_id,
        timestamp=row.timestamp,
        level=row.level,
        body=row.body,
        attributes=row.attributes,
        trace_id=row.trace_id,
        span_id=row.span_id,
        severity_number=row.severity_number,
    )


def list_logs(
    tx: Tx,
    project_id: int,
    level: str | None,
    trace_id: str | None,
    cursor: str | None,
    limit: int,
    text: str | None = None,
) -> Page[LogEntry]:
    """The project's logs, newest timestamp first; ``text``: whose body contains it (any case)."""
    query = select(logs).where(logs.c.project_id == project_id)
    if level is not None:
        query = query.where(logs.c.level == level)
    if text:
        query = query.where(logs.c.body.icontains(text, autoescape=True))
    if trace_id is not None:
        query = query.where(logs.c.trace_id == trace_id)
    return keyset_page(
        tx,
        query,
        kind="logs",
        sort=logs.c.timestamp,
        row_id=logs.c.id,
        cursor=cursor,
        limit=limit,
        present=_log,
    )


def _feedback(row: Any) -> Feedback:
    return Feedback(
        id=row.id,
        project_id=row.project_id,
        event_id=row.event_id,
        associated_event_id=row.associated_event_id,
        name=row.name,
        email=row.email,
        message=row.message,
        url=row.url,
        source=row.source,
        received_at=row.received_at,
    )


def list_feedback(tx: Tx, project_id: int, cursor: str | None, limit: int) -> Page[Feedback]:
    """The project's feedback, newest received first."""
    return keyset_page(
        tx,
        select(feedback).where(feedback.c.project_id == project_id),
        kind="feedback",
        sort=feedback.c.received_at,
        row_id=feedback.c.id,
        cursor=cursor,
        limit=limit,
        present=_feedback,
    )


def list_discard_counters(tx: Tx, project_id: int) -> list[DiscardCounter]:
    """Discarded quantities summed per reason and category, ordered by both."""
    query = (
        select(
            discard_counters.c.reason,
            discard_counters.c.category,
            func.sum(discard_counters.c.quantity).label("quantity"),
        )
        .where(discard_counters.c.project_id == project_id)
        .group_by(discard_counters.c.reason, discard_counters.c.category)
    )
    rows = tx.conn.execute(query).all()
    return [
        DiscardCounter(reason=row.reason, category=row.category, quantity=int(row.quantity))
        for row in sorted(rows, key=lambda row: (row.reason, row.category))
    ]
