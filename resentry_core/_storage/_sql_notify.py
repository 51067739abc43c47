"""Notification channels, rules and the delivery log on SQL (each function takes a ``Tx``)."""

import secrets
import uuid
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import delete, select, update

from resentry_core._errors import InvalidInputError, NotFoundError
from resentry_core._models import LEVELS, Level, Page
from resentry_core._notify._models import (
    CHANNEL_KINDS,
    TRIGGERS,
    WEBHOOK_FLAVORS,
    Channel,
    ChannelKind,
    Delivery,
    Rule,
    Trigger,
)
from resentry_core._notify._webhook import WebhookFlavor
from resentry_core._rules import check_email, check_text
from resentry_core._storage._sql_admin import get_project
from resentry_core._storage._sql_read import keyset_page
from resentry_core._storage._sql_tx import Row, Tx
from resentry_core._storage._tables import (
    notification_channels,
    notification_deliveries,
    notification_rules,
)
from resentry_core._storage._values import UNSET, Unset

SECRET_BYTES = 32


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


def check_target(kind: ChannelKind, target: str) -> str:
    """A channel's target, checked for its kind (webhook URLs are checked by the caller)."""
    target = target.strip()
    check_text(target, "a channel target")
    if kind == "email":
        addresses = [check_email(part) for part in target.split(",")]
        return ",".join(address for address in addresses if address)
    return target


def create_channel(
    tx: Tx,
    project_id: int,
    *,
    name: str,
    kind: ChannelKind,
    target: str,
    flavor: WebhookFlavor | None,
    now: datetime,
) -> Channel:
    """Create a channel; a webhook gets a new secret. Raises NotFoundError, InvalidInputError."""
    get_project(tx, project_id)
    check_text(name, "a channel name")
    if kind not in CHANNEL_KINDS:
        raise InvalidInputError(f"unknown channel kind {kind!r}; use one of {CHANNEL_KINDS}")
    if kind == "webhook":
        flavor = flavor or "resentry"
        if flavor not in WEBHOOK_FLAVORS:
            raise InvalidInputError(f"unknown flavor {flavor!r}; use one of {WEBHOOK_FLAVORS}")
    elif flavor is not None:
        raise InvalidInputError("only webhook channels have a flavor")
    row: Row = {
        "project_id": project_id,
        "name": name.strip(),
        "kind": kind,
        "target": check_target(kind, target),
        "secret": secrets.token_hex(SECRET_BYTES) if kind == "webhook" else None,
        "flavor": flavor,
        "created_at": now,
    }
    [channel_id] = tx.insert_ids(notification_channels, [row])
    return channel_from_row(SimpleNamespace(**{**row, "id": channel_id}))


def get_channel(tx: Tx, project_id: int, channel_id: int) -> Channel:
    """One channel of the project. Raises NotFoundError."""
    query = select(notification_channels).where(
        notification_channels.c.id == channel_id,
        notification_channels.c.project_id == project_id,
    )
    row = tx.conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"channel {channel_id} not found in project {project_id}")
    return channel_from_row(row)


def list_channels(tx: Tx, project_id: int) -> list[Channel]:
    """The project's channels by id. Raises NotFoundError."""
    get_project(tx, project_id)
    query = (
        select(notification_channels)
        .where(notification_channels.c.project_id == project_id)
        .order_by(notification_channels.c.id)
    )
    return [channel_from_row(row) for row in tx.conn.execute(query).all()]


def update_channel(
    tx: Tx,
    project_id: int,
    channel_id: int,
    *,
    name: str | Unset,
    target: str | Unset,
    flavor: WebhookFlavor | Unset,
) -> Channel:
    """Change a channel's name, target or flavor. Raises NotFoundError, InvalidInputError."""
    channel = get_channel(tx, project_id, channel_id)
    values: Row = {}
    if name is not UNSET:
        check_text(name, "a channel name")
        values["name"] = name.strip()
    if target is not UNSET:
        values["target"] = check_target(channel.kind, target)
    if flavor is not UNSET:
        if channel.kind != "webhook" or flavor not in WEBHOOK_FLAVORS:
            raise InvalidInputError(f"a flavor is one of {WEBHOOK_FLAVORS}, for webhooks only")
        values["flavor"] = flavor
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
    """Add a rule to a channel of the project. Raises NotFoundError, InvalidInputError."""
    get_channel(tx, project_id, channel_id)
    if trigger not in TRIGGERS:
        raise InvalidInputError(f"unknown trigger {trigger!r}; use one of {TRIGGERS}")
    if min_level not in LEVELS:
        raise InvalidInputError(f"unknown level {min_level!r}; use one of {LEVELS}")
    row: Row = {
        "project_id": project_id,
        "channel_id": channel_id,
        "trigger": trigger,
        "min_level": min_level,
        "environment": environment.strip() if environment and environment.strip() else None,
        "created_at": now,
    }
    [rule_id] = tx.insert_ids(notification_rules, [row])
    return _rule(SimpleNamespace(**{**row, "id": rule_id}))


def list_rules(tx: Tx, project_id: int) -> list[Rule]:
    """The project's rules by id. Raises NotFoundError."""
    get_project(tx, project_id)
    query = (
        select(notification_rules)
        .where(notification_rules.c.project_id == project_id)
        .order_by(notification_rules.c.id)
    )
    return [_rule(row) for row in tx.conn.execute(query).all()]


def delete_rule(tx: Tx, project_id: int, rule_id: int) -> None:
    """Delete a rule. Raises NotFoundError."""
    statement = delete(notification_rules).where(
        notification_rules.c.id == rule_id, notification_rules.c.project_id == project_id
    )
    if tx.conn.execute(statement).rowcount == 0:
        raise NotFoundError(f"rule {rule_id} not found in project {project_id}")


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
