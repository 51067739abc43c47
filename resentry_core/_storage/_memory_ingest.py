"""Writes of ingested data into a memory state: ``record`` and ``prune`` (see ``_protocol``)."""

from collections import defaultdict
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from resentry_core._errors import InvalidInputError, NotFoundError
from resentry_core._models import (
    Attachment,
    CheckIn,
    Event,
    Feedback,
    Issue,
    LogEntry,
    Monitor,
    StoredEnvelope,
    StoredItem,
)
from resentry_core._records import (
    CheckInRecord,
    EventRecord,
    PreparedEnvelope,
    Recorded,
    SessionUpdate,
)
from resentry_core._storage._memory_state import (
    AggregateRow,
    AttachmentRow,
    CheckInRow,
    DiscardRow,
    EventRow,
    FeedbackRow,
    ItemRow,
    Journal,
    LogRow,
    SessionRow,
    State,
    copy_object,
    copy_optional,
)
from resentry_core._storage._values import aware

NIL_ID = "0" * 32
_ERRORED_STATUSES = frozenset({"errored", "crashed", "abnormal"})


def record_envelope(state: State, journal: Journal, prepared: PreparedEnvelope) -> Recorded:
    """Store one envelope (or nothing, when its first event is already stored)."""
    project_id = prepared.project_id
    if project_id not in state.projects:
        raise NotFoundError(f"project {project_id} does not exist")
    received_at = aware(prepared.received_at, "received_at")
    _check_positions(prepared)
    if prepared.events and (project_id, prepared.events[0].event_id) in state.events:
        return Recorded(envelope_id=None, event_id=prepared.event_id, duplicate=True)

    envelope_id = state.new_id("envelopes")
    journal.put(
        state.envelopes,
        envelope_id,
        StoredEnvelope(
            id=envelope_id,
            project_id=project_id,
            event_id=prepared.event_id,
            received_at=received_at,
            headers=copy_object(prepared.headers),
            size=len(prepared.raw),
            raw=prepared.raw,
            raw_encoding=prepared.raw_encoding,
        ),
    )
    item_ids: dict[int, int] = {}
    for item in prepared.items:
        item_id = item_ids[item.position] = state.new_id("items")
        stored = StoredItem(
            id=item_id,
            project_id=project_id,
            envelope_id=envelope_id,
            position=item.position,
            type=item.type,
            headers=copy_object(item.headers),
            size=len(item.payload),
            received_at=received_at,
        )
        # A copy: the payload may be a view that would keep the whole request body alive.
        journal.put(state.items, item_id, ItemRow(item=stored, payload=bytes(item.payload)))

    recorded = Recorded(envelope_id=envelope_id, event_id=prepared.event_id)
    grouped = False
    for record in prepared.events:
        if (project_id, record.event_id) in state.events:
            continue
        issue, new_issue, regression = _upsert_issue(
            state, journal, project_id, record, received_at
        )
        _store_event(state, journal, record, issue, envelope_id, received_at, item_ids)
        if issue is not None and not grouped:
            grouped = True
            recorded = replace(
                recorded, issue_id=issue.id, new_issue=new_issue, regression=regression
            )
    _store_attachments(state, journal, prepared, envelope_id, item_ids)
    for update in prepared.sessions:
        _upsert_session(state, journal, project_id, envelope_id, update)
    for aggregate in prepared.session_aggregates:
        journal.put(
            state.aggregates,
            state.new_id("aggregates"),
            AggregateRow(project_id=project_id, envelope_id=envelope_id, aggregate=aggregate),
        )
    for check_in in prepared.check_ins:
        _upsert_check_in(state, journal, project_id, envelope_id, received_at, check_in)
    _store_logs_and_feedback(state, journal, prepared, envelope_id, received_at)
    return recorded


def _check_positions(prepared: PreparedEnvelope) -> None:
    positions = {item.position for item in prepared.items}
    if len(positions) != len(prepared.items):
        raise InvalidInputError("two items of the envelope share a position")
    referenced = [record.item_position for record in prepared.events]
    referenced += [record.item_position for record in prepared.attachments]
    missing = sorted(set(referenced) - positions)
    if missing:
        raise InvalidInputError(f"records name item positions {missing} the envelope lacks")


