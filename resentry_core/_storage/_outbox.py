"""The notification outbox: durable "new issue" and "regression" notices for delivery workers.

``record`` writes one row per issue that a batch created or reopened, in the same transaction
as the events, so a notice exists exactly when its cause was stored. Workers claim due rows,
deliver them, and mark them delivered or failed (with the time of the next attempt).

A claim is a lease: claiming moves the row's ``next_attempt_at`` one lease ahead, so a worker
that dies mid-delivery does not lose the notice (it becomes due again when the lease ends) and
no other worker takes it meanwhile. On PostgreSQL, concurrent claims skip each other's rows
(``FOR UPDATE SKIP LOCKED``); on SQLite the writer lock serializes them.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy import select, update

from resentry_core._json import clean_text
from resentry_core._storage._sql_tx import Tx
from resentry_core._storage._tables import notification_outbox
from resentry_core._storage._values import aware

DEFAULT_LEASE: Final = timedelta(minutes=5)
MAX_ERROR_CHARS: Final = 2000

NoticeKind = Literal["new_issue", "regression"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxEntry:
    """A claimed notice: issue ``issue_id`` of project ``project_id`` is new or regressed.

    ``event_id`` is the event that created or reopened the issue; ``attempts`` counts this
    claim; ``last_error`` is what the previous attempt failed with, if any.
    """

    id: int
    project_id: int
    issue_id: int
    event_id: str | None
    kind: NoticeKind
    created_at: datetime
    attempts: int
    last_error: str | None


def _entry(row: Any) -> OutboxEntry:
    kind: NoticeKind = "new_issue" if row.kind == "new_issue" else "regression"
    return OutboxEntry(
        id=row.id,
        project_id=row.project_id,
        issue_id=row.issue_id,
        event_id=row.event_id,
        kind=kind,
        created_at=row.created_at,
        attempts=row.attempts + 1,
        last_error=row.last_error,
    )


def claim(tx: Tx, limit: int, now: datetime, lease: timedelta) -> list[OutboxEntry]:
    """Lease up to ``limit`` undelivered rows due at ``now``, oldest due first."""
    now = aware(now, "now")
    query = (
        select(notification_outbox)
        .where(
            notification_outbox.c.delivered_at.is_(None),
            notification_outbox.c.next_attempt_at <= now,
        )
        .order_by(notification_outbox.c.next_attempt_at, notification_outbox.c.id)
        .limit(max(1, limit))
    )
    if not tx.sqlite:
        query = query.with_for_update(skip_locked=True)
    entries = [_entry(row) for row in tx.conn.execute(query).all()]
    if entries:
        tx.conn.execute(
            update(notification_outbox)
            .where(notification_outbox.c.id.in_([entry.id for entry in entries]))
            .values(
                attempts=notification_outbox.c.attempts + 1,
                next_attempt_at=now + lease,
            )
        )
    return entries


def complete(tx: Tx, entry_id: int, now: datetime) -> None:
    """Mark a row delivered (a row deleted meanwhile, with its issue, is no error)."""
    tx.conn.execute(
        update(notification_outbox)
        .where(notification_outbox.c.id == entry_id)
        .values(delivered_at=aware(now, "now"), last_error=None)
    )


def fail(tx: Tx, entry_id: int, error: str, retry_at: datetime) -> None:
    """Record a failed delivery; the row is due again at ``retry_at``."""
    tx.conn.execute(
        update(notification_outbox)
        .where(notification_outbox.c.id == entry_id, notification_outbox.c.delivered_at.is_(None))
        .values(
            last_error=clean_text(error)[:MAX_ERROR_CHARS],
            next_attempt_at=aware(retry_at, "retry_at"),
        )
    )
