"""Notification channels, rules and the delivery log on SQL (each function takes a ``Tx``)."""

import uuid
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Final

from sqlalchemy import ColumnElement, Table, delete, select, update

from resentry_core._errors import NotFoundError
from resentry_core._models import Level, Page
from resentry_core._notify._models import (
    Channel,
    ChannelKind,
    Delivery,
    Rule,
    Trigger,
)
from resentry_core._notify._webhook import WebhookFlavor
from resentry_core._storage._sql_admin import get_project
from resentry_core._storage._sql_read import keyset_page
from resentry_core._storage._sql_tx import Row, Tx
from resentry_core._storage._tables import (
    notification_channels,
    notification_deliveries,
    notification_outbox,
    notification_rules,
)
from resentry_core._storage._values import UNSET, Unset, aware


def channel_from_row(row: Any) -> Channel:
    """The :class:`Channel` of a ``notification_channels`` row."""
    return Channel(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        kind=row.kind,
        target=row.target,
        flavor=row.flavor,
        created_at=row.created_at,
        secret=row.secret,
    )


def _rule(row: Any) -> Rule:
    return Rule(
        id=row.id,
        project_id=row.project_id,
        channel_id=row.channel_id,
        trigger=row.trigger,
        min_level=row.min_level,
        environment=row.environment,
        created_at=row.created_at,
    )


def delivery_from_row(row: Any) -> Delivery:
    """The :class:`Delivery` of a ``notification_deliveries`` row."""
    return Delivery(
        id=row.id,
        project_id=row.project_id,
        key=row.key,
        destination=row.destination,
        channel_id=row.channel_id,
        user_id=row.user_id,
        reason=row.reason,
        issue_id=row.issue_id,
        monitor_id=row.monitor_id,
        event_id=row.event_id,
        count=row.count,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
    )


def create_channel(
    tx: Tx,
    project_id: int,
    *,
    name: str,
    kind: ChannelKind,
    target: str,
    flavor: WebhookFlavor | None,
    secret: str | None,
    now: datetime,
) -> Channel:
    """Store a channel as given. Raises NotFoundError (no such project)."""
    get_project(tx, project_id)
    row: Row = {
        "project_id": project_id,
        "name": name,
        "kind": kind,
        "target": target,
        "secret": secret,
        "flavor": flavor,
        "created_at": now,
    }
    [channel_id] = tx.insert_ids(notification_channels, [row])
    return channel_from_row(SimpleNamespace(**{**row, "id": channel_id}))


def get_channel(tx: Tx, project_id: int, channel_id: int) -> Channel:
    """One channel of the project. Raises NotFoundError."""
    return channel_from_row(_one(tx, notification_channels, "channel", project_id, channel_id))


def list_channels(tx: Tx, project_id: int) -> list[Channel]:
    """The project's channels by id. Raises NotFoundError."""
    return [channel_from_row(row) for row in _all(tx, notification_channels, project_id)]


def _one(tx: Tx, table: Table, what: str, project_id: int, row_id: int) -> Any:
    """The row ``row_id`` of ``table`` if it belongs to the project. Raises NotFoundError."""
    query = select(table).where(table.c.id == row_id, table.c.project_id == project_id)
    row = tx.conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"{what} {row_id} not found in project {project_id}")
    return row


def _all(tx: Tx, table: Table, project_id: int) -> list[Any]:
    """The project's rows of ``table``, by id. Raises NotFoundError for an unknown project."""
    get_project(tx, project_id)
    query = select(table).where(table.c.project_id == project_id).order_by(table.c.id)
    return list(tx.conn.execute(query).all())


def update_channel(
    tx: Tx,
    project_id: int,
    channel_id: int,
    *,
    name: str | Unset,
    target: str | Unset,
    flavor: WebhookFlavor | Unset,
) -> Channel:
    """Store a channel's given fields as given. Raises NotFoundError."""
    get_channel(tx, project_id, channel_id)
    values = _given(name=name, target=target, flavor=flavor)
    if values:
        tx.conn.execute(
            update(notification_channels)
            .where(notification_channels.c.id == channel_id)
            .values(values)
        )
    return get_channel(tx, project_id, channel_id)


def delete_channel(tx: Tx, project_id: int, channel_id: int) -> None:
    """Delete a channel with its rules and deliveries. Raises NotFoundError."""
    get_channel(tx, project_id, channel_id)
    tx.conn.execute(delete(notification_channels).where(notification_channels.c.id == channel_id))


def create_rule(
    tx: Tx,
    project_id: int,
    *,
    channel_id: int,
    trigger: Trigger,
    min_level: Level,
    environment: str | None,
    now: datetime,
) -> Rule:
    """Store a rule as given (``Notifications`` checks that the channel is the project's)."""
    row: Row = {
        "project_id": project_id,
        "channel_id": channel_id,
        "trigger": trigger,
        "min_level": min_level,
        "environment": environment,
        "created_at": now,
    }
    [rule_id] = tx.insert_ids(notification_rules, [row])
    return _rule(SimpleNamespace(**{**row, "id": rule_id}))


def get_rule(tx: Tx, project_id: int, rule_id: int) -> Rule:
    """One rule of the project. Raises NotFoundError."""
    return _rule(_one(tx, notification_rules, "rule", project_id, rule_id))