def _upsert_issue(
    state: State, journal: Journal, project_id: int, record: EventRecord, received_at: datetime
) -> tuple[Issue | None, bool, bool]:
    """The event's issue after counting the event, whether it is new, whether it regressed."""
    if record.fingerprint is None:
        return None, False, False
    issue_id = state.fingerprints.get((project_id, record.fingerprint))
    if issue_id is None:
        issue = Issue(
            id=state.new_id("issues"),
            project_id=project_id,
            fingerprint=record.fingerprint,
            title=record.title,
            culprit=record.culprit,
            level=record.level,
            status="unresolved",
            first_seen=received_at,
            last_seen=received_at,
            times_seen=1,
            last_event_id=record.event_id,
        )
        journal.put(state.fingerprints, (project_id, record.fingerprint), issue.id)
        journal.put(state.issues, issue.id, issue)
        return issue, True, False
    issue = state.issues[issue_id]
    latest = received_at >= issue.last_seen
    regression = issue.status == "resolved"
    issue = replace(
        issue,
        status="unresolved" if regression else issue.status,
        times_seen=issue.times_seen + 1,
        first_seen=min(issue.first_seen, received_at),
        last_seen=max(issue.last_seen, received_at),
        last_event_id=record.event_id if latest else issue.last_event_id,
        level=record.level if latest else issue.level,
    )
    journal.put(state.issues, issue_id, issue)
    return issue, False, regression


def _store_event(
    state: State,
    journal: Journal,
    record: EventRecord,
    issue: Issue | None,
    envelope_id: int,
    received_at: datetime,
    item_ids: dict[int, int],
) -> None:
    project_id = state.envelopes[envelope_id].project_id
    event = Event(
        event_id=record.event_id,
        project_id=project_id,
        issue_id=None if issue is None else issue.id,
        envelope_id=envelope_id,
        type=record.type,
        level=record.level,
        timestamp=aware(record.timestamp, "event timestamp"),
        received_at=received_at,
        platform=record.platform,
        title=record.title,
        culprit=record.culprit,
        message=record.message,
        release=record.release,
        environment=record.environment,
        tags=dict(record.tags),
        user=copy_optional(record.user),
        sdk=copy_optional(record.sdk),
        transaction=record.transaction,
        op=record.op,
        duration_ms=record.duration_ms,
        status=record.status,
        span_count=record.span_count,
    )
    row = EventRow(event=event, seq=state.new_id("events"), item_id=item_ids[record.item_position])
    journal.put(state.events, (project_id, record.event_id), row)


def _store_attachments(
    state: State,
    journal: Journal,
    prepared: PreparedEnvelope,
    envelope_id: int,
    item_ids: dict[int, int],
) -> None:
    for record in prepared.attachments:
        attachment_id = state.new_id("attachments")
        attachment = Attachment(
            id=attachment_id,
            project_id=prepared.project_id,
            envelope_id=envelope_id,
            event_id=record.event_id,
            filename=record.filename,
            content_type=record.content_type,
            attachment_type=record.attachment_type,
            size=record.size,
        )
        row = AttachmentRow(attachment=attachment, item_id=item_ids[record.item_position])
        journal.put(state.attachments, attachment_id, row)


def _upsert_session(
    state: State, journal: Journal, project_id: int, envelope_id: int, update: SessionUpdate
) -> None:
    key = (project_id, update.sid)
    old = state.sessions.get(key)
    errored = update.errors > 0 or update.status in _ERRORED_STATUSES
    if old is not None and update.seq < old.seq:
        if errored and not old.errored:
            journal.put(state.sessions, key, replace(old, errored=True))
        return
    row = SessionRow(
        project_id=project_id,
        envelope_id=envelope_id,
        seq=update.seq,
        release=update.release,
        environment=update.environment,
        status=update.status,
        errored=errored or (old is not None and old.errored),
    )
    journal.put(state.sessions, key, row)


def _upsert_check_in(
    state: State,
    journal: Journal,
    project_id: int,
    envelope_id: int,
    received_at: datetime,
    record: CheckInRecord,
) -> None:
    timestamp = aware(record.timestamp, "check-in timestamp")
    monitor_key = (project_id, record.monitor_slug)
    monitor = state.monitors.get(monitor_key) or Monitor(
        id=state.new_id("monitors"),
        project_id=project_id,
        slug=record.monitor_slug,
        config=None,
        created_at=received_at,
        last_check_in=None,
        last_status=None,
    )
    if record.monitor_config is not None:
        monitor = replace(monitor, config=copy_object(record.monitor_config))
    if monitor.last_check_in is None or timestamp >= monitor.last_check_in:
        monitor = replace(monitor, last_check_in=timestamp, last_status=record.status)
    journal.put(state.monitors, monitor_key, monitor)

    index_key = (monitor.id, record.check_in_id)
    existing = None if record.check_in_id == NIL_ID else state.check_in_ids.get(index_key)
    if existing is None:
        check_in = CheckIn(
            id=state.new_id("check_ins"),
            monitor_id=monitor.id,
            check_in_id=record.check_in_id,
            status=record.status,
            duration=record.duration,
            environment=record.environment,
            release=record.release,
            timestamp=timestamp,
            trace_id=record.trace_id,
        )
        if record.check_in_id != NIL_ID:
            journal.put(state.check_in_ids, index_key, check_in.id)
    else:
        old = state.check_ins[existing].check_in
        duration = record.duration
        if duration is None and record.status != "in_progress":
            duration = max(0.0, (timestamp - old.timestamp).total_seconds())
        check_in = replace(
            old,
            status=record.status,
            duration=duration,
            environment=record.environment or old.environment,
            release=record.release or old.release,
            trace_id=record.trace_id or old.trace_id,
        )
    row = CheckInRow(project_id=project_id, envelope_id=envelope_id, check_in=check_in)
    journal.put(state.check_ins, check_in.id, row)


