"""The notification worker's transactions on SQL: fan-out, claims, outcomes, digests, monitors.

Fan-out turns each due outbox notice into one delivery per destination (members, channels,
the embedding application's notifiers) in one transaction, so a notice is expanded exactly
once. At most one message per issue and destination is sent per de-duplication window: a
notice for an issue whose window is open is dropped, and when the window ends the events that
arrived meanwhile (the growth of the issue's ``times_seen``) are sent as one digest.

Deliveries are claimed as leases (``next_attempt_at`` moves one lease ahead, ``FOR UPDATE
SKIP LOCKED`` on PostgreSQL), so several workers never send the same delivery at once and a
worker that dies mid-delivery loses nothing: the delivery is due again when its lease ends.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update

from resentry_core._json import clean_text
from resentry_core._models import Monitor
from resentry_core._notify._models import DeliveryJob, level_rank
from resentry_core._storage._sql_notify import (
    channel_from_row,
    delivery_from_row,
    delivery_row,
    notice_row,
)
from resentry_core._storage._sql_read import event_from_row, issue_from_row
from resentry_core._storage._sql_telemetry import monitor_from_row
from resentry_core._storage._sql_tx import Row, Tx, pair_filters
from resentry_core._storage._tables import (
    envelope_items,
    events,
    issues,
    monitors,
    notification_channels,
    notification_deliveries,
    notification_outbox,
    notification_rules,
    notification_windows,
    project_members,
    projects,
    users,
)

MAX_ERROR_CHARS = 2000
DEFAULT_TRIGGERS = frozenset({"new_issue", "regression"})
MONITOR_KINDS = frozenset({"monitor_missed", "monitor_failed", "monitor_timeout"})
# What members are told about, with the membership flag that opts out of it (None: none).
MEMBER_KINDS: dict[str, str | None] = {
    "new_issue": "notify_new_issues",
    "regression": "notify_regressions",
    **dict.fromkeys(MONITOR_KINDS, None),
}
# A judge of a monitor: the notice its state calls for at ``now`` ("monitor_missed", …), or None.
MonitorJudge = Callable[[Monitor, datetime], str | None]


@dataclass(frozen=True, slots=True)
class _Target:
    destination: str
    channel_id: int | None = None
    user_id: int | None = None


@dataclass(slots=True)
class _Project:
    """What a fan-out needs of one project: its members and its channels' rules."""

    members: list[Any] = field(default_factory=list)
    rules: dict[int, list[Any]] = field(default_factory=dict)  # channel id -> its rules


def _projects(tx: Tx, project_ids: set[int]) -> dict[int, _Project]:
    """The members and channel rules of ``project_ids``, in three queries."""
    found = {project_id: _Project() for project_id in project_ids}
    ids = sorted(project_ids)
    members = (
        select(
            project_members.c.project_id,
            project_members.c.min_level,
            project_members.c.notify_new_issues,
            project_members.c.notify_regressions,
            users.c.id,
            users.c.telegram_chat_id,
            users.c.email,
        )
        .join(users, users.c.id == project_members.c.user_id)
        .where(project_members.c.project_id.in_(ids), users.c.is_active)
        .order_by(users.c.id)
    )
    for row in tx.conn.execute(members).all():
        found[row.project_id].members.append(row)
    channels = select(notification_channels.c.id, notification_channels.c.project_id).where(
        notification_channels.c.project_id.in_(ids)
    )
    for channel in tx.conn.execute(channels.order_by(notification_channels.c.id)).all():
        found[channel.project_id].rules[channel.id] = []
    rules = select(notification_rules).where(notification_rules.c.project_id.in_(ids))
    for rule in tx.conn.execute(rules).all():
        found[rule.project_id].rules.setdefault(rule.channel_id, []).append(rule)
    return found


