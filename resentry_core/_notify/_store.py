"""What the notification worker and the :class:`Notifications` service need from storage."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from resentry_core._models import Level, Page
from resentry_core._notify._models import (
    Channel,
    ChannelKind,
    Delivery,
    DeliveryJob,
    Rule,
    Trigger,
)
from resentry_core._notify._webhook import WebhookFlavor
from resentry_core._storage._sql_notify_work import MonitorJudge, Outcome, Pending
from resentry_core._storage._values import UNSET, Unset


class NotificationStore(Protocol):
    """Channels, rules, the delivery log and the worker's transactions (``SqlStorage``)."""

    async def create_channel(
        self,
        project_id: int,
        *,
        name: str,
        kind: ChannelKind,
        target: str,
        flavor: WebhookFlavor | None = None,
        secret: str | None = None,
    ) -> Channel:
        """Store a channel as given (``Notifications`` checks it first). Raises NotFoundError
        (no such project)."""
        ...

    async def get_channel(self, project_id: int, channel_id: int) -> Channel:
        """Raises NotFoundError."""
        ...

    async def list_channels(self, project_id: int) -> list[Channel]:
        """The project's channels, by id. Raises NotFoundError."""
        ...

    async def update_channel(
        self,
        project_id: int,
        channel_id: int,
        *,
        name: str | Unset = UNSET,
        target: str | Unset = UNSET,
        flavor: WebhookFlavor | Unset = UNSET,
    ) -> Channel:
        """Store the given fields (:data:`UNSET`: unchanged) as given. Raises NotFoundError."""
        ...

    async def delete_channel(self, project_id: int, channel_id: int) -> None:
        """Delete a channel with its rules and deliveries. Raises NotFoundError."""
        ...

    async def create_rule(
        self,
        project_id: int,
        *,
        channel_id: int,
        trigger: Trigger,
        min_level: Level = "error",
        environment: str | None = None,
    ) -> Rule:
        """Store a rule as given (``Notifications`` checks that the channel is the project's)."""
        ...

    async def get_rule(self, project_id: int, rule_id: int) -> Rule:
        """Raises NotFoundError."""
        ...

    async def list_rules(self, project_id: int) -> list[Rule]:
        """The project's rules, by id. Raises NotFoundError."""
        ...

    async def update_rule(
        self,
        project_id: int,
        rule_id: int,
        *,
        channel_id: int | Unset = UNSET,
        trigger: Trigger | Unset = UNSET,
        min_level: Level | Unset = UNSET,
        environment: str | Unset | None = UNSET,
    ) -> Rule:
        """Store the given fields (:data:`UNSET`: unchanged; ``environment=None``: any) as
        given. Raises NotFoundError."""
        ...

    async def delete_rule(self, project_id: int, rule_id: int) -> None:
        """Raises NotFoundError."""
        ...

    async def list_deliveries(
        self,
        project_id: int,
        *,
        channel_id: int | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[Delivery]:
        """The delivery log, newest first. Raises NotFoundError, InvalidInputError."""
        ...

    async def enqueue_test(self, project_id: int, channel_id: int) -> Delivery:
        """Queue a test message to a channel. Raises NotFoundError."""
        ...

    async def prune_deliveries(self, older_than: datetime) -> int:
        """Delete the finished (``delivered`` or ``failed``) deliveries last updated before
        ``older_than``; return how many. Pending and retrying ones are never deleted."""
        ...

    async def fan_out(
        self, limit: int, *, now: datetime, window: timedelta, app_notifiers: int = 0
    ) -> int:
        """Expand due outbox notices into deliveries; return how many notices."""
        ...

    async def close_windows(self, limit: int, *, now: datetime, window: timedelta) -> int:
        """Queue digests for ended de-duplication windows; return how many."""
        ...

    async def claim_deliveries(
        self, limit: int, *, now: datetime, lease: timedelta, app_notifiers: int = 0
    ) -> list[DeliveryJob]:
        """Lease up to ``limit`` due deliveries."""
        ...

    async def settle_deliveries(self, outcomes: Sequence[Outcome]) -> None:
        """Record how claimed deliveries' attempts ended (delivered, retrying or failed)."""
        ...

    async def release_deliveries(self, delivery_ids: Sequence[int], *, now: datetime) -> None:
        """Give claimed deliveries back unsent."""
        ...

    async def pending_work(
        self, *, now: datetime, judge: MonitorJudge, app_notifiers: int = 0
    ) -> Pending:
        """What the worker has to do at ``now``, read without a write lock."""
        ...

    async def check_monitors(
        self, monitor_ids: Sequence[int], *, now: datetime, judge: MonitorJudge
    ) -> int:
        """Write the notices that these monitors' states call for; return how many."""
        ...
