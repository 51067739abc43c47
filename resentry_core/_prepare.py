"""Envelope preparation: from a parsed :class:`Envelope` to the :class:`PreparedEnvelope` that
storage writes in one transaction. Pure, apart from generating a missing event id.

Every item becomes an :class:`ItemRecord` (kept raw, whatever its type). Items whose JSON must
be interpreted (``event``, ``transaction``, ``feedback``, ``user_report``, ``session``,
``sessions``, ``check_in``, ``log``, ``otel_log``, ``client_report``) must hold a JSON object,
else the whole envelope is rejected with :class:`EnvelopeError`. Beyond that, a payload that
lacks a field its record requires (a session without ``sid``, ``started`` or
``attrs.release``, a check-in without ``check_in_id`` or ``monitor_slug``, feedback without a
message, ...) yields no record, and its item is still stored raw: Relay accepts such envelopes
and drops the invalid parts. Other item types (attachments aside) are stored raw only.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Final, TypeVar

from resentry_core import _items, _json
from resentry_core._envelope import Envelope, Item, headers_dict
from resentry_core._errors import EnvelopeError, JsonDecodeError
from resentry_core._fields import normalize_uuid
from resentry_core._grouping import fingerprint
from resentry_core._limits import MAX_JSON_DEPTH
from resentry_core._normalize import normalize_event
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
    SessionUpdate,
)

# Items that create an event (Relay's ``ItemType::creates_event``); at most one per envelope.
EVENT_ITEM_TYPES: Final = frozenset({"event", "transaction", "feedback"})
JSON_ITEM_TYPES: Final = EVENT_ITEM_TYPES | {
    "user_report",
    "session",
    "sessions",
    "check_in",
    "log",
    "otel_log",
    "client_report",
}
_NIL_ID: Final = "0" * 32
_T = TypeVar("_T")


def prepare_envelope(
    envelope: Envelope,
    *,
    project_id: int,
    received_at: datetime,
    raw: bytes,
    raw_encoding: str | None,
) -> PreparedEnvelope:
    """Turn a parsed envelope into the records one accepted request writes.

    The event id is the envelope header's ``event_id`` when present (it wins over the
    payload's, as in Relay); else, for an envelope with an ``event``, ``transaction`` or
    ``feedback`` item, that payload's ``event_id``; else a new random id (as Relay generates
    one). Envelopes without such an item keep the header id (or none). Attachments belong to
    the event id.

    Args:
        envelope: the parsed envelope.
        project_id: the project it was sent to.
        received_at: when the request arrived (UTC-aware).
        raw: the request body exactly as received.
        raw_encoding: its normalized Content-Encoding (``None`` for identity).

    Returns:
        The prepared envelope; nothing is partial.

    Raises:
        EnvelopeError: an interpreted item is not a JSON object, the envelope has more than
            one event-creating item, or the event's payload ``event_id`` is invalid and the
            envelope header has none. ``item_index`` names the item.
    """
    payloads = {
        index: _json_object(item, index)
        for index, item in enumerate(envelope.items)
        if item.type in JSON_ITEM_TYPES
    }
    trimmed: dict[int, bytes] = {}  # new payloads of the items trimmed for depth
    for index, payload in payloads.items():
        item = envelope.items[index]
        if _may_nest_deeply(item.payload) and _json.deeper_than(payload, MAX_JSON_DEPTH):
            payloads[index] = _trimmed(payload, item.type in EVENT_ITEM_TYPES)
            trimmed[index] = _json.dumps(payloads[index])
    event_id = _event_id(envelope, payloads)
    sdk = envelope.headers.sdk
    events: list[EventRecord] = []
    attachments: list[AttachmentRecord] = []
    sessions: list[SessionUpdate] = []
    aggregates: list[SessionAggregate] = []
    check_ins: list[CheckInRecord] = []
    logs: list[LogRecord] = []
    feedback: list[FeedbackRecord] = []
    discarded: dict[tuple[str, str], int] = {}
    for index, item in enumerate(envelope.items):
        kind = item.type
        payload = payloads.get(index, {})
        if kind in EVENT_ITEM_TYPES and event_id is not None:
            events.append(
                normalize_event(
                    payload,
                    event_id=event_id,
                    item_position=index,
                    item_type=kind,
                    received_at=received_at,
                    fingerprint=fingerprint(payload) if kind == "event" else None,
                    envelope_sdk=sdk,
                )
            )
            if kind == "feedback":
                _append(feedback, _items.feedback_record(payload, event_id=event_id))
        elif kind == "attachment":
            attachments.append(_attachment(item, index, event_id))
        elif kind == "user_report":
            _append(feedback, _items.user_report(payload, envelope_event_id=event_id))
        elif kind == "session":
            _append(sessions, _items.session_update(payload, received_at=received_at))
        elif kind == "sessions":
            aggregates += _items.session_aggregates(payload)
        elif kind == "check_in":
            _append(check_ins, _items.check_in(payload, received_at=received_at))
        elif kind == "log":
            logs += _items.log_records(payload, received_at=received_at)
        elif kind == "otel_log":
            logs.append(_items.otel_log_record(payload, received_at=received_at))
        elif kind == "client_report":
            for reason, category, quantity in _items.discarded_entries(payload):
                discarded[reason, category] = discarded.get((reason, category), 0) + quantity
    return PreparedEnvelope(
        project_id=project_id,
        received_at=received_at,
        event_id=event_id,
        headers=headers_dict(envelope.headers.fields),
        raw=raw,
        raw_encoding=raw_encoding,
        items=tuple(
            _item_record(item, index, trimmed.get(index))
            for index, item in enumerate(envelope.items)
        ),
        events=tuple(events),
        attachments=tuple(attachments),
        sessions=tuple(sessions),
        session_aggregates=tuple(aggregates),
        check_ins=tuple(check_ins),
        logs=tuple(logs),
        feedback=tuple(feedback),
        discarded=tuple(
            DiscardedCount(reason=reason, category=category, quantity=quantity)
            for (reason, category), quantity in discarded.items()
        ),
    )


def _may_nest_deeply(payload: bytes | memoryview) -> bool:
    # Nesting past the limit needs that many brackets: a count in C spares the walk.
    data = payload if isinstance(payload, bytes) else bytes(payload)
    return data.count(b"{") + data.count(b"[") > MAX_JSON_DEPTH


def _trimmed(payload: Mapping[str, object], is_event: bool) -> dict[str, object]:
    # As Relay's normalization trims databags past their maximum depth: the event is kept,
    # what is too deep becomes a marker, and the event's ``errors`` (Sentry's processing
    # errors, shown with the event) says where.
    value, paths = _json.trim_depth(payload)
    if is_event:
        errors = value.get("errors")
        value["errors"] = [
            *(errors if isinstance(errors, list) else []),
            *(
                {"type": "invalid_data", "name": path, "reason": _json.TRIMMED_MARKER}
                for path in paths
            ),
        ]
    result: dict[str, object] = value
    return result


def _json_object(item: Item, index: int) -> Mapping[str, object]:
    try:
        value = _json.loads(item.payload)  # repaired text: it goes into storage
    except JsonDecodeError as exc:
        raise EnvelopeError(
            f"invalid JSON in {item.type!r} item: {exc}", item_index=index
        ) from None
    if not isinstance(value, dict):
        raise EnvelopeError(
            f"invalid JSON in {item.type!r} item: expected an object, got {type(value).__name__}",
            item_index=index,
        )
    return value


def _event_id(envelope: Envelope, payloads: Mapping[int, Mapping[str, object]]) -> str | None:
    creating = [i for i, item in enumerate(envelope.items) if item.type in EVENT_ITEM_TYPES]
    if len(creating) > 1:
        raise EnvelopeError(
            "envelope has more than one event, transaction or feedback item",
            item_index=creating[1],
        )
    if envelope.headers.event_id is not None or not creating:
        return envelope.headers.event_id
    index = creating[0]
    raw = payloads[index].get("event_id")
    if raw is None:
        return uuid.uuid4().hex
    event_id = normalize_uuid(raw, allow_nil=True)
    if event_id is None:
        raise EnvelopeError(
            f"invalid event_id in {envelope.items[index].type!r} item", item_index=index
        )
    return event_id if event_id != _NIL_ID else uuid.uuid4().hex


def _item_record(item: Item, index: int, trimmed: bytes | None) -> ItemRecord:
    # A payload trimmed for depth is stored trimmed; the raw envelope keeps what was sent.
    payload = item.payload if trimmed is None else trimmed
    return ItemRecord(
        position=index, type=item.type, headers=headers_dict(item.headers), payload=payload
    )


def _attachment(item: Item, index: int, event_id: str | None) -> AttachmentRecord:
    return AttachmentRecord(
        item_position=index,
        event_id=event_id,
        filename=item.filename or "attachment",
        content_type=item.content_type or "application/octet-stream",
        attachment_type=item.attachment_type,
        size=len(item.payload),
    )


def _append(records: list[_T], record: _T | None) -> None:
    if record is not None:
        records.append(record)