def _events(tx: Tx, keys: set[tuple[int, str]], query: Any) -> dict[tuple[int, str], Any]:
    """The rows of ``query`` (on ``events``) for the ``(project_id, event_id)`` ``keys``.

    Through :func:`pair_filters`: a row value ``IN`` made each fan-out and claim scan every
    event on SQLite, while holding the write lock ingestion waits for.
    """
    found: dict[tuple[int, str], Any] = {}
    for where in pair_filters(events.c.project_id, events.c.event_id, keys):
        for row in tx.conn.execute(query.where(where)).all():
            found[(row.project_id, row.event_id)] = row
    return found


def _default_wants(kind: str, level: str) -> bool:
    """What a channel without rules, and an application notifier, is told about."""
    return kind in MONITOR_KINDS or (
        kind in DEFAULT_TRIGGERS and level_rank(level) >= level_rank("error")
    )


def _targets(
    project: _Project, kind: str, level: str, environment: str | None, app_notifiers: int
) -> list[_Target]:
    """Who is told about a notice: members (new issues and regressions by their own settings,
    monitor alerts as ``error`` events against their ``min_level``), channels (by their rules,
    or the default), the application's notifiers."""
    targets: list[_Target] = []
    if kind in MEMBER_KINDS:
        wanted = MEMBER_KINDS[kind]
        for member in project.members:
            if wanted is not None and not getattr(member, wanted):
                continue
            if level_rank(level) < level_rank(member.min_level):
                continue
            if member.telegram_chat_id:
                targets.append(_Target(f"user:{member.id}:telegram", user_id=member.id))
            if member.email:
                targets.append(_Target(f"user:{member.id}:email", user_id=member.id))
    for channel_id, rules in project.rules.items():
        hit = (
            any(
                rule.trigger == kind
                and level_rank(level) >= level_rank(rule.min_level)
                and rule.environment in (None, environment)
                for rule in rules
            )
            if rules
            else _default_wants(kind, level)
        )
        if hit:
            targets.append(_Target(f"channel:{channel_id}", channel_id=channel_id))
    if _default_wants(kind, level):
        targets.extend(_Target(f"app:{index}") for index in range(app_notifiers))
    return targets


def fan_out(tx: Tx, limit: int, now: datetime, window: timedelta, app_notifiers: int) -> int:
    """Expand up to ``limit`` due outbox notices into deliveries; return how many were expanded.

    Everything the notices need is read in a few queries for all of them at once, so a batch
    of notices costs about as much as one.
    """
    query = (
        select(notification_outbox)
        .where(
            notification_outbox.c.delivered_at.is_(None),
            notification_outbox.c.next_attempt_at <= now,
        )
        .order_by(notification_outbox.c.id)
        .limit(limit)
    )
    if not tx.sqlite:
        query = query.with_for_update(skip_locked=True)
    notices = tx.conn.execute(query).all()
    if not notices:
        return 0
    issue_ids = sorted({notice.issue_id for notice in notices if notice.issue_id is not None})
    found_issues = {
        row.id: row
        for row in tx.conn.execute(
            select(issues.c.id, issues.c.level, issues.c.times_seen).where(
                issues.c.id.in_(issue_ids)
            )
        ).all()
    }
    found_events = _events(
        tx,
        {(n.project_id, n.event_id) for n in notices if n.issue_id and n.event_id},
        select(events.c.project_id, events.c.event_id, events.c.level, events.c.environment),
    )
    windows = {
        (row.issue_id, row.destination): row.ends_at
        for row in tx.conn.execute(
            select(
                notification_windows.c.issue_id,
                notification_windows.c.destination,
                notification_windows.c.ends_at,
            ).where(notification_windows.c.issue_id.in_(issue_ids))
        ).all()
    }
    projects_ = _projects(tx, {notice.project_id for notice in notices})
    deliveries: list[Row] = []
    opened: list[Row] = []
    for notice in notices:
        level, environment, times_seen = "error", None, 0
        if notice.issue_id is not None:
            issue = found_issues.get(notice.issue_id)
            if issue is None:
                continue
            level, times_seen = issue.level, issue.times_seen
            event = found_events.get((notice.project_id, notice.event_id))
            if event is not None:
                level, environment = event.level, event.environment
        targets = _targets(
            projects_[notice.project_id], notice.kind, level, environment, app_notifiers
        )
        for target in targets:
            if notice.issue_id is not None:
                key = (notice.issue_id, target.destination)
                ends_at = windows.get(key)
                if ends_at is not None and ends_at > now:
                    continue  # within the window: the digest will count it
                windows[key] = now + window
                opened.append(
                    {
                        "issue_id": notice.issue_id,
                        "destination": target.destination,
                        "project_id": notice.project_id,
                        "channel_id": target.channel_id,
                        "user_id": target.user_id,
                        "baseline": times_seen,
                        "ends_at": now + window,
                    }
                )
            deliveries.append(
                delivery_row(
                    project_id=notice.project_id,
                    key=f"notice/{notice.id}/{target.destination}",
                    destination=target.destination,
                    channel_id=target.channel_id,
                    user_id=target.user_id,
                    reason=notice.kind,
                    issue_id=notice.issue_id,
                    monitor_id=notice.monitor_id,
                    event_id=notice.event_id,
                    now=now,
                )
            )
    if opened:
        statement = tx.upsert(
            notification_windows,
            ("issue_id", "destination"),
            lambda excluded: {"baseline": excluded.baseline, "ends_at": excluded.ends_at},
        )
        tx.conn.execute(statement, opened)
    if deliveries:
        tx.conn.execute(tx.insert_missing(notification_deliveries, ("key",)), deliveries)
    tx.conn.execute(
        update(notification_outbox)
        .where(notification_outbox.c.id.in_([notice.id for notice in notices]))
        .values(delivered_at=now, attempts=notification_outbox.c.attempts + 1)
    )
    return len(notices)


