"""Pydantic models of the notification routes: channels, rules, deliveries, member settings."""

from typing import Annotated, Self, TypedDict, cast

from pydantic import Field, model_validator

from resentry_core import Channel, ChannelKind, DeliveryStatus, Level, Trigger, WebhookFlavor
from resentry_server._schemas import (
    MAX_NAME_CHARS,
    MAX_ROW_ID,
    MAX_TEXT_CHARS,
    FromCore,
    UtcDatetime,
    _In,
    _sent,
)

ChannelName = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]
Target = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]


class ChannelOut(FromCore):
    """A project's notification channel; a webhook's secret is shown only on creation."""

    id: int
    project_id: int
    name: str
    kind: ChannelKind
    target: str
    flavor: WebhookFlavor | None
    created_at: UtcDatetime


class ChannelCreatedOut(ChannelOut):
    """A new channel; ``secret`` (webhooks) signs its requests and is never shown again."""

    secret: str | None

    @classmethod
    def of(cls, channel: Channel, secret: str | None) -> Self:
        """The answer to a channel's creation, with its ``secret``."""
        return cls.model_validate({**ChannelOut.from_core(channel).model_dump(), "secret": secret})


class ChannelCreate(_In):
    """A new channel.

    ``target``: a Telegram chat id (``telegram``), comma-separated e-mail addresses
    (``email``) or an ``http(s)`` URL (``webhook``; public addresses only unless the server
    allows private ones). ``flavor`` (webhooks only): ``resentry``, ``slack`` or ``discord``.
    """

    name: ChannelName
    kind: ChannelKind
    target: Target
    flavor: WebhookFlavor | None = None


class ChannelUpdate(_In):
    """Fields of a channel to change; absent ones stay as they are."""

    name: ChannelName | None = None
    target: Target | None = None
    flavor: WebhookFlavor | None = None


class RuleOut(FromCore):
    """Tell a channel about ``trigger`` at ``min_level`` or above (in ``environment`` only)."""

    id: int
    project_id: int
    channel_id: int
    trigger: Trigger
    min_level: Level
    environment: str | None
    created_at: UtcDatetime


class RuleCreate(_In):
    """A new rule of a channel of the project."""

    channel_id: Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
    trigger: Trigger
    min_level: Level = "error"
    environment: Annotated[str | None, Field(max_length=MAX_NAME_CHARS)] = None


class RuleChanges(TypedDict, total=False):
    """The changes of a :class:`RuleUpdate`, as keyword arguments of ``update_rule``."""

    channel_id: int
    trigger: Trigger
    min_level: Level
    environment: str | None


class RuleUpdate(_In):
    """Fields of a rule to change (at least one); absent ones stay as they are.

    ``null`` clears ``environment`` (any environment); in the other fields it changes nothing.
    """

    channel_id: Annotated[int | None, Field(ge=1, le=MAX_ROW_ID)] = None
    trigger: Trigger | None = None
    min_level: Level | None = None
    environment: Annotated[str | None, Field(max_length=MAX_NAME_CHARS)] = None

    def changes(self) -> RuleChanges:
        """The fields sent."""
        return cast(RuleChanges, _sent(self, nullable={"environment"}))


class DeliveryOut(FromCore):
    """One notification to one destination and how its delivery went."""

    id: int
    project_id: int
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
    created_at: UtcDatetime
    updated_at: UtcDatetime
    next_attempt_at: UtcDatetime
    delivered_at: UtcDatetime | None


class MemberSettings(_In):
    """A member's own notification settings; absent fields stay as they are."""

    min_level: Level | None = None
    notify_new_issues: bool | None = None
    notify_regressions: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError(
                "send at least one of min_level, notify_new_issues, notify_regressions"
            )
        return self
