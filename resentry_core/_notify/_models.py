"""Stored notification settings and the delivery log: channels, rules, deliveries."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

from resentry_core._models import LEVELS, Event, Issue, Level, Monitor
from resentry_core._notify._webhook import WebhookFlavor

ChannelKind = Literal["telegram", "email", "webhook"]
CHANNEL_KINDS: tuple[ChannelKind, ...] = get_args(ChannelKind)
WEBHOOK_FLAVORS: tuple[WebhookFlavor, ...] = get_args(WebhookFlavor)
Trigger = Literal[
    "new_issue", "regression", "level", "monitor_missed", "monitor_failed", "monitor_timeout"
]
TRIGGERS: tuple[Trigger, ...] = get_args(Trigger)
DeliveryStatus = Literal["pending", "retrying", "delivered", "failed"]
DELIVERY_STATUSES: tuple[DeliveryStatus, ...] = get_args(DeliveryStatus)


def level_rank(level: str) -> int:
    """The severity rank of a level (an unknown level ranks as ``error``)."""
    return LEVELS.index(level) if level in LEVELS else LEVELS.index("error")


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    """A project's notification destination: a Telegram chat, an e-mail list or a webhook.

    ``target`` is the chat id, the comma-separated addresses, or the webhook URL. ``secret``
    signs webhook requests; the API shows it once, when the channel is created.
    """

    id: int
    project_id: int
    name: str
    kind: ChannelKind
    target: str
    flavor: WebhookFlavor | None
    created_at: datetime
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """Tell a channel about ``trigger`` at ``min_level`` or above (in ``environment`` only)."""

    id: int
    project_id: int
    channel_id: int
    trigger: Trigger
    min_level: Level
    environment: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One notification to one destination, and how its delivery went.

    ``destination`` is ``channel:<id>``, ``user:<id>:telegram``, ``user:<id>:email`` or
    ``app:<index>`` (the embedding application's notifiers, in the order given).
    """

    id: int
    project_id: int
    key: str
    destination: str
    channel_id: int | None
    user_id: int | None
    reason: str
    issue_id: int | None
    monitor_id: int | None
    event_id: str | None
    count: int
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryJob:
    """A claimed delivery with everything needed to build and send its message."""

    delivery: Delivery
    project_name: str
    issue: Issue | None
    event: Event | None
    event_payload: bytes | None
    monitor: Monitor | None
    channel: Channel | None
    user_chat_id: str | None
    user_email: str | None
