"""Build the :class:`Notification` of a claimed delivery from what storage read for it."""

from datetime import datetime
from typing import Any, Final, cast, get_args

from resentry_core import _json
from resentry_core._errors import JsonDecodeError
from resentry_core._notify._models import DeliveryJob
from resentry_core._notify._notification import (
    Notification,
    NotificationReason,
    NotifiedEvent,
    NotifiedIssue,
    NotifiedMonitor,
    NotifiedProject,
)
from resentry_core._notify._schedule import expected_at

MAX_FRAMES: Final = 5
_REASONS: Final = frozenset(get_args(NotificationReason))


def top_frames(payload: bytes | None, limit: int = MAX_FRAMES) -> tuple[str, ...]:
    """The innermost in-app frames of an event's last exception, ``file:line in function``.

    Falls back to all frames when none is marked in-app; a payload that is not what an SDK
    sends gives no frames.
    """
    if payload is None:
        return ()
    try:
        event = _json.loads(payload)
    except JsonDecodeError:
        return ()
    frames = _frames(event)
    chosen = [frame for frame in frames if frame.get("in_app") is True] or frames
    return tuple(_frame_text(frame) for frame in reversed(chosen[-limit:]))


def _frames(event: Any) -> list[dict[str, Any]]:
    if not isinstance(event, dict):
        return []
    exception = event.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else exception
    if not isinstance(values, list) or not values or not isinstance(values[-1], dict):
        return []
    stacktrace = values[-1].get("stacktrace")
    frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    if not isinstance(frames, list):
        return []
    return [frame for frame in frames if isinstance(frame, dict)]


def _frame_text(frame: dict[str, Any]) -> str:
    where = frame.get("filename") or frame.get("abs_path") or frame.get("module") or "?"
    line = frame.get("lineno")
    function = frame.get("function") or "?"
    position = f"{where}:{line}" if isinstance(line, int) else str(where)
    return f"{position} in {function}"


def _reason(value: str) -> NotificationReason:
    if value not in _REASONS:
        raise ValueError(f"unknown notification reason {value!r}")
    return cast(NotificationReason, value)


def build_notification(job: DeliveryJob, *, public_url: str | None, now: datetime) -> Notification:
    """The message of ``job`` (links only when the public URL is known)."""
    delivery = job.delivery
    issue = event = monitor = None
    issue_url = event_url = None
    base = None if public_url is None else public_url.rstrip("/")
    project_path = f"{base}/projects/{delivery.project_id}"  # the web UI's pages
    if job.issue is not None:
        issue = NotifiedIssue(
            id=job.issue.id,
            title=job.issue.title,
            culprit=job.issue.culprit or None,
            level=job.issue.level,
            status=job.issue.status,
            times_seen=job.issue.times_seen,
            first_seen=job.issue.first_seen,
            last_seen=job.issue.last_seen,
        )
        issue_url = None if base is None else f"{project_path}/issues/{job.issue.id}/"
    if job.event is not None:
        event = NotifiedEvent(
            event_id=job.event.event_id,
            release=job.event.release,
            environment=job.event.environment,
            timestamp=job.event.timestamp,
            frames=top_frames(job.event_payload),
        )
        event_url = None if base is None else f"{project_path}/events/{job.event.event_id}/"
    if job.monitor is not None:
        monitor = NotifiedMonitor(
            id=job.monitor.id,
            slug=job.monitor.slug,
            status=job.monitor.last_status or "unknown",
            expected_at=expected_at(job.monitor),
        )
    return Notification(
        key=delivery.key,
        reason=_reason(delivery.reason),
        project=NotifiedProject(id=delivery.project_id, name=job.project_name),
        issue=issue,
        event=event,
        monitor=monitor,
        count=delivery.count,
        issue_url=issue_url,
        event_url=event_url,
        created_at=delivery.created_at,
    )