def _store_logs_and_feedback(
    state: State,
    journal: Journal,
    prepared: PreparedEnvelope,
    envelope_id: int,
    received_at: datetime,
) -> None:
    project_id = prepared.project_id
    for log in prepared.logs:
        entry = LogEntry(
            id=state.new_id("logs"),
            project_id=project_id,
            timestamp=aware(log.timestamp, "log timestamp"),
            level=log.level,
            body=log.body,
            attributes=copy_object(log.attributes),
            trace_id=log.trace_id,
            span_id=log.span_id,
            severity_number=log.severity_number,
        )
        journal.put(state.logs, entry.id, LogRow(envelope_id=envelope_id, entry=entry))
    for record in prepared.feedback:
        feedback = Feedback(
            id=state.new_id("feedback"),
            project_id=project_id,
            event_id=record.event_id,
            associated_event_id=record.associated_event_id,
            name=record.name,
            email=record.email,
            message=record.message,
            url=record.url,
            source=record.source,
            received_at=received_at,
        )
        row = FeedbackRow(envelope_id=envelope_id, feedback=feedback)
        journal.put(state.feedback, feedback.id, row)
    for count in prepared.discarded:
        row_id = state.new_id("discards")
        discard = DiscardRow(project_id=project_id, envelope_id=envelope_id, count=count)
        journal.put(state.discards, row_id, discard)


def prune(state: State, journal: Journal, project_id: int, older_than: datetime) -> int:
    """Delete the project's envelopes received before ``older_than``; return how many."""
    cutoff = aware(older_than, "older_than")
    doomed = {
        envelope.id
        for envelope in state.envelopes.values()
        if envelope.project_id == project_id and envelope.received_at < cutoff
    }
    delete_envelopes(state, journal, doomed)
    return len(doomed)


def delete_envelopes(state: State, journal: Journal, doomed: Collection[int]) -> None:
    """Delete envelopes with everything they wrote, and recount the issues they touched."""
    if not doomed:
        return
    journal.delete_where(state.envelopes, lambda envelope: envelope.id not in doomed)
    journal.delete_where(state.items, lambda row: row.item.envelope_id not in doomed)
    events = journal.delete_where(state.events, lambda row: row.event.envelope_id not in doomed)
    journal.delete_where(state.attachments, lambda row: row.attachment.envelope_id not in doomed)
    journal.delete_where(state.sessions, lambda row: row.envelope_id not in doomed)
    journal.delete_where(state.aggregates, lambda row: row.envelope_id not in doomed)
    check_ins = journal.delete_where(state.check_ins, lambda row: row.envelope_id not in doomed)
    gone = {row.check_in.id for row in check_ins}
    journal.delete_where(state.check_in_ids, lambda check_in_id: check_in_id not in gone)
    journal.delete_where(state.logs, lambda row: row.envelope_id not in doomed)
    journal.delete_where(state.feedback, lambda row: row.envelope_id not in doomed)
    journal.delete_where(state.discards, lambda row: row.envelope_id not in doomed)
    touched = {row.event.issue_id for row in events if row.event.issue_id is not None}
    _recount_issues(state, journal, touched)


def _recount_issues(state: State, journal: Journal, issue_ids: set[int]) -> None:
    remaining: dict[int, list[EventRow]] = defaultdict(list)
    for row in state.events.values():
        issue_id = row.event.issue_id
        if issue_id is not None and issue_id in issue_ids:
            remaining[issue_id].append(row)
    for issue_id in issue_ids:
        issue = state.issues[issue_id]
        rows = remaining.get(issue_id)
        if not rows:
            journal.delete(state.issues, issue_id)
            journal.delete(state.fingerprints, (issue.project_id, issue.fingerprint))
            continue
        latest = max(rows, key=lambda row: (row.event.received_at, row.seq))
        issue = replace(
            issue,
            times_seen=len(rows),
            first_seen=min(row.event.received_at for row in rows),
            last_seen=latest.event.received_at,
            last_event_id=latest.event.event_id,
        )
        journal.put(state.issues, issue_id, issue)