def close_windows(tx: Tx, now: datetime, window: timedelta, limit: int) -> int:
    """Send a digest for each ended window whose issue grew, reopening it; drop the others.

    Returns the number of digests queued.
    """
    query = (
        select(notification_windows, issues.c.times_seen, issues.c.last_event_id)
        .join(issues, issues.c.id == notification_windows.c.issue_id)
        .where(notification_windows.c.ends_at <= now)
        .order_by(notification_windows.c.ends_at)
        .limit(limit)
    )
    if not tx.sqlite:
        query = query.with_for_update(of=notification_windows, skip_locked=True)
    digests = 0
    for row in tx.conn.execute(query).all():
        where = (
            notification_windows.c.issue_id == row.issue_id,
            notification_windows.c.destination == row.destination,
        )
        if row.times_seen <= row.baseline:
            tx.conn.execute(delete(notification_windows).where(*where))
            continue
        digests += 1
        key = f"digest/{row.issue_id}/{row.destination}/{row.ends_at.isoformat()}"
        digest = delivery_row(
            project_id=row.project_id,
            key=key,
            destination=row.destination,
            channel_id=row.channel_id,
            user_id=row.user_id,
            reason="digest",
            issue_id=row.issue_id,
            event_id=row.last_event_id,
            count=row.times_seen - row.baseline,
            now=now,
        )
        tx.conn.execute(tx.insert_missing(notification_deliveries, ("key",)), [digest])
        tx.conn.execute(
            update(notification_windows)
            .where(*where)
            .values(baseline=row.times_seen, ends_at=now + window)
        )
    return digests


def claim(
    tx: Tx, limit: int, now: datetime, lease: timedelta, app_notifiers: int
) -> list[DeliveryJob]:
    """Lease up to ``limit`` due deliveries, with what their messages need."""
    query = (
        select(notification_deliveries)
        .where(
            notification_deliveries.c.status.in_(("pending", "retrying")),
            notification_deliveries.c.next_attempt_at <= now,
        )
        .order_by(notification_deliveries.c.next_attempt_at, notification_deliveries.c.id)
        .limit(limit)
    )
    if not app_notifiers:
        query = query.where(notification_deliveries.c.destination.not_like("app:%"))
    if not tx.sqlite:
        query = query.with_for_update(skip_locked=True)
    rows = tx.conn.execute(query).all()
    if not rows:
        return []
    tx.conn.execute(
        update(notification_deliveries)
        .where(notification_deliveries.c.id.in_([row.id for row in rows]))
        .values(attempts=notification_deliveries.c.attempts + 1, next_attempt_at=now + lease)
    )
    return _jobs(tx, rows, now + lease)


