"""Builders of :class:`PreparedEnvelope` values with sensible defaults, for storage tests.

Each builder returns what ingestion would hand to ``Storage.record`` for one envelope: the
items (with a real wire-format ``raw`` body made from them) and the records derived from them.
Times default to :data:`T0`; use :func:`at` for times relative to it.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from resentry_core import _json
from resentry_core._envelope import Envelope, EnvelopeHeaders, Item
from resentry_core._records import (
    AttachmentRecord,
    CheckInRecord,
    DiscardedCount,
    EventRecord,
    FeedbackRecord,
    ItemRecord,
    LogRecord,
    PreparedEnvelope,
    SessionAggregate,
    SessionStatus,
    SessionUpdate,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SDK: Mapping[str, object] = {"name": "sentry.python", "version": "2.19.0"}


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def new_id() -> str:
    """A fresh event/check-in id: 32 lowercase hex."""
    return uuid.uuid4().hex


def prepared(
    project_id: int,
    items: Sequence[Item],
    *,
    received_at: datetime = T0,
    event_id: str | None = None,
    raw: bytes | None = None,
    raw_encoding: str | None = None,
    events: Sequence[EventRecord] = (),
    attachments: Sequence[AttachmentRecord] = (),
    sessions: Sequence[SessionUpdate] = (),
    session_aggregates: Sequence[SessionAggregate] = (),
    check_ins: Sequence[CheckInRecord] = (),
    logs: Sequence[LogRecord] = (),
    feedback: Sequence[FeedbackRecord] = (),
    discarded: Sequence[DiscardedCount] = (),
) -> PreparedEnvelope:
    """A prepared envelope of ``items`` (positions in order) with the given records.

    ``raw`` defaults to the envelope serialized in Sentry's wire format.
    """
    header_fields: dict[str, object] = {"sdk": dict(SDK), "sent_at": received_at.isoformat()}
    if event_id is not None:
        header_fields["event_id"] = event_id
    envelope = Envelope(headers=EnvelopeHeaders(fields=header_fields), items=tuple(items))
    return PreparedEnvelope(
        project_id=project_id,
        received_at=received_at,
        event_id=event_id,
        headers=header_fields,
        raw=envelope.serialize() if raw is None else raw,
        raw_encoding=raw_encoding,
        items=tuple(
            ItemRecord(
                position=position, type=item.type, headers=item.headers, payload=item.payload
            )
            for position, item in enumerate(items)
        ),
        events=tuple(events),
        attachments=tuple(attachments),
        sessions=tuple(sessions),
        session_aggregates=tuple(session_aggregates),
        check_ins=tuple(check_ins),
        logs=tuple(logs),
        feedback=tuple(feedback),
        discarded=tuple(discarded),
    )


def json_item(item_type: str, payload: object, **headers: object) -> Item:
    """An item of ``item_type`` whose payload is ``payload`` as JSON."""
    body = _json.dumps(payload)
    return Item(headers={"type": item_type, "length": len(body), **headers}, payload=body)


def event_record(
    event_id: str,
    *,
    item_position: int = 0,
    fingerprint: str | None = "fp1",
    event_type: str = "error",
    level: str = "error",
    timestamp: datetime = T0,
    title: str = "ValueError: boom",
    culprit: str = "app.views in index",
    message: str = "",
    release: str | None = "app@1.0.0",
    environment: str | None = "production",
    tags: Mapping[str, str] | None = None,
    user: Mapping[str, object] | None = None,
    platform: str = "python",
) -> EventRecord:
    """An error event record (``fingerprint=None`` for one that is not grouped)."""
    return EventRecord(
        event_id=event_id,
        item_position=item_position,
        type=event_type,
        level=level,
        timestamp=timestamp,
        platform=platform,
        title=title,
        culprit=culprit,
        message=message,
        release=release,
        environment=environment,
        tags={} if tags is None else tags,
        user=user,
        sdk=SDK,
        fingerprint=fingerprint,
    )


def error_envelope(
    project_id: int,
    *,
    event_id: str | None = None,
    fingerprint: str = "fp1",
    received_at: datetime = T0,
    attachments: Sequence[tuple[str, bytes]] = (),
    level: str = "error",
    title: str = "ValueError: boom",
    culprit: str = "app.views in index",
    release: str | None = "app@1.0.0",
    environment: str | None = "production",
    tags: Mapping[str, str] | None = None,
    user: Mapping[str, object] | None = None,
) -> PreparedEnvelope:
    """An envelope with one error event (grouped by ``fingerprint``) and optional attachments."""
    event_id = event_id or new_id()
    record = event_record(
        event_id,
        fingerprint=fingerprint,
        timestamp=received_at,
        level=level,
        title=title,
        culprit=culprit,
        release=release,
        environment=environment,
        tags=tags,
        user=user,
    )
    payload = {
        "event_id": event_id,
        "level": record.level,
        "platform": record.platform,
        "release": record.release,
        "environment": record.environment,
        "exception": {"values": [{"type": "ValueError", "value": "boom"}]},
    }
    items = [json_item("event", payload)]
    attachment_records = []
    for filename, data in attachments:
        attachment_records.append(
            AttachmentRecord(
                item_position=len(items),
                event_id=event_id,
                filename=filename,
                content_type="application/octet-stream",
                attachment_type="event.attachment",
                size=len(data),
            )
        )
        items.append(
            Item(
                headers={"type": "attachment", "length": len(data), "filename": filename},
                payload=data,
            )
        )
    return prepared(
        project_id,
        items,
        received_at=received_at,
        event_id=event_id,
        events=[record],
        attachments=attachment_records,
    )


def attachment_envelope(
    project_id: int,
    event_id: str,
    filename: str,
    data: bytes,
    *,
    attachment_type: str = "event.minidump",
    received_at: datetime = T0,
) -> PreparedEnvelope:
    """An envelope with only an attachment for event ``event_id`` (sent after the event)."""
    item = Item(
        headers={
            "type": "attachment",
            "length": len(data),
            "filename": filename,
            "attachment_type": attachment_type,
        },
        payload=data,
    )
    record = AttachmentRecord(
        item_position=0,
        event_id=event_id,
        filename=filename,
        content_type="application/octet-stream",
        attachment_type=attachment_type,
        size=len(data),
    )
    return prepared(
        project_id, [item], received_at=received_at, event_id=event_id, attachments=[record]
    )


def transaction_envelope(
    project_id: int,
    *,
    event_id: str | None = None,
    transaction: str = "GET /api/users",
    received_at: datetime = T0,
    duration_ms: float = 125.5,
) -> PreparedEnvelope:
    """An envelope with one transaction (not grouped into an issue)."""
    event_id = event_id or new_id()
    record = EventRecord(
        event_id=event_id,
        item_position=0,
        type="transaction",
        level="info",
        timestamp=received_at,
        platform="python",
        title=transaction,
        culprit=transaction,
        message="",
        release="app@1.0.0",
        environment="production",
        tags={"http.method": "GET"},
        user=None,
        sdk=SDK,
        fingerprint=None,
        transaction=transaction,
        op="http.server",
        duration_ms=duration_ms,
        status="ok",
        span_count=3,
    )
    payload = {"event_id": event_id, "type": "transaction", "transaction": transaction}
    return prepared(
        project_id,
        [json_item("transaction", payload)],
        received_at=received_at,
        event_id=event_id,
        events=[record],
    )


def session_update(
    sid: str,
    *,
    seq: int,
    status: SessionStatus = "ok",
    errors: int = 0,
    init: bool = False,
    release: str = "app@1.0.0",
    environment: str | None = "production",
) -> SessionUpdate:
    """One update of session ``sid``."""
    return SessionUpdate(
        sid=sid,
        did=None,
        release=release,
        environment=environment,
        started=T0,
        timestamp=at(seq),
        status=status,
        errors=errors,
        init=init,
        seq=seq,
        duration=None,
    )


def session_envelope(
    project_id: int, *updates: SessionUpdate, received_at: datetime = T0
) -> PreparedEnvelope:
    """An envelope with one ``session`` item per update."""
    items = [
        json_item(
            "session",
            {"sid": update.sid, "seq": update.seq, "status": update.status, "init": update.init},
        )
        for update in updates
    ]
    return prepared(project_id, items, received_at=received_at, sessions=updates)


def sessions_envelope(
    project_id: int, *aggregates: SessionAggregate, received_at: datetime = T0
) -> PreparedEnvelope:
    """An envelope with one ``sessions`` item holding ``aggregates``."""
    payload = {"aggregates": [{"exited": aggregate.exited} for aggregate in aggregates]}
    return prepared(
        project_id,
        [json_item("sessions", payload)],
        received_at=received_at,
        session_aggregates=aggregates,
    )


def check_in(
    check_in_id: str,
    *,
    monitor_slug: str = "nightly-job",
    status: str = "ok",
    duration: float | None = None,
    timestamp: datetime = T0,
    monitor_config: Mapping[str, object] | None = None,
    environment: str | None = "production",
    release: str | None = None,
    trace_id: str | None = None,
) -> CheckInRecord:
    """A check-in record."""
    return CheckInRecord(
        check_in_id=check_in_id,
        monitor_slug=monitor_slug,
        status=status,
        duration=duration,
        environment=environment,
        release=release,
        timestamp=timestamp,
        monitor_config=monitor_config,
        trace_id=trace_id,
    )


def check_in_envelope(
    project_id: int, record: CheckInRecord, *, received_at: datetime | None = None
) -> PreparedEnvelope:
    """An envelope with one ``check_in`` item (received at the check-in's timestamp)."""
    payload = {
        "check_in_id": record.check_in_id,
        "monitor_slug": record.monitor_slug,
        "status": record.status,
    }
    return prepared(
        project_id,
        [json_item("check_in", payload)],
        received_at=record.timestamp if received_at is None else received_at,
        check_ins=[record],
    )


def log_record(
    body: str,
    *,
    level: str = "info",
    timestamp: datetime = T0,
    trace_id: str | None = None,
    attributes: Mapping[str, object] | None = None,
) -> LogRecord:
    """A log record."""
    return LogRecord(
        timestamp=timestamp,
        level=level,
        body=body,
        attributes={"sentry.environment": "production"} if attributes is None else attributes,
        trace_id=trace_id,
        span_id=None,
        severity_number=9,
    )


def log_envelope(project_id: int, *logs: LogRecord, received_at: datetime = T0) -> PreparedEnvelope:
    """An envelope with one ``log`` container item holding ``logs``."""
    payload = {"items": [{"body": log.body, "level": log.level} for log in logs]}
    item = json_item(
        "log", payload, item_count=len(logs), content_type="application/vnd.sentry.items.log+json"
    )
    return prepared(project_id, [item], received_at=received_at, logs=logs)


def feedback_envelope(
    project_id: int,
    *,
    message: str = "The button does nothing",
    event_id: str | None = None,
    associated_event_id: str | None = None,
    received_at: datetime = T0,
) -> PreparedEnvelope:
    """A new-style ``feedback`` envelope: a feedback event (no issue) and its feedback."""
    event_id = event_id or new_id()
    record = event_record(
        event_id, fingerprint=None, event_type="feedback", level="info", timestamp=received_at
    )
    feedback = FeedbackRecord(
        event_id=event_id,
        associated_event_id=associated_event_id,
        name="Jane",
        email="jane@example.com",
        message=message,
        url="https://example.com/page",
        source="feedback",
    )
    payload = {"event_id": event_id, "contexts": {"feedback": {"message": message}}}
    return prepared(
        project_id,
        [json_item("feedback", payload)],
        received_at=received_at,
        event_id=event_id,
        events=[record],
        feedback=[feedback],
    )


def client_report_envelope(
    project_id: int, *counts: tuple[str, str, int], received_at: datetime = T0
) -> PreparedEnvelope:
    """A ``client_report`` envelope of ``(reason, category, quantity)`` counts."""
    discarded = [
        DiscardedCount(reason=reason, category=category, quantity=quantity)
        for reason, category, quantity in counts
    ]
    payload = {
        "discarded_events": [
            {"reason": count.reason, "category": count.category, "quantity": count.quantity}
            for count in discarded
        ]
    }
    return prepared(
        project_id,
        [json_item("client_report", payload)],
        received_at=received_at,
        discarded=discarded,
    )


def raw_item_envelope(
    project_id: int,
    item_type: str,
    payload: bytes,
    *,
    received_at: datetime = T0,
    headers: Mapping[str, object] | None = None,
) -> PreparedEnvelope:
    """An envelope with a single item of any (e.g. unknown) type, kept only as an item."""
    item = Item(
        headers={"type": item_type, "length": len(payload), **(headers or {})}, payload=payload
    )
    return prepared(project_id, [item], received_at=received_at)
