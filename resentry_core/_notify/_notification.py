"""The value a :class:`~resentry_core.Notifier` receives: what a message needs, nothing more.

Every field is plain data already read from storage, so a notifier never touches the database.
Event data (titles, culprits, frames, releases) is attacker-controlled: each output format
escapes it (see ``_render.py``).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

NotificationReason = Literal[
    "new_issue",
    "regression",
    "level",
    "monitor_missed",
    "monitor_failed",
    "monitor_timeout",
    "digest",
    "test",
]
"""Why a notification is sent: a new or regressed issue, an event at or above a rule's level,
a cron monitor that missed, failed or timed out, a digest of events folded during the
de-duplication window, or a test message asked for by an admin."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifiedProject:
    """The project a notification is about."""

    id: int
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifiedIssue:
    """The issue a notification is about, as it was when the notification was built."""

    id: int
    title: str
    culprit: str | None
    level: str
    status: str
    times_seen: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifiedEvent:
    """The event that triggered a notification.

    ``frames`` are the top in-app stack frames, innermost first, each ``file:line in function``.
    """

    event_id: str
    release: str | None
    environment: str | None
    timestamp: datetime | None
    frames: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifiedMonitor:
    """The cron monitor a ``monitor_*`` notification is about."""

    id: int
    slug: str
    status: str
    expected_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """One message to deliver, whatever the channel.

    Attributes:
        key: idempotency key, the same for every retry of the same delivery (webhooks send it
            as ``Idempotency-Key``).
        reason: why it is sent.
        project: the project concerned.
        issue: the issue; ``None`` for monitor and test notifications.
        event: the triggering event, when there is one.
        monitor: the cron monitor, for ``monitor_*`` reasons.
        count: events folded into it (for a digest: the N more events of the issue).
        issue_url: link to the issue, built from the public URL.
        event_url: link to the event, built from the public URL.
        created_at: when the cause happened (UTC-aware).
    """

    key: str
    reason: NotificationReason
    project: NotifiedProject
    issue: NotifiedIssue | None = None
    event: NotifiedEvent | None = None
    monitor: NotifiedMonitor | None = None
    count: int = 1
    issue_url: str | None = None
    event_url: str | None = None
    created_at: datetime