def _by_id(tx: Tx, table: Any, ids: set[int], *columns: Any) -> dict[int, Any]:
    """The rows of ``table`` whose ids are in ``ids`` (all columns, or ``columns`` and the id)."""
    if not ids:
        return {}
    query = select(table.c.id, *columns) if columns else select(table)
    return {row.id: row for row in tx.conn.execute(query.where(table.c.id.in_(sorted(ids))))}


def _jobs(tx: Tx, rows: Sequence[Any], leased_until: datetime) -> list[DeliveryJob]:
    """The claimed ``rows`` with what their messages need, read in one query per table."""
    project_names = _by_id(tx, projects, {row.project_id for row in rows}, projects.c.name)
    found_issues = _by_id(tx, issues, {row.issue_id for row in rows if row.issue_id is not None})
    found_monitors = _by_id(
        tx, monitors, {row.monitor_id for row in rows if row.monitor_id is not None}
    )
    channels = _by_id(
        tx,
        notification_channels,
        {row.channel_id for row in rows if row.channel_id is not None},
    )
    found_users = _by_id(
        tx,
        users,
        {row.user_id for row in rows if row.user_id is not None},
        users.c.telegram_chat_id,
        users.c.email,
    )
    found_events = _events(
        tx,
        {(row.project_id, row.event_id) for row in rows if row.event_id},
        select(events, envelope_items.c.payload).join(
            envelope_items, envelope_items.c.id == events.c.item_id
        ),
    )
    jobs: list[DeliveryJob] = []
    for row in rows:
        values = dict(row._mapping)
        values.update(attempts=row.attempts + 1, next_attempt_at=leased_until)
        issue = found_issues.get(row.issue_id) if row.issue_id is not None else None
        event = found_events.get((row.project_id, row.event_id)) if row.event_id else None
        monitor = found_monitors.get(row.monitor_id) if row.monitor_id is not None else None
        channel = channels.get(row.channel_id) if row.channel_id is not None else None
        user = found_users.get(row.user_id) if row.user_id is not None else None
        jobs.append(
            DeliveryJob(
                delivery=delivery_from_row(SimpleNamespace(**values)),
                project_name=project_names[row.project_id].name,
                issue=None if issue is None else issue_from_row(issue),
                event=None if event is None else event_from_row(event),
                event_payload=None if event is None else event.payload,
                monitor=None if monitor is None else monitor_from_row(monitor),
                channel=None if channel is None else channel_from_row(channel),
                user_chat_id=None if user is None else user.telegram_chat_id,
                user_email=None if user is None else user.email,
            )
        )
    return jobs


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the attempt at a claimed delivery ended, at ``at``: delivered (no ``error``), due
    again at ``retry_at``, or failed for good (an ``error`` and no ``retry_at``)."""

    delivery_id: int
    at: datetime
    error: str | None = None
    retry_at: datetime | None = None


_DELIVERY_TIME = notification_deliveries.c.next_attempt_at.type
_SETTLE = (
    update(notification_deliveries)
    .where(notification_deliveries.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        delivered_at=bindparam("b_delivered_at", type_=_DELIVERY_TIME),
        updated_at=bindparam("b_at", type_=_DELIVERY_TIME),
        last_error=bindparam("b_error"),
        next_attempt_at=func.coalesce(
            bindparam("b_retry_at", type_=_DELIVERY_TIME),
            notification_deliveries.c.next_attempt_at,
        ),
    )
)


def settle(tx: Tx, outcomes: Sequence[Outcome]) -> None:
    """Record the outcomes of a round's attempts, in one statement."""
    rows: list[Row] = []
    for outcome in outcomes:
        failed = outcome.error is not None
        rows.append(
            {
                "b_id": outcome.delivery_id,
                "b_status": "delivered"
                if not failed
                else ("retrying" if outcome.retry_at else "failed"),
                "b_delivered_at": None if failed else outcome.at,
                "b_at": outcome.at,
                "b_error": None
                if outcome.error is None
                else clean_text(outcome.error)[:MAX_ERROR_CHARS],
                "b_retry_at": outcome.retry_at,
            }
        )
    if rows:
        tx.conn.execute(_SETTLE, rows)


