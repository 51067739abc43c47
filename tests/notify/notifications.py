"""Notification values for the channel tests."""

from datetime import UTC, datetime

from resentry_core import (
    Notification,
    NotificationReason,
    NotifiedEvent,
    NotifiedIssue,
    NotifiedMonitor,
    NotifiedProject,
)

WHEN = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)


def issue_notification(
    *,
    title: str = "ZeroDivisionError: division by zero",
    reason: NotificationReason = "new_issue",
    culprit: str | None = "shop.views in checkout",
    frames: tuple[str, ...] = ("shop/views.py:42 in checkout", "shop/cart.py:7 in total"),
    count: int = 1,
    key: str = "outbox-1",
) -> Notification:
    """A notification about an issue of project "shop", with its triggering event and links."""
    return Notification(
        key=key,
        reason=reason,
        project=NotifiedProject(id=1, name="shop"),
        issue=NotifiedIssue(
            id=7,
            title=title,
            culprit=culprit,
            level="error",
            status="unresolved",
            times_seen=3,
            first_seen=WHEN,
            last_seen=WHEN,
        ),
        event=NotifiedEvent(
            event_id="0123456789abcdef0123456789abcdef",
            release="shop@1.2.3",
            environment="production",
            timestamp=WHEN,
            frames=frames,
        ),
        count=count,
        issue_url="https://errors.example.com/projects/1/issues/7",
        event_url="https://errors.example.com/projects/1/events/0123456789abcdef0123456789abcdef",
        created_at=WHEN,
    )


def monitor_notification(reason: NotificationReason = "monitor_missed") -> Notification:
    """A notification about cron monitor ``nightly-backup`` of project "shop"."""
    return Notification(
        key="monitor-1",
        reason=reason,
        project=NotifiedProject(id=1, name="shop"),
        monitor=NotifiedMonitor(id=3, slug="nightly-backup", status="error", expected_at=WHEN),
        created_at=WHEN,
    )
