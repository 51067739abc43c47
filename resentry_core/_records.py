"""What ingestion hands to storage: one :class:`PreparedEnvelope` per accepted request.

These are plain values produced by the pure preparation step (``prepare_envelope``) from a
parsed envelope; a ``Storage`` writes one batch of them atomically. Nothing here does I/O.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

JsonObject = Mapping[str, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemRecord:
    """One envelope item exactly as received: every header and the payload bytes.

    ``payload`` is usually a read-only memoryview into the request body (see
    :class:`~resentry_core._envelope.Item`), which database drivers write without a copy. A
    storage that keeps payloads past the write must copy them (``bytes(payload)``), so that
    it does not pin request bodies.
    """

    position: int
    type: str
    headers: JsonObject
    payload: bytes | memoryview


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRecord:
    """A normalized event, transaction or feedback event, ready to store.

    ``fingerprint`` is the grouping hash for error/default events and ``None`` for events that
    are not grouped into issues (transactions, feedback).
    """

    event_id: str  # 32 lowercase hex
    item_position: int  # the item whose payload is this event's JSON
    type: str  # "error", "default", "transaction", "feedback", "csp", ...
    level: str  # debug | info | warning | error | fatal
    timestamp: datetime  # UTC-aware
    platform: str
    title: str
    culprit: str  # for transactions: the transaction name
    message: str
    release: str | None
    environment: str | None
    tags: Mapping[str, str]
    user: JsonObject | None
    sdk: JsonObject | None
    fingerprint: str | None
    transaction: str | None = None
    op: str | None = None
    duration_ms: float | None = None
    status: str | None = None  # transaction status (ok, internal_error, ...)
    span_count: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentRecord:
    """An ``attachment`` item; its bytes are the payload of item ``item_position``."""

    item_position: int
    event_id: str | None
    filename: str
    content_type: str
    attachment_type: str
    size: int


SessionStatus = Literal["ok", "exited", "crashed", "abnormal", "errored"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionUpdate:
    """One ``session`` item: an update of a single session (identified by ``sid``)."""

    sid: str
    did: str | None
    release: str
    environment: str | None
    started: datetime
    timestamp: datetime
    status: SessionStatus
    errors: int
    init: bool
    seq: int
    duration: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionAggregate:
    """One bucket of a ``sessions`` item (pre-aggregated counts)."""

    started: datetime
    release: str
    environment: str | None
    exited: int = 0
    errored: int = 0
    abnormal: int = 0
    crashed: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckInRecord:
    """A cron monitor check-in; ``monitor_config``, when present, upserts the monitor."""

    check_in_id: str  # 32 lowercase hex
    monitor_slug: str
    status: str  # in_progress | ok | error | ...
    duration: float | None  # seconds
    environment: str | None
    release: str | None
    timestamp: datetime
    monitor_config: JsonObject | None
    trace_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRecord:
    """One log record from a ``log`` container item (or an ``otel_log`` item)."""

    timestamp: datetime
    level: str
    body: str
    attributes: JsonObject
    trace_id: str | None
    span_id: str | None
    severity_number: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackRecord:
    """User feedback from a ``feedback`` item (new style) or a ``user_report`` (legacy)."""

    event_id: str  # the feedback's own id (feedback) or the reported event's id (user_report)
    associated_event_id: str | None
    name: str | None
    email: str | None
    message: str
    url: str | None
    source: Literal["feedback", "user_report"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscardedCount:
    """One ``discarded_events`` entry of a ``client_report`` item."""

    reason: str
    category: str
    quantity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedEnvelope:
    """Everything one accepted envelope writes, computed before touching storage."""

    project_id: int
    received_at: datetime  # UTC-aware
    event_id: str | None  # envelope event id (header wins over payload), 32 lowercase hex
    headers: JsonObject  # every envelope header as received
    raw: bytes  # the request body exactly as received
    raw_encoding: str | None  # its Content-Encoding (normalized, None for identity)
    items: tuple[ItemRecord, ...]
    events: tuple[EventRecord, ...] = ()
    attachments: tuple[AttachmentRecord, ...] = ()
    sessions: tuple[SessionUpdate, ...] = ()
    session_aggregates: tuple[SessionAggregate, ...] = ()
    check_ins: tuple[CheckInRecord, ...] = ()
    logs: tuple[LogRecord, ...] = ()
    feedback: tuple[FeedbackRecord, ...] = ()
    discarded: tuple[DiscardedCount, ...] = field(default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class Recorded:
    """What storing one :class:`PreparedEnvelope` did.

    ``duplicate`` is true when the envelope's event id was already stored for the project; then
    nothing was written. ``issue_id`` is the issue the error event was grouped into, if any.
    """

    envelope_id: int | None
    event_id: str | None
    duplicate: bool = False
    issue_id: int | None = None
    new_issue: bool = False
    regression: bool = False
