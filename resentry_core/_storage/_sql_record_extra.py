"""The non-event parts of ``SqlStorage.record``: sessions, check-ins, logs, feedback, reports.

Called by ``_sql_record.record_batch`` inside its transaction, after the envelopes exist.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Update, bindparam, case, or_, select, update

from resentry_core._records import CheckInRecord, EventRecord, PreparedEnvelope
from resentry_core._storage._sql_tx import Row, Tx, pair_filters
from resentry_core._storage._tables import (
    NIL_ID,
    TIMESTAMP,
    check_ins,
    discard_counters,
    feedback,
    logs,
    monitors,
    session_aggregates,
    sessions,
)

_ERRORED_STATUSES = frozenset({"errored", "crashed", "abnormal"})


@dataclass(slots=True, kw_only=True)
class Kept:
    """An envelope of the batch that is not a duplicate, and what it stores."""

    index: int  # its position in the batch
    envelope: PreparedEnvelope
    received_at: datetime
    events: list[EventRecord]  # the events whose ids are not stored yet
    envelope_id: int = 0
    item_ids: dict[int, int] = field(default_factory=dict)  # position -> envelope_items.id


def record_extras(tx: Tx, kept: Sequence[Kept]) -> None:
    """Store the sessions, aggregates, check-ins, logs, feedback and discard counts."""
    _upsert_sessions(tx, kept)
    tx.insert(session_aggregates, _aggregate_rows(kept))
    _record_check_ins(tx, kept)
    tx.insert(logs, _log_rows(kept))
    tx.insert(feedback, _feedback_rows(kept))
    tx.insert(discard_counters, _discard_rows(kept))


def _session_set(excluded: Any) -> dict[str, Any]:
    wins = excluded.seq >= sessions.c.seq
    replaced = ("envelope_id", "release", "environment", "status", "seq")
    values: dict[str, Any] = {
        name: case((wins, excluded[name]), else_=sessions.c[name]) for name in replaced
    }
    values["errored"] = or_(sessions.c.errored, excluded.errored)
    return values


def _upsert_sessions(tx: Tx, kept: Sequence[Kept]) -> None:
    # Updates of one sid within the batch are merged first (the merge is the same rule as the
    # upsert: the highest seq wins, the later one on a tie; "errored" is sticky), so that each
    # row is written once, in (project, sid) order.
    merged: dict[tuple[int, str], Row] = {}
    for entry in kept:
        project_id = entry.envelope.project_id
        for update_ in entry.envelope.sessions:
            row: Row = {
                "project_id": project_id,
                "envelope_id": entry.envelope_id,
                "sid": update_.sid,
                "release": update_.release,
                "environment": update_.environment,
                "status": update_.status,
                "seq": update_.seq,
                "errored": update_.errors > 0 or update_.status in _ERRORED_STATUSES,
            }
            key = (project_id, update_.sid)
            old = merged.get(key)
            if old is None or row["seq"] >= old["seq"]:
                row["errored"] = row["errored"] or (old is not None and old["errored"])
                merged[key] = row
            else:
                old["errored"] = old["errored"] or row["errored"]
    if merged:
        statement = tx.upsert(sessions, ("project_id", "sid"), _session_set)
        tx.conn.execute(statement, [merged[key] for key in sorted(merged)])


def _aggregate_rows(kept: Sequence[Kept]) -> list[Row]:
    return [
        {
            "envelope_id": entry.envelope_id,
            "project_id": entry.envelope.project_id,
            "release": bucket.release,
            "environment": bucket.environment,
            "exited": bucket.exited,
            "errored": bucket.errored,
            "abnormal": bucket.abnormal,
            "crashed": bucket.crashed,
        }
        for entry in kept
        for bucket in entry.envelope.session_aggregates
    ]


@dataclass(slots=True, kw_only=True)
class _MonitorState:
    id: int
    config: Any
    last_check_in: datetime | None
    last_status: str | None
    dirty: bool = False


@dataclass(slots=True, kw_only=True)
class _CheckInState:
    row: Row  # the check_ins columns, "id" included once the row exists
    dirty: bool = False


_UPDATE_MONITOR = (
    update(monitors)
    .where(monitors.c.id == bindparam("b_id"))
    .values(
        config=bindparam("b_config", type_=monitors.c.config.type),
        last_check_in=bindparam("b_last_check_in", type_=TIMESTAMP),
        last_status=bindparam("b_last_status"),
    )
)
_CHECK_IN_UPDATED = ("envelope_id", "status", "duration", "environment", "release", "trace_id")
_UPDATE_CHECK_IN = (
    update(check_ins)
    .where(check_ins.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}") for name in _CHECK_IN_UPDATED})
)


def _record_check_ins(tx: Tx, kept: Sequence[Kept]) -> None:
    """Apply the batch's check-ins, in order, to their monitors and check-ins (locked)."""
    pending = [(entry, record) for entry in kept for record in entry.envelope.check_ins]
    if not pending:
        return
    monitor_by_slug = _lock_monitors(tx, pending)
    known = _lock_check_ins(tx, pending, monitor_by_slug)
    inserts: list[Row] = []
    for entry, record in pending:
        monitor = monitor_by_slug[(entry.envelope.project_id, record.monitor_slug)]
        timestamp = record.timestamp.astimezone(UTC)
        if record.monitor_config is not None:
            monitor.config, monitor.dirty = record.monitor_config, True
        if monitor.last_check_in is None or timestamp >= monitor.last_check_in:
            monitor.last_check_in, monitor.last_status = timestamp, record.status
            monitor.dirty = True
        key = (monitor.id, record.check_in_id)
        state = None if record.check_in_id == NIL_ID else known.get(key)
        if state is None:
            row: Row = {
                "monitor_id": monitor.id,
                "envelope_id": entry.envelope_id,
                "check_in_id": record.check_in_id,
                "status": record.status,
                "duration": record.duration,
                "environment": record.environment,
                "release": record.release,
                "timestamp": timestamp,
                "trace_id": record.trace_id,
            }
            inserts.append(row)
            if record.check_in_id != NIL_ID:
                known[key] = _CheckInState(row=row)  # later updates in the batch edit the insert
            continue
        row = state.row
        duration = record.duration
        if duration is None and record.status != "in_progress":
            duration = max(0.0, (timestamp - row["timestamp"]).total_seconds())
        row.update(
            envelope_id=entry.envelope_id,
            status=record.status,
            duration=duration,
            environment=record.environment or row["environment"],
            release=record.release or row["release"],
            trace_id=record.trace_id or row["trace_id"],
        )
        state.dirty = True
    tx.insert(check_ins, inserts)
    _update(
        tx,
        _UPDATE_CHECK_IN,
        [
            {f"b_{name}": state.row[name] for name in ("id", *_CHECK_IN_UPDATED)}
            for state in known.values()
            if state.dirty and "id" in state.row
        ],
    )
    _update(
        tx,
        _UPDATE_MONITOR,
        [
            {
                "b_id": monitor.id,
                "b_config": monitor.config,
                "b_last_check_in": monitor.last_check_in,
                "b_last_status": monitor.last_status,
            }
            for monitor in monitor_by_slug.values()
            if monitor.dirty
        ],
    )


