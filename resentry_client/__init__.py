"""Resentry client: a typed httpx SDK for the Resentry management API, and its CLI.

``Client`` (blocking) and ``AsyncClient`` (asyncio or trio) offer the same operations, grouped
in namespaces (``client.projects.list()``, ``client.events.get(project_id, event_id)``, …).
Lists are lazy and follow the API's cursors; answers are frozen dataclasses; errors are
``ResentryClientError`` and its subclasses. It talks only HTTP and imports nothing of the
server.
"""

from resentry_client._async_client import AsyncClient
from resentry_client._calls import NOT_GIVEN, Destination, NotGiven
from resentry_client._client import Client
from resentry_client._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResentryClientError,
    UnprocessableEntityError,
)
from resentry_client._flow import RetryPolicy
from resentry_client._models import (
    Attachment,
    Channel,
    CheckIn,
    CreatedChannel,
    Delivery,
    DiscardCounter,
    Download,
    Event,
    EventDetail,
    Feedback,
    Health,
    Issue,
    LogRecord,
    Member,
    Monitor,
    Page,
    Project,
    ProjectKey,
    ReleaseHealth,
    Rule,
    StoredItem,
    Tokens,
    User,
)
from resentry_client._resources import AsyncPager, SyncPager
from resentry_client._testevent import send_test_event

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncPager",
    "Attachment",
    "AuthenticationError",
    "BadRequestError",
    "Channel",
    "CheckIn",
    "Client",
    "ConflictError",
    "CreatedChannel",
    "Delivery",
    "Destination",
    "DiscardCounter",
    "Download",
    "Event",
    "EventDetail",
    "Feedback",
    "Health",
    "InternalServerError",
    "Issue",
    "LogRecord",
    "Member",
    "Monitor",
    "NotFoundError",
    "NotGiven",
    "Page",
    "PermissionDeniedError",
    "Project",
    "ProjectKey",
    "RateLimitError",
    "ReleaseHealth",
    "ResentryClientError",
    "RetryPolicy",
    "Rule",
    "StoredItem",
    "SyncPager",
    "Tokens",
    "UnprocessableEntityError",
    "User",
    "send_test_event",
]
