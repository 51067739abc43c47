"""``SqlStorage.record``: a batch of prepared envelopes in one transaction, in few statements.

The statement count does not grow with the batch: one ``SELECT`` finds already-stored event
ids, every table gets one executemany (the ids that later rows refer to are allocated first,
see ``Tx.insert_ids``), issues are upserted once per distinct ``(project, fingerprint)``
of the batch, not once per event, and the hourly event counts once per distinct
``(project, issue, hour)`` (``_sql_rollup``).

Exact issue counters under concurrent writers (PostgreSQL, several processes): the batch's
stored issues are locked with ``SELECT … ORDER BY fingerprint FOR UPDATE`` (a deterministic
order, so two writers cannot deadlock on them), the missing ones are inserted complete with
``ON CONFLICT DO NOTHING`` (in the same order), those a concurrent writer created meanwhile
are locked in turn, and every locked issue is updated from its locked values. On SQLite the
write lock serializes whole batches.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import select

from resentry_core._errors import InvalidInputError, NotFoundError
from resentry_core._notify._models import level_rank
from resentry_core._records import EventRecord, PreparedEnvelope, Recorded
from resentry_core._rules import check_status, status_after_event
from resentry_core._storage import _sql_record_extra, _sql_rollup
from resentry_core._storage._sql_notify import notice_row
from resentry_core._storage._sql_record_extra import Kept
from resentry_core._storage._sql_tx import DriverSql, InLookup, Row, Tx, chunks
from resentry_core._storage._tables import (
    attachments,
    envelope_items,
    envelopes,
    events,
    issues,
    notification_outbox,
    notification_rules,
    notification_windows,
    projects,
)
from resentry_core._storage._values import aware


@dataclass(slots=True, kw_only=True)
class _Group:
    """The events of one issue within the batch."""

    project_id: int
    fingerprint: str
    first: EventRecord
    latest: EventRecord  # latest received; on a tie, the one recorded later
    count: int
    first_seen: datetime
    last_seen: datetime
    issue_id: int = 0
    created: bool = False
    reopened: bool = False


def record_batch(tx: Tx, batch: Sequence[PreparedEnvelope]) -> list[Recorded]:
    """Store ``batch`` (see ``IngestStore.record``) on the open write transaction ``tx``."""
    received = [_validate(envelope) for envelope in batch]
    with tx.custom_plans():
        stored = _stored_event_ids(tx, batch)
    kept, duplicates = _plan(batch, received, stored)
    groups: dict[tuple[int, str], _Group] = {}
    if kept:
        _insert_envelopes(tx, kept)
        _insert_items(tx, kept)
        groups = _group(kept)
        _upsert_issues(tx, groups)
        _insert_events(tx, kept, groups)
        _insert_attachments(tx, kept)
        _sql_record_extra.record_extras(tx, kept)
        _insert_outbox(tx, kept, groups)
    results = dict(duplicates)
    for entry in kept:
        results[entry.index] = _recorded(entry, groups)
    return [results[index] for index in range(len(batch))]


def _validate(envelope: PreparedEnvelope) -> datetime:
    received_at = aware(envelope.received_at, "received_at")
    positions = {item.position for item in envelope.items}
    if len(positions) != len(envelope.items):
        raise InvalidInputError("two items of the envelope share a position")
    referenced = {record.item_position for record in envelope.events}
    referenced.update(record.item_position for record in envelope.attachments)
    missing = sorted(referenced - positions)
    if missing:
        raise InvalidInputError(f"records name item positions {missing} the envelope lacks")
    for record in envelope.events:
        aware(record.timestamp, "event timestamp")
    for check_in in envelope.check_ins:
        aware(check_in.timestamp, "check-in timestamp")
    for log in envelope.logs:
        aware(log.timestamp, "log timestamp")
    return received_at


def require_projects(tx: Tx, project_ids: set[int]) -> None:
    """Raise NotFoundError naming the first of ``project_ids`` that does not exist.

    ``record_batch`` does not check first (one statement less per batch): an envelope of a
    missing project breaks a foreign key, and ``SqlStorage.record`` then calls this.
    """
    found = set(
        tx.conn.execute(select(projects.c.id).where(projects.c.id.in_(project_ids))).scalars().all()
    )
    missing = sorted(project_ids - found)
    if missing:
        raise NotFoundError(f"project {missing[0]} does not exist")


def _stored_event_ids(tx: Tx, batch: Sequence[PreparedEnvelope]) -> set[tuple[int, str]]:
    wanted: dict[int, set[str]] = {}
    for envelope in batch:
        wanted.setdefault(envelope.project_id, set()).update(r.event_id for r in envelope.events)
    stored: set[tuple[int, str]] = set()
    for project_id, event_ids in sorted(wanted.items()):
        for chunk in chunks(sorted(event_ids)):
            found = tx.select_in(_STORED_EVENT_IDS, {"project_id": project_id}, chunk)
            stored.update((project_id, event_id) for (event_id,) in found)
    return stored


def _plan(
    batch: Sequence[PreparedEnvelope], received: list[datetime], stored: set[tuple[int, str]]
) -> tuple[list[Kept], dict[int, Recorded]]:
    seen = set(stored)
    kept: list[Kept] = []
    duplicates: dict[int, Recorded] = {}
    for index, envelope in enumerate(batch):
        project_id = envelope.project_id
        if envelope.events and (project_id, envelope.events[0].event_id) in seen:
            duplicates[index] = Recorded(
                envelope_id=None, event_id=envelope.event_id, duplicate=True
            )
            continue
        fresh: list[EventRecord] = []
        for record in envelope.events:
            if (project_id, record.event_id) not in seen:
                seen.add((project_id, record.event_id))
                fresh.append(record)
        kept.append(Kept(index=index, envelope=envelope, received_at=received[index], events=fresh))
    return kept, duplicates


def _insert_envelopes(tx: Tx, kept: list[Kept]) -> None:
    rows: list[Row] = [
        {
            "project_id": entry.envelope.project_id,
            "received_at": entry.received_at,
            "event_id": entry.envelope.event_id,
            "headers": entry.envelope.headers,
            "raw": entry.envelope.raw,
            "raw_encoding": entry.envelope.raw_encoding,
            "size": len(entry.envelope.raw),
        }
        for entry in kept
    ]
    for entry, envelope_id in zip(kept, tx.insert_ids(envelopes, rows), strict=True):
        entry.envelope_id = envelope_id


def _insert_items(tx: Tx, kept: list[Kept]) -> None:
    rows: list[Row] = []
    owners: list[tuple[Kept, int]] = []
    for entry in kept:
        for item in entry.envelope.items:
            owners.append((entry, item.position))
            rows.append(
                {
                    "envelope_id": entry.envelope_id,
                    "project_id": entry.envelope.project_id,
                    "received_at": entry.received_at,
                    "position": item.position,
                    "type": item.type,
                    "headers": item.headers,
                    "payload": item.payload,
                    "size": len(item.payload),
                }
            )
    item_ids = tx.insert_ids(envelope_items, rows)
    for (entry, position), item_id in zip(owners, item_ids, strict=True):
        entry.item_ids[position] = item_id


def _group(kept: list[Kept]) -> dict[tuple[int, str], _Group]:
    groups: dict[tuple[int, str], _Group] = {}
    for entry in kept:
        for record in entry.events:
            if record.fingerprint is None:
                continue
            key = (entry.envelope.project_id, record.fingerprint)
            group = groups.get(key)
            if group is None:
                groups[key] = _Group(
                    project_id=key[0],
                    fingerprint=key[1],
                    first=record,
                    latest=record,
                    count=1,
                    first_seen=entry.received_at,
                    last_seen=entry.received_at,
                )
                continue
            group.count += 1
            group.first_seen = min(group.first_seen, entry.received_at)
            if entry.received_at >= group.last_seen:
                group.last_seen = entry.received_at
                group.latest = record
    return groups


# Plain SQL run on the driver (``_sql_tx.DriverSql``): SQLAlchemy's execution of a statement
# costs more than the driver's.
_STORED_EVENT_IDS = InLookup(
    DriverSql(
        'SELECT "event_id" FROM "events" WHERE "project_id" = {project_id}'
        ' AND "event_id" IN ({in_list})',
        {"project_id": events.c.project_id.type},
        [events.c.event_id.type],
    ),
    events.c.event_id.type,
)


# Read without locks: rules and windows change only by admins and the worker, and a notice
# written or skipped a moment early or late is the same notice.
_LEVEL_RULES = InLookup(
    DriverSql(
        'SELECT "project_id", "channel_id", "min_level" FROM "notification_rules"'
        ' WHERE "trigger" = {trigger} AND "project_id" IN ({in_list})',
        {"trigger": notification_rules.c.trigger.type},
        [
            notification_rules.c.project_id.type,
            notification_rules.c.channel_id.type,
            notification_rules.c.min_level.type,
        ],
    ),
    notification_rules.c.project_id.type,
)
_OPEN_WINDOWS = InLookup(
    DriverSql(
        'SELECT "issue_id", "destination" FROM "notification_windows"'
        ' WHERE "issue_id" IN ({in_list}) AND "ends_at" > {now}',
        {"now": notification_windows.c.ends_at.type},
        [notification_windows.c.issue_id.type, notification_windows.c.destination.type],
    ),
    notification_windows.c.issue_id.type,
)


class _StoredIssue(NamedTuple):
    """An issue's stored values that a batch's update starts from (``_ISSUES``' columns)."""

    id: int
    fingerprint: str
    status: str
    first_seen: datetime
    last_seen: datetime
    last_event_id: str | None
    level: str


_ISSUE_COLUMNS = ", ".join(f'"{name}"' for name in _StoredIssue._fields)
_ISSUES = InLookup(
    DriverSql(
        f'SELECT {_ISSUE_COLUMNS} FROM "issues"'  # noqa: S608 (the NamedTuple's field names)
        ' WHERE "project_id" = {project_id} AND "fingerprint" IN ({in_list})'
        ' ORDER BY "fingerprint"',
        {"project_id": issues.c.project_id.type},
        [issues.c[name].type for name in _StoredIssue._fields],
    ),
    issues.c.fingerprint.type,
)
_UPDATE_ISSUE = DriverSql(
    'UPDATE "issues" SET "times_seen" = "times_seen" + {b_count}, "first_seen" = {b_first_seen},'
    ' "last_seen" = {b_last_seen}, "last_event_id" = {b_last_event_id}, "level" = {b_level},'
    ' "status" = {b_status} WHERE "id" = {b_id}',
    {
        "b_id": issues.c.id.type,
        "b_count": issues.c.times_seen.type,
        "b_first_seen": issues.c.first_seen.type,
        "b_last_seen": issues.c.last_seen.type,
        "b_last_event_id": issues.c.last_event_id.type,
        "b_level": issues.c.level.type,
        "b_status": issues.c.status.type,
    },
)


def _upsert_issues(tx: Tx, groups: dict[tuple[int, str], _Group]) -> None:
    if not groups:
        return
    ordered = [groups[key] for key in sorted(groups)]
    locked = _lock_issues(tx, ordered)
    missing = [group for group in ordered if (group.project_id, group.fingerprint) not in locked]
    if missing:
        _insert_issues(tx, missing)
        lost = [group for group in missing if not group.created]  # a concurrent writer won
        locked.update(_lock_issues(tx, lost))
    tx.execute_many(_UPDATE_ISSUE, [_issue_update(groups[key], row) for key, row in locked.items()])


def _lock_issues(tx: Tx, groups: list[_Group]) -> dict[tuple[int, str], _StoredIssue]:
    """The stored issues of ``groups``, locked (PostgreSQL) in (project, fingerprint) order."""
    by_project: dict[int, list[str]] = {}
    for group in groups:
        by_project.setdefault(group.project_id, []).append(group.fingerprint)
    found: dict[tuple[int, str], _StoredIssue] = {}
    for project_id, fingerprints in sorted(by_project.items()):
        for chunk in chunks(fingerprints):
            for values in tx.select_in(_ISSUES, {"project_id": project_id}, chunk):
                row = _StoredIssue(*values)
                found[(project_id, row.fingerprint)] = row
    return found


def _insert_issues(tx: Tx, missing: list[_Group]) -> None:
    """Create the issues of ``missing`` (already complete), unless a concurrent writer did."""
    rows = [
        {
            "project_id": group.project_id,
            "fingerprint": group.fingerprint,
            "title": group.first.title,
            "culprit": group.first.culprit,
            "level": group.latest.level,
            "status": "unresolved",
            "first_seen": group.first_seen,
            "last_seen": group.last_seen,
            "times_seen": group.count,
            "last_event_id": group.latest.event_id,
        }
        for group in missing
    ]
    statement = tx.insert_missing(issues, ("project_id", "fingerprint")).returning(
        issues.c.id, issues.c.project_id, issues.c.fingerprint
    )
    created = {
        (project_id, fingerprint): issue_id
        for issue_id, project_id, fingerprint in tx.conn.execute(statement, rows).all()
    }
    for group in missing:
        issue_id = created.get((group.project_id, group.fingerprint))
        if issue_id is not None:
            group.issue_id, group.created = issue_id, True


def _issue_update(group: _Group, row: _StoredIssue) -> Row:
    group.issue_id = row.id
    status, group.reopened = status_after_event(check_status(row.status))
    latest = group.last_seen >= row.last_seen
    return {
        "b_id": row.id,
        "b_count": group.count,
        "b_first_seen": min(row.first_seen, group.first_seen),
        "b_last_seen": group.last_seen if latest else row.last_seen,
        "b_last_event_id": group.latest.event_id if latest else row.last_event_id,
        "b_level": group.latest.level if latest else row.level,
        "b_status": status,
    }


def _insert_events(tx: Tx, kept: list[Kept], groups: dict[tuple[int, str], _Group]) -> None:
    rows: list[Row] = []
    for entry in kept:
        project_id = entry.envelope.project_id
        for record in entry.events:
            group = None if record.fingerprint is None else groups[(project_id, record.fingerprint)]
            rows.append(
                {
                    "item_id": entry.item_ids[record.item_position],
                    "envelope_id": entry.envelope_id,
                    "project_id": project_id,
                    "event_id": record.event_id,
                    "issue_id": None if group is None else group.issue_id,
                    "type": record.type,
                    "level": record.level,
                    "timestamp": record.timestamp,
                    "received_at": entry.received_at,
                    "platform": record.platform,
                    "title": record.title,
                    "culprit": record.culprit,
                    "message": record.message,
                    "release": record.release,
                    "environment": record.environment,
                    "tags": record.tags,
                    "user_data": record.user,
                    "sdk": record.sdk,
                    "transaction": record.transaction,
                    "op": record.op,
                    "duration_ms": record.duration_ms,
                    "status": record.status,
                    "span_count": record.span_count,
                }
            )
    tx.insert(events, rows)
    _sql_rollup.add_events(tx, rows)


def _insert_attachments(tx: Tx, kept: list[Kept]) -> None:
    rows: list[Row] = [
        {
            "item_id": entry.item_ids[record.item_position],
            "envelope_id": entry.envelope_id,
            "project_id": entry.envelope.project_id,
            "event_id": record.event_id,
            "filename": record.filename,
            "content_type": record.content_type,
            "attachment_type": record.attachment_type,
            "size": record.size,
        }
        for entry in kept
        for record in entry.envelope.attachments
    ]
    tx.insert(attachments, rows)


def _insert_outbox(tx: Tx, kept: list[Kept], groups: dict[tuple[int, str], _Group]) -> None:
    """Notices of the batch's new and reopened issues, and of its events at or above the level
    of a project's ``level`` rule (one notice per issue, naming its most severe such event,
    unless every channel with such a rule is within its de-duplication window for the issue)."""
    now = datetime.now(UTC)
    notices = [
        (group, group.first, "new_issue" if group.created else "regression")
        for group in groups.values()
        if group.created or group.reopened
    ]
    level_events = _level_events(tx, kept, groups, now)
    notices.extend((groups[key], record, "level") for key, record in level_events.items())
    rows: list[Row] = [
        notice_row(
            project_id=group.project_id,
            kind=kind,
            now=now,
            issue_id=group.issue_id,
            event_id=record.event_id,
        )
        for group, record, kind in notices
    ]
    tx.insert(notification_outbox, rows)


def _level_events(
    tx: Tx, kept: list[Kept], groups: dict[tuple[int, str], _Group], now: datetime
) -> dict[tuple[int, str], EventRecord]:
    """The most severe event of each issue at or above a ``level`` rule of its project, for
    the issues that some channel with such a rule would be told about now."""
    project_ids = sorted({entry.envelope.project_id for entry in kept})
    thresholds: dict[int, int] = {}
    channels: dict[int, set[str]] = {}
    rules = [
        row
        for chunk in chunks(project_ids)
        for row in tx.select_in(_LEVEL_RULES, {"trigger": "level"}, chunk, lock=False)
    ]
    for project_id, channel_id, min_level in rules:
        rank = level_rank(min_level)
        thresholds[project_id] = min(rank, thresholds.get(project_id, rank))
        channels.setdefault(project_id, set()).add(f"channel:{channel_id}")
    chosen: dict[tuple[int, str], EventRecord] = {}
    if not thresholds:
        return chosen
    for entry in kept:
        threshold = thresholds.get(entry.envelope.project_id)
        if threshold is None:
            continue
        for record in entry.events:
            if record.fingerprint is None or level_rank(record.level) < threshold:
                continue
            key = (entry.envelope.project_id, record.fingerprint)
            best = chosen.get(key)
            if best is None or level_rank(record.level) >= level_rank(best.level):
                chosen[key] = record
    # Issues whose every level channel is inside its window: the digest counts their events.
    by_issue = {groups[key].issue_id: key for key in chosen}
    open_windows: dict[int, set[str]] = {}
    for chunk in chunks(sorted(by_issue)):
        for issue_id, destination in tx.select_in(_OPEN_WINDOWS, {"now": now}, chunk, lock=False):
            open_windows.setdefault(issue_id, set()).add(destination)
    for issue_id, key in by_issue.items():
        if channels[key[0]] <= open_windows.get(issue_id, set()):
            del chosen[key]
    return chosen


def _recorded(entry: Kept, groups: dict[tuple[int, str], _Group]) -> Recorded:
    project_id = entry.envelope.project_id
    for record in entry.events:
        if record.fingerprint is not None:
            group = groups[(project_id, record.fingerprint)]
            first = group.first is record
            return Recorded(
                envelope_id=entry.envelope_id,
                event_id=entry.envelope.event_id,
                issue_id=group.issue_id,
                new_issue=first and group.created,
                regression=first and group.reopened,
            )
    return Recorded(envelope_id=entry.envelope_id, event_id=entry.envelope.event_id)
