"""Response models for events and the other kinds of stored data, with ``from_core()`` converters.

Download links are absolute: the server's public URL (mount prefix included) followed by one of
the ``*_PATH`` templates below, which the routes are registered under.
"""

from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel

from resentry_core import (
    Attachment,
    Event,
    EventDetail,
    StoredItem,
    parse_json,
    within_depth,
)
from resentry_server._schemas import FromCore, UtcDatetime

ATTACHMENT_PATH = "/api/v1/projects/{project_id}/attachments/{attachment_id}"
ENVELOPE_PATH = "/api/v1/projects/{project_id}/envelopes/{envelope_id}"
ITEM_PAYLOAD_PATH = "/api/v1/projects/{project_id}/items/{item_id}/payload"

StoredJson = Annotated[Any, AfterValidator(within_depth)]
"""Stored JSON, trimmed for the answer past ``MAX_JSON_DEPTH`` levels: ingest trims event data
that deep, but rows stored before it did must still render (pydantic stops at 255 levels)."""
StoredObject = Annotated[dict[str, Any], AfterValidator(within_depth)]
"""A stored JSON object, trimmed like :data:`StoredJson`."""


class EventOut(BaseModel):
    """A stored event (error/default), transaction or feedback event, normalized.

    ``transaction``, ``op``, ``duration_ms``, ``status`` and ``span_count`` are set for
    transactions only.
    """

    event_id: str
    project_id: int
    issue_id: int | None
    type: str
    level: str
    timestamp: UtcDatetime
    received_at: UtcDatetime
    title: str
    culprit: str
    message: str
    platform: str
    release: str | None
    environment: str | None
    tags: dict[str, str]
    user: StoredObject | None
    sdk: StoredObject | None
    transaction: str | None
    op: str | None
    duration_ms: float | None
    status: str | None
    span_count: int | None

    @classmethod
    def from_core(cls, event: Event) -> Self:
        """Convert a core event."""
        return cls(**_event_fields(event))


class AttachmentOut(BaseModel):
    """An attachment of an event's envelope, with the URL its exact bytes download from."""

    id: int
    filename: str
    content_type: str
    attachment_type: str
    size: int
    download_url: str

    @classmethod
    def from_core(cls, attachment: Attachment, base_url: str) -> Self:
        """Convert a core attachment; ``base_url`` is the server's public URL."""
        path = ATTACHMENT_PATH.format(project_id=attachment.project_id, attachment_id=attachment.id)
        return cls(
            id=attachment.id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            attachment_type=attachment.attachment_type,
            size=attachment.size,
            download_url=base_url + path,
        )


class EventDetailOut(EventOut):
    """An event with its payload as the SDK sent it, its attachments and its raw envelope link.

    ``payload`` is the event JSON decoded as received; text that is not valid Unicode (a lone
    UTF-16 surrogate escape) comes back as U+FFFD. The raw envelope keeps the exact bytes.
    """

    payload: StoredJson
    attachments: list[AttachmentOut]
    envelope_url: str

    @classmethod
    def from_detail(cls, detail: EventDetail, base_url: str) -> Self:
        """Convert a core event detail; ``base_url`` is the server's public URL."""
        event = detail.event
        envelope_path = ENVELOPE_PATH.format(
            project_id=event.project_id, envelope_id=event.envelope_id
        )
        return cls(
            **_event_fields(event),
            payload=parse_json(detail.payload),
            attachments=[AttachmentOut.from_core(a, base_url) for a in detail.attachments],
            envelope_url=base_url + envelope_path,
        )


def _event_fields(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "project_id": event.project_id,
        "issue_id": event.issue_id,
        "type": event.type,
        "level": event.level,
        "timestamp": event.timestamp,
        "received_at": event.received_at,
        "title": event.title,
        "culprit": event.culprit,
        "message": event.message,
        "platform": event.platform,
        "release": event.release,
        "environment": event.environment,
        "tags": dict(event.tags),
        "user": None if event.user is None else dict(event.user),
        "sdk": None if event.sdk is None else dict(event.sdk),
        "transaction": event.transaction,
        "op": event.op,
        "duration_ms": event.duration_ms,
        "status": event.status,
        "span_count": event.span_count,
    }


class ReleaseHealthOut(FromCore):
    """Session counts of one release and environment."""

    release: str
    environment: str | None
    started: int
    errored: int
    crashed: int
    abnormal: int
    exited: int


class MonitorOut(FromCore):
    """A cron monitor: created by its first check-in, configured by ``monitor_config``."""

    id: int
    slug: str
    config: StoredObject | None
    created_at: UtcDatetime
    last_check_in: UtcDatetime | None
    last_status: str | None


class CheckInOut(FromCore):
    """One check-in of a monitor."""

    id: int
    check_in_id: str
    status: str
    duration: float | None
    environment: str | None
    release: str | None
    timestamp: UtcDatetime
    trace_id: str | None


class LogOut(FromCore):
    """A log record sent by an SDK."""

    id: int
    timestamp: UtcDatetime
    level: str
    body: str
    attributes: StoredObject
    trace_id: str | None
    span_id: str | None
    severity_number: int | None


class FeedbackOut(FromCore):
    """User feedback, with the id of the event it is about when the SDK said so."""

    id: int
    event_id: str
    associated_event_id: str | None
    name: str | None
    email: str | None
    message: str
    url: str | None
    source: str
    received_at: UtcDatetime


class DiscardCounterOut(FromCore):
    """How many items of a category SDKs reported discarding for a reason (client reports)."""

    reason: str
    category: str
    quantity: int


class ItemOut(BaseModel):
    """A stored envelope item of any type, with the URL its payload downloads from."""

    id: int
    envelope_id: int
    position: int
    type: str
    headers: StoredObject
    size: int
    received_at: UtcDatetime
    payload_url: str

    @classmethod
    def from_core(cls, item: StoredItem, base_url: str) -> Self:
        """Convert a core item; ``base_url`` is the server's public URL."""
        path = ITEM_PAYLOAD_PATH.format(project_id=item.project_id, item_id=item.id)
        return cls(
            id=item.id,
            envelope_id=item.envelope_id,
            position=item.position,
            type=item.type,
            headers=dict(item.headers),
            size=item.size,
            received_at=item.received_at,
            payload_url=base_url + path,
        )
