"""``SqlStorage.prune``: retention, with exact issue counters for what remains."""

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import delete, exists, func, select, update

from resentry_core._storage._sql_rollup import remove_events
from resentry_core._storage._sql_tx import Tx, chunks
from resentry_core._storage._tables import envelopes, events, issues, notification_outbox
from resentry_core._storage._values import aware

# Envelopes deleted per transaction: a long backlog is pruned in steps, so that on SQLite the
# write lock is released between them and ingestion goes on.
PRUNE_STEP: Final = 1_000


def prune_step(tx: Tx, project_id: int, older_than: datetime) -> tuple[int, bool]:
    """Delete the oldest (about) :data:`PRUNE_STEP` envelopes received before ``older_than``.

    Returns how many went and whether none older is left. A step takes whole timestamps (all
    envelopes received at its last one), so it always progresses. Foreign keys cascade from
    each envelope to its items, events, attachments, logs, feedback, discard counts, and the
    sessions and check-ins it last wrote. The issues of deleted events are then recounted from
    the events that remain, or deleted when none remains. Delivered notifications created
    before the cutoff go too.
    """
    cutoff = aware(older_than, "older_than")
    boundary = tx.conn.execute(
        select(envelopes.c.received_at)
        .where(envelopes.c.project_id == project_id, envelopes.c.received_at < cutoff)
        .order_by(envelopes.c.received_at, envelopes.c.id)
        .offset(PRUNE_STEP - 1)
        .limit(1)
    ).scalar()
    # An event's received_at is its envelope's: the same range finds them, by index.
    in_events = [events.c.received_at < cutoff]
    in_envelopes = [envelopes.c.project_id == project_id, envelopes.c.received_at < cutoff]
    if boundary is not None:
        in_events.append(events.c.received_at <= boundary)
        in_envelopes.append(envelopes.c.received_at <= boundary)
    touched = remove_events(tx, project_id, in_events)
    deleted = tx.conn.execute(delete(envelopes).where(*in_envelopes))
    for chunk in chunks(touched):
        _recount_issues(tx, chunk)
    tx.conn.execute(
        delete(notification_outbox).where(
            notification_outbox.c.project_id == project_id,
            notification_outbox.c.delivered_at.is_not(None),
            notification_outbox.c.created_at < cutoff,
        )
    )
    return deleted.rowcount, boundary is None


def _recount_issues(tx: Tx, issue_ids: Sequence[int]) -> None:
    in_issue = events.c.issue_id == issues.c.id
    remaining = exists().where(in_issue)
    tx.conn.execute(delete(issues).where(issues.c.id.in_(issue_ids), ~remaining))
    latest = (
        select(events.c.event_id)
        .where(in_issue)
        .order_by(events.c.received_at.desc(), events.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    tx.conn.execute(
        update(issues)
        .where(issues.c.id.in_(issue_ids))
        .values(
            times_seen=select(func.count()).where(in_issue).scalar_subquery(),
            first_seen=select(func.min(events.c.received_at)).where(in_issue).scalar_subquery(),
            last_seen=select(func.max(events.c.received_at)).where(in_issue).scalar_subquery(),
            last_event_id=latest,
        )
    )
