"""Resentry core: a framework-agnostic, Sentry-compatible error-tracking library.

The envelope codec (:func:`parse_envelope`, :meth:`Envelope.serialize`, :func:`decompress`,
:func:`parse_sentry_auth`, :class:`Dsn`) is pure and synchronous. Storage, ingestion and
accounts are async (anyio); :meth:`Resentry.open` opens them together.
"""

from resentry_core._accounts import Accounts
from resentry_core._compression import decompress
from resentry_core._config import CoreConfig
from resentry_core._dsn import Dsn, SentryAuth, check_envelope_dsn, parse_sentry_auth
from resentry_core._envelope import Envelope, EnvelopeHeaders, Item
from resentry_core._errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    EnvelopeError,
    InvalidAuthError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    ResentryError,
    StorageError,
    UnsupportedEncodingError,
)
from resentry_core._grouping import fingerprint
from resentry_core._ingest import Ingestor, IngestRequest, IngestResult, utc_now
from resentry_core._json import JsonDecodeError
from resentry_core._json import loads as parse_json
from resentry_core._limits import DEFAULT_LIMITS, Limits
from resentry_core._models import (
    ISSUE_STATUSES,
    LEVELS,
    Attachment,
    CheckIn,
    DiscardCounter,
    Event,
    EventDetail,
    Feedback,
    Issue,
    IssueStatus,
    Level,
    LogEntry,
    Member,
    Monitor,
    Page,
    Project,
    ProjectKey,
    ReleaseHealth,
    StoredEnvelope,
    StoredItem,
    User,
)
from resentry_core._normalize import normalize_event
from resentry_core._parser import parse_envelope
from resentry_core._passwords import PasswordHasher
from resentry_core._prepare import prepare_envelope
from resentry_core._ratelimit import RateLimit, format_rate_limits
from resentry_core._records import (
    AttachmentRecord,
    CheckInRecord,
    DiscardedCount,
    EventRecord,
    FeedbackRecord,
    ItemRecord,
    LogRecord,
    PreparedEnvelope,
    Recorded,
    SessionAggregate,
    SessionUpdate,
)
from resentry_core._resentry import MEMORY_URL, Resentry, open_storage
from resentry_core._storage._insights import (
    TAG_SAMPLE_EVENTS,
    HistogramUnit,
    InsightStore,
    IssueFilter,
    TagDistribution,
)
from resentry_core._storage._memory import MemoryStorage
from resentry_core._storage._outbox import OutboxEntry
from resentry_core._storage._protocol import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    EventFilter,
    EventStore,
    IngestStore,
    ProjectStore,
    Storage,
    UserStore,
)
from resentry_core._storage._sql import SqlStorage
from resentry_core._storage._values import UNSET, Unset
from resentry_core._store import decode_store_body, envelope_from_store
from resentry_core._tokens import Claims, TokenCodec, TokenPair

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_PAGE_SIZE",
    "ISSUE_STATUSES",
    "LEVELS",
    "MAX_PAGE_SIZE",
    "MEMORY_URL",
    "TAG_SAMPLE_EVENTS",
    "UNSET",
    "Accounts",
    "Attachment",
    "AttachmentRecord",
    "AuthenticationError",
    "BadRequestError",
    "CheckIn",
    "CheckInRecord",
    "Claims",
    "ConflictError",
    "CoreConfig",
    "DiscardCounter",
    "DiscardedCount",
    "Dsn",
    "Envelope",
    "EnvelopeError",
    "EnvelopeHeaders",
    "Event",
    "EventDetail",
    "EventFilter",
    "EventRecord",
    "EventStore",
    "Feedback",
    "FeedbackRecord",
    "HistogramUnit",
    "IngestRequest",
    "IngestResult",
    "IngestStore",
    "Ingestor",
    "InsightStore",
    "InvalidAuthError",
    "InvalidInputError",
    "Issue",
    "IssueFilter",
    "IssueStatus",
    "Item",
    "ItemRecord",
    "JsonDecodeError",
    "Level",
    "Limits",
    "LogEntry",
    "LogRecord",
    "Member",
    "MemoryStorage",
    "Monitor",
    "NotFoundError",
    "OutboxEntry",
    "Page",
    "PasswordHasher",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PreparedEnvelope",
    "Project",
    "ProjectKey",
    "ProjectStore",
    "RateLimit",
    "RateLimitedError",
    "Recorded",
    "ReleaseHealth",
    "Resentry",
    "ResentryError",
    "SentryAuth",
    "SessionAggregate",
    "SessionUpdate",
    "SqlStorage",
    "Storage",
    "StorageError",
    "StoredEnvelope",
    "StoredItem",
    "TagDistribution",
    "TokenCodec",
    "TokenPair",
    "Unset",
    "UnsupportedEncodingError",
    "User",
    "UserStore",
    "check_envelope_dsn",
    "decode_store_body",
    "decompress",
    "envelope_from_store",
    "fingerprint",
    "format_rate_limits",
    "normalize_event",
    "open_storage",
    "parse_envelope",
    "parse_json",
    "parse_sentry_auth",
    "prepare_envelope",
    "utc_now",
]
