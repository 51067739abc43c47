"""Resentry core: a framework-agnostic, Sentry-compatible error-tracking library.

The envelope codec (:func:`parse_envelope`, :meth:`Envelope.serialize`, :func:`decompress`,
:func:`parse_sentry_auth`, :class:`Dsn`) is pure and synchronous. Storage, ingestion and
accounts are async (anyio); :meth:`Resentry.open` opens them together.

This module exports what an application embedding Resentry uses. Writing a storage backend
takes more: the storage protocols and the records ingestion hands to storage are in
:mod:`resentry_core.storage`.
"""

from resentry_core._accounts import Accounts
from resentry_core._compression import decompress
from resentry_core._config import CoreConfig
from resentry_core._dsn import Dsn, SentryAuth, parse_sentry_auth
from resentry_core._envelope import Envelope, EnvelopeHeaders, Item
from resentry_core._errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    EnvelopeError,
    InvalidAuthError,
    InvalidInputError,
    JsonDecodeError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    ResentryError,
    StorageError,
    UnsupportedEncodingError,
)
from resentry_core._ingest import Ingestor
from resentry_core._ingest_values import IngestRequest, IngestResult
from resentry_core._issues import Issues
from resentry_core._json import loads as parse_json
from resentry_core._json import within_depth
from resentry_core._limits import DEFAULT_LIMITS, MAX_JSON_DEPTH, Limits
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
from resentry_core._parser import parse_envelope
from resentry_core._projects import Projects
from resentry_core._ratelimit import RateLimit, format_rate_limits
from resentry_core._resentry import Resentry
from resentry_core._storage._insights import (
    HistogramUnit,
    InsightStore,
    IssueFilter,
    TagDistribution,
)
from resentry_core._storage._protocol import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, EventFilter, Storage
from resentry_core._storage._sql import SqlStorage
from resentry_core._tokens import TokenPair

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_PAGE_SIZE",
    "ISSUE_STATUSES",
    "LEVELS",
    "MAX_JSON_DEPTH",
    "MAX_PAGE_SIZE",
    "Accounts",
    "Attachment",
    "AuthenticationError",
    "BadRequestError",
    "CheckIn",
    "ConflictError",
    "CoreConfig",
    "DiscardCounter",
    "Dsn",
    "Envelope",
    "EnvelopeError",
    "EnvelopeHeaders",
    "Event",
    "EventDetail",
    "EventFilter",
    "Feedback",
    "HistogramUnit",
    "IngestRequest",
    "IngestResult",
    "Ingestor",
    "InsightStore",
    "InvalidAuthError",
    "InvalidInputError",
    "Issue",
    "IssueFilter",
    "IssueStatus",
    "Issues",
    "Item",
    "JsonDecodeError",
    "Level",
    "Limits",
    "LogEntry",
    "Member",
    "Monitor",
    "NotFoundError",
    "Page",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Project",
    "ProjectKey",
    "Projects",
    "RateLimit",
    "RateLimitedError",
    "ReleaseHealth",
    "Resentry",
    "ResentryError",
    "SentryAuth",
    "SqlStorage",
    "Storage",
    "StorageError",
    "StoredEnvelope",
    "StoredItem",
    "TagDistribution",
    "TokenPair",
    "UnsupportedEncodingError",
    "User",
    "decompress",
    "format_rate_limits",
    "parse_envelope",
    "parse_json",
    "parse_sentry_auth",
    "within_depth",
]