def _update(tx: Tx, statement: Update, rows: list[Row]) -> None:
    if rows:
        tx.conn.execute(statement, rows)


def _lock_monitors(
    tx: Tx, pending: list[tuple[Kept, CheckInRecord]]
) -> dict[tuple[int, str], _MonitorState]:
    """Every monitor the check-ins name, created when missing, locked in (project, slug) order."""
    first_seen: dict[tuple[int, str], datetime] = {}
    for entry, record in pending:
        first_seen.setdefault((entry.envelope.project_id, record.monitor_slug), entry.received_at)
    keys = sorted(first_seen)
    missing = [
        {
            "project_id": project_id,
            "slug": slug,
            "config": None,
            "created_at": first_seen[(project_id, slug)],
            "last_check_in": None,
            "last_status": None,
        }
        for project_id, slug in keys
    ]
    tx.conn.execute(tx.insert_missing(monitors, ("project_id", "slug")), missing)
    found: dict[tuple[int, str], _MonitorState] = {}
    for where in pair_filters(monitors.c.project_id, monitors.c.slug, keys):
        query = (
            select(monitors.c.id, monitors.c.project_id, monitors.c.slug, monitors.c.config)
            .add_columns(monitors.c.last_check_in, monitors.c.last_status)
            .where(where)
            .order_by(monitors.c.project_id, monitors.c.slug)
        )
        for row in tx.conn.execute(tx.locking(query)).all():
            found[(row.project_id, row.slug)] = _MonitorState(
                id=row.id,
                config=row.config,
                last_check_in=row.last_check_in,
                last_status=row.last_status,
            )
    return found


def _lock_check_ins(
    tx: Tx,
    pending: list[tuple[Kept, CheckInRecord]],
    monitor_by_slug: dict[tuple[int, str], _MonitorState],
) -> dict[tuple[int, str], _CheckInState]:
    """The stored check-ins the batch updates, by (monitor id, check-in id), locked."""
    keys = sorted(
        {
            (
                monitor_by_slug[(entry.envelope.project_id, record.monitor_slug)].id,
                record.check_in_id,
            )
            for entry, record in pending
            if record.check_in_id != NIL_ID
        }
    )
    known: dict[tuple[int, str], _CheckInState] = {}
    for where in pair_filters(check_ins.c.monitor_id, check_ins.c.check_in_id, keys):
        query = (
            select(check_ins.c.id, check_ins.c.monitor_id, check_ins.c.check_in_id)
            .add_columns(*(check_ins.c[name] for name in (*_CHECK_IN_UPDATED, "timestamp")))
            .where(where, check_ins.c.check_in_id != NIL_ID)  # the pair's index is partial
            .order_by(check_ins.c.monitor_id, check_ins.c.check_in_id)
        )
        for row in tx.conn.execute(tx.locking(query)).mappings():
            known[(row["monitor_id"], row["check_in_id"])] = _CheckInState(row=dict(row))
    return known


def _log_rows(kept: Sequence[Kept]) -> list[Row]:
    return [
        {
            "envelope_id": entry.envelope_id,
            "project_id": entry.envelope.project_id,
            "timestamp": log.timestamp,
            "level": log.level,
            "body": log.body,
            "attributes": log.attributes,
            "trace_id": log.trace_id,
            "span_id": log.span_id,
            "severity_number": log.severity_number,
        }
        for entry in kept
        for log in entry.envelope.logs
    ]


def _feedback_rows(kept: Sequence[Kept]) -> list[Row]:
    return [
        {
            "envelope_id": entry.envelope_id,
            "project_id": entry.envelope.project_id,
            "received_at": entry.received_at,
            "event_id": record.event_id,
            "associated_event_id": record.associated_event_id,
            "name": record.name,
            "email": record.email,
            "message": record.message,
            "url": record.url,
            "source": record.source,
        }
        for entry in kept
        for record in entry.envelope.feedback
    ]


def _discard_rows(kept: Sequence[Kept]) -> list[Row]:
    return [
        {
            "envelope_id": entry.envelope_id,
            "project_id": entry.envelope.project_id,
            "reason": count.reason,
            "category": count.category,
            "quantity": count.quantity,
        }
        for entry in kept
        for count in entry.envelope.discarded
    ]
