"""Resentry core: a framework-agnostic, Sentry-compatible error-tracking library.

The envelope codec (:func:`parse_envelope`, :meth:`Envelope.serialize`, :func:`decompress`,
:func:`parse_sentry_auth`, :class:`Dsn`) is pure and synchronous. Storage, ingestion and
accounts are async (anyio); :meth:`Resentry.open` opens them together, with the background
worker that delivers notifications (:class:`Notifier`; Telegram, e-mail and webhooks built in).

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
from resentry_core._notify._channels import Notifications
from resentry_core._notify._email import EmailNotifier
from resentry_core._notify._models import (
    CHANNEL_KINDS,
    TRIGGERS,
    WEBHOOK_FLAVORS,
    Channel,
    ChannelKind,
    Delivery,
    DeliveryStatus,
    Rule,
    Trigger,
)
from resentry_core._notify._notification import (
    Notification,
    NotificationReason,
    NotifiedEvent,
    NotifiedIssue,
    NotifiedMonitor,
    NotifiedProject,
)
from resentry_core._notify._notifier import DeliveryError, Notifier, SmtpConfig, TelegramConfig
from resentry_core._notify._telegram import TelegramNotifier
from resentry_core._notify._urlguard import check_webhook_url
from resentry_core._notify._webhook import (
    WebhookFlavor,
    WebhookNotifier,
    sign_webhook,
    verify_webhook,
)
from resentry_core._notify._worker import Worker
from resentry_core._parser import parse_envelope
from resentry_core._projects import Projects
from resentry_core._ratelimit import RateLimit, format_rate_limits
from resentry_core._resentry import Resentry, open_worker
from resentry_core._storage._insights import (
    HistogramUnit,
    InsightStore,
    IssueFilter,
    TagDistribution,
)
from resentry_core._storage._protocol import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, EventFilter, Storage
from resentry_core._storage._sql import SqlStorage
from resentry_core._tokens import TokenPair
from resentry_core._usernames import MAX_USERNAME_LENGTH

__all__ = [
    "CHANNEL_KINDS",
    "DEFAULT_LIMITS",
    "DEFAULT_PAGE_SIZE",
    "ISSUE_STATUSES",
    "LEVELS",
    "MAX_JSON_DEPTH",
    "MAX_PAGE_SIZE",
    "MAX_USERNAME_LENGTH",
    "TRIGGERS",
    "WEBHOOK_FLAVORS",
    "Accounts",
    "Attachment",
    "AuthenticationError",
    "BadRequestError",
    "Channel",
    "ChannelKind",
    "CheckIn",
    "ConflictError",
    "CoreConfig",
    "Delivery",
    "DeliveryError",
    "DeliveryStatus",
    "DiscardCounter",
    "Dsn",
    "EmailNotifier",
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
    "Notification",
    "NotificationReason",
    "Notifications",
    "NotifiedEvent",
    "NotifiedIssue",
    "NotifiedMonitor",
    "NotifiedProject",
    "Notifier",
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
    "Rule",
    "SentryAuth",
    "SmtpConfig",
    "SqlStorage",
    "Storage",
    "StorageError",
    "StoredEnvelope",
    "StoredItem",
    "TagDistribution",
    "TelegramConfig",
    "TelegramNotifier",
    "TokenPair",
    "Trigger",
    "UnsupportedEncodingError",
    "User",
    "WebhookFlavor",
    "WebhookNotifier",
    "Worker",
    "check_webhook_url",
    "decompress",
    "format_rate_limits",
    "open_worker",
    "parse_envelope",
    "parse_json",
    "parse_sentry_auth",
    "sign_webhook",
    "verify_webhook",
    "within_depth",
]
