"""Domain values returned by storage: frozen, framework-free, and safe to hand to any caller."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

IssueStatus = Literal["unresolved", "resolved", "ignored"]
ISSUE_STATUSES: tuple[IssueStatus, ...] = ("unresolved", "resolved", "ignored")
Level = Literal["debug", "info", "warning", "error", "fatal"]
LEVELS: tuple[Level, ...] = ("debug", "info", "warning", "error", "fatal")


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    """One page of a list; pass ``next_cursor`` back to get the next one (``None``: the end)."""

    items: Sequence[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """A person who can log in to the management API.

    ``token_generation`` is carried in every token issued to the user; raising it (logout,
    password change, deactivation, a reused refresh token) ends every earlier token.
    """

    id: int
    username: str
    is_admin: bool
    is_active: bool
    telegram_chat_id: str | None
    created_at: datetime
    token_generation: int = 0
    email: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectKey:
    """A project's public DSN key; only active keys are accepted at ingestion."""

    id: int
    project_id: int
    public_key: str  # 32 lowercase hex
    label: str
    is_active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """A project: the unit that owns keys, events and issues."""

    id: int
    name: str
    slug: str
    created_at: datetime
    allowed_origins: tuple[str, ...] = ()  # empty: any origin
    rate_limit_per_minute: int | None = None  # events per minute per key; None: unlimited
    retention_days: int | None = None  # None: keep forever
    keys: tuple[ProjectKey, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """A user's membership of a project, with their notification settings."""

    project_id: int
    user_id: int
    username: str
    min_level: Level = "error"
    notify_new_issues: bool = True
    notify_regressions: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """Events grouped under one fingerprint."""

    id: int
    project_id: int
    fingerprint: str
    title: str
    culprit: str
    level: str
    status: IssueStatus
    first_seen: datetime
    last_seen: datetime
    times_seen: int
    last_event_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """A stored event (error/default), transaction or feedback event, normalized."""

    event_id: str  # 32 lowercase hex
    project_id: int
    issue_id: int | None
    envelope_id: int
    type: str
    level: str
    timestamp: datetime
    received_at: datetime
    platform: str
    title: str
    culprit: str
    message: str
    release: str | None
    environment: str | None
    tags: Mapping[str, str]
    user: Mapping[str, object] | None
    sdk: Mapping[str, object] | None
    transaction: str | None = None
    op: str | None = None
    duration_ms: float | None = None
    status: str | None = None
    span_count: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """An attachment's metadata; its bytes come from ``Storage.get_attachment``."""

    id: int
    project_id: int
    envelope_id: int
    event_id: str | None
    filename: str
    content_type: str
    attachment_type: str
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EventDetail:
    """An event with the payload exactly as the SDK sent it and its envelope's attachments."""

    event: Event
    payload: bytes
    attachments: tuple[Attachment, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEnvelope:
    """A received envelope: headers, and the request body exactly as received."""

    id: int
    project_id: int
    event_id: str | None
    received_at: datetime
    headers: Mapping[str, object]
    size: int  # bytes of the raw body as received
    raw: bytes
    raw_encoding: str | None  # Content-Encoding of ``raw``; None for identity


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredItem:
    """An envelope item as received (any type, including unknown ones)."""

    id: int
    project_id: int
    envelope_id: int
    position: int
    type: str
    headers: Mapping[str, object]
    size: int
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseHealth:
    """Session counts for one project, release and environment."""

    release: str
    environment: str | None
    started: int
    errored: int
    crashed: int
    abnormal: int
    exited: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Monitor:
    """A cron monitor, created by its first check-in and updated by ``monitor_config``."""

    id: int
    project_id: int
    slug: str
    config: Mapping[str, object] | None
    created_at: datetime
    last_check_in: datetime | None
    last_status: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckIn:
    """One check-in of a monitor (updates with the same id replace its status and duration)."""

    id: int
    monitor_id: int
    check_in_id: str
    status: str
    duration: float | None
    environment: str | None
    release: str | None
    timestamp: datetime
    trace_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    """A log record sent by an SDK."""

    id: int
    project_id: int
    timestamp: datetime
    level: str
    body: str
    attributes: Mapping[str, object]
    trace_id: str | None
    span_id: str | None
    severity_number: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Feedback:
    """User feedback, linked to the event it is about when the SDK says so."""

    id: int
    project_id: int
    event_id: str
    associated_event_id: str | None
    name: str | None
    email: str | None
    message: str
    url: str | None
    source: str
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscardCounter:
    """How many items of a category SDKs reported discarding for a reason."""

    reason: str
    category: str
    quantity: int