def list_rules(tx: Tx, project_id: int) -> list[Rule]:
    """The project's rules by id. Raises NotFoundError."""
    return [_rule(row) for row in _all(tx, notification_rules, project_id)]


def update_rule(
    tx: Tx,
    project_id: int,
    rule_id: int,
    *,
    channel_id: int | Unset,
    trigger: Trigger | Unset,
    min_level: Level | Unset,
    environment: str | Unset | None,
) -> Rule:
    """Store a rule's given fields as given. Raises NotFoundError (no such rule)."""
    get_rule(tx, project_id, rule_id)
    values = _given(
        channel_id=channel_id, trigger=trigger, min_level=min_level, environment=environment
    )
    if values:
        tx.conn.execute(
            update(notification_rules).where(notification_rules.c.id == rule_id).values(values)
        )
    return get_rule(tx, project_id, rule_id)


def delete_rule(tx: Tx, project_id: int, rule_id: int) -> None:
    """Delete a rule. Raises NotFoundError."""
    statement = delete(notification_rules).where(
        notification_rules.c.id == rule_id, notification_rules.c.project_id == project_id
    )
    if tx.conn.execute(statement).rowcount == 0:
        raise NotFoundError(f"rule {rule_id} not found in project {project_id}")


def _given(**fields: object) -> Row:
    """The fields that are not :data:`UNSET`."""
    return {name: value for name, value in fields.items() if value is not UNSET}


def list_deliveries(
    tx: Tx, project_id: int, channel_id: int | None, cursor: str | None, limit: int
) -> Page[Delivery]:
    """The project's deliveries (optionally one channel's), newest first."""
    get_project(tx, project_id)
    query = select(notification_deliveries).where(
        notification_deliveries.c.project_id == project_id
    )
    if channel_id is not None:
        query = query.where(notification_deliveries.c.channel_id == channel_id)
    return keyset_page(
        tx,
        query,
        kind="deliveries",
        sort=notification_deliveries.c.id,
        row_id=notification_deliveries.c.id,
        cursor=cursor,
        limit=limit,
        present=delivery_from_row,
        timed=False,
    )


FINISHED: Final = ("delivered", "failed")
PRUNE_DELIVERIES_STEP: Final = 1_000


def prune_deliveries_step(tx: Tx, older_than: datetime) -> int:
    """Delete up to :data:`PRUNE_DELIVERIES_STEP` finished (delivered or failed) deliveries
    last updated before ``older_than``; return how many. Pending and retrying ones stay."""
    table = notification_deliveries
    finished = (table.c.status.in_(FINISHED), table.c.updated_at < aware(older_than, "older_than"))
    return _delete_step(tx, table, finished)


def prune_outbox_step(tx: Tx, older_than: datetime) -> int:
    """Delete up to :data:`PRUNE_DELIVERIES_STEP` outbox notices fanned out before
    ``older_than`` (their deliveries carry on without them); return how many."""
    table = notification_outbox
    done = (
        table.c.delivered_at.is_not(None),
        table.c.delivered_at < aware(older_than, "older_than"),
    )
    return _delete_step(tx, table, done)


def _delete_step(tx: Tx, table: Table, where: tuple[ColumnElement[bool], ...]) -> int:
    ids = select(table.c.id).where(*where).order_by(table.c.id).limit(PRUNE_DELIVERIES_STEP)
    found = list(tx.conn.execute(ids).scalars())
    if found:
        tx.conn.execute(delete(table).where(table.c.id.in_(found)))
    return len(found)


def delivery_row(
    *,
    project_id: int,
    key: str,
    destination: str,
    reason: str,
    now: datetime,
    channel_id: int | None = None,
    user_id: int | None = None,
    issue_id: int | None = None,
    monitor_id: int | None = None,
    event_id: str | None = None,
    count: int = 1,
) -> Row:
    """A new pending ``notification_deliveries`` row, due at ``now``."""
    return {
        "project_id": project_id,
        "key": key,
        "destination": destination,
        "channel_id": channel_id,
        "user_id": user_id,
        "reason": reason,
        "issue_id": issue_id,
        "monitor_id": monitor_id,
        "event_id": event_id,
        "count": count,
        "status": "pending",
        "attempts": 0,
        "last_error": None,
        "created_at": now,
        "updated_at": now,
        "next_attempt_at": now,
        "delivered_at": None,
    }


def notice_row(
    *,
    project_id: int,
    kind: str,
    now: datetime,
    issue_id: int | None = None,
    monitor_id: int | None = None,
    event_id: str | None = None,
) -> Row:
    """A new ``notification_outbox`` row, due at ``now``."""
    return {
        "project_id": project_id,
        "issue_id": issue_id,
        "monitor_id": monitor_id,
        "event_id": event_id,
        "kind": kind,
        "created_at": now,
        "delivered_at": None,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": None,
    }


def enqueue_test(tx: Tx, project_id: int, channel_id: int, now: datetime) -> Delivery:
    """Queue a test message to a channel. Raises NotFoundError."""
    get_channel(tx, project_id, channel_id)
    row = delivery_row(
        project_id=project_id,
        key=f"test/{channel_id}/{uuid.uuid4().hex}",
        destination=f"channel:{channel_id}",
        channel_id=channel_id,
        reason="test",
        now=now,
    )
    [delivery_id] = tx.insert_ids(notification_deliveries, [row])
    return delivery_from_row(SimpleNamespace(**{**row, "id": delivery_id}))