def release(tx: Tx, delivery_ids: Sequence[int], now: datetime) -> None:
    """Give claimed deliveries back unsent: due at once, this attempt not counted."""
    if delivery_ids:
        tx.conn.execute(
            update(notification_deliveries)
            .where(notification_deliveries.c.id.in_(list(delivery_ids)))
            .values(next_attempt_at=now, attempts=notification_deliveries.c.attempts - 1)
        )


@dataclass(frozen=True, slots=True)
class Pending:
    """Which of the worker's jobs have something to do (read without taking a write lock)."""

    notices: bool
    windows: bool
    deliveries: bool
    monitors: tuple[int, ...]  # ids of the monitors whose state calls for a notice


def _exists(tx: Tx, query: Any) -> bool:
    return tx.conn.execute(query.limit(1)).first() is not None


def pending(tx: Tx, now: datetime, app_notifiers: int, judge: MonitorJudge) -> Pending:
    """What is due at ``now``: a few indexed reads, so an idle worker writes nothing."""
    deliveries = select(notification_deliveries.c.id).where(
        notification_deliveries.c.status.in_(("pending", "retrying")),
        notification_deliveries.c.next_attempt_at <= now,
    )
    if not app_notifiers:
        deliveries = deliveries.where(notification_deliveries.c.destination.not_like("app:%"))
    return Pending(
        notices=_exists(
            tx,
            select(notification_outbox.c.id).where(
                notification_outbox.c.delivered_at.is_(None),
                notification_outbox.c.next_attempt_at <= now,
            ),
        ),
        windows=_exists(
            tx,
            select(notification_windows.c.issue_id).where(notification_windows.c.ends_at <= now),
        ),
        deliveries=_exists(tx, deliveries),
        monitors=tuple(_alerting_monitors(tx, select(monitors), now, judge)),
    )


def _alerting_monitors(tx: Tx, query: Any, now: datetime, judge: MonitorJudge) -> dict[int, Any]:
    """The rows of ``query``'s monitors whose state calls for a notice, with its kind."""
    query = query.where(
        monitors.c.config.is_not(None) | monitors.c.last_status.in_(("error", "in_progress"))
    )
    found: dict[int, Any] = {}
    for row in tx.conn.execute(query).all():
        marker = row.last_check_in or row.created_at
        if row.alerted_check_in is not None and row.alerted_check_in >= marker:
            continue
        kind = judge(monitor_from_row(row), now)
        if kind is not None:
            found[row.id] = (row, kind, marker)
    return found


def check_monitors(tx: Tx, now: datetime, judge: MonitorJudge, ids: Sequence[int]) -> int:
    """Write the notices that the states of monitors ``ids`` call for (checked again, locked);
    return how many.

    A monitor is told about at most once per check-in (``alerted_check_in``): a monitor that
    keeps missing is one notice until it checks in again.
    """
    query = select(monitors).where(monitors.c.id.in_(list(ids)))
    if not tx.sqlite:
        query = query.with_for_update(skip_locked=True)
    rows: list[Row] = []
    for row, kind, marker in _alerting_monitors(tx, query, now, judge).values():
        values: Row = {"alerted_check_in": marker}
        if kind != "monitor_failed":
            values["last_status"] = kind.removeprefix("monitor_")
        tx.conn.execute(update(monitors).where(monitors.c.id == row.id).values(values))
        rows.append(notice_row(project_id=row.project_id, kind=kind, now=now, monitor_id=row.id))
    tx.insert(notification_outbox, rows)
    return len(rows)
