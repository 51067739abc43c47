"""``/api/v1/projects/{project_id}/``: notification channels, rules, the delivery log, and each
member's own notification settings.

Channels, rules and deliveries are the admins' (webhook targets especially: a webhook could
otherwise be aimed at the server's own network). A member changes their own settings; an
admin may change anyone's. The worker sends what these routes queue (``POST …/test``).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from resentry_core import Notifications
from resentry_core.storage import UNSET
from resentry_server._deps import ResentryDep
from resentry_server._routes._common import PageDep, errors, page_of
from resentry_server._schemas import MAX_ROW_ID, MemberOut, PageOut, RowId
from resentry_server._schemas_notify import (
    ChannelCreate,
    ChannelCreatedOut,
    ChannelOut,
    ChannelUpdate,
    DeliveryOut,
    MemberSettings,
    RuleCreate,
    RuleOut,
    RuleUpdate,
)
from resentry_server._security import AdminProject, CurrentUser, VisibleProject

router = APIRouter(prefix="/api/v1/projects/{project_id}", tags=["notifications"])


async def _notifications(core: ResentryDep) -> Notifications:
    return core.notifications


NotificationsDep = Annotated[Notifications, Depends(_notifications)]


@router.get("/channels/", responses=errors(401, 403, 404))
async def list_channels(
    project: AdminProject, notifications: NotificationsDep, page: PageDep
) -> PageOut[ChannelOut]:
    """The project's channels, by id (admins only); secrets are not shown."""
    channels = page_of(await notifications.list_channels(project.id), page)
    return PageOut.of(channels, ChannelOut.from_core)


@router.post("/channels/", status_code=201, responses=errors(400, 401, 403, 404))
async def create_channel(
    project: AdminProject, body: ChannelCreate, notifications: NotificationsDep
) -> ChannelCreatedOut:
    """Create a channel (admins only). A webhook's ``secret`` is in this answer only; a
    webhook URL on a private, loopback or link-local address answers 422 unless the server
    allows them."""
    channel, secret = await notifications.create_channel(
        project.id, name=body.name, kind=body.kind, target=body.target, flavor=body.flavor
    )
    return ChannelCreatedOut.of(channel, secret)


@router.get("/channels/{channel_id}", responses=errors(401, 403, 404))
async def get_channel(
    project: AdminProject, channel_id: RowId, notifications: NotificationsDep
) -> ChannelOut:
    """One channel (admins only)."""
    return ChannelOut.from_core(await notifications.get_channel(project.id, channel_id))


@router.patch("/channels/{channel_id}", responses=errors(400, 401, 403, 404))
async def update_channel(
    project: AdminProject,
    channel_id: RowId,
    body: ChannelUpdate,
    notifications: NotificationsDep,
) -> ChannelOut:
    """Change a channel's name, target or flavor (admins only); targets are checked as on
    creation."""
    updated = await notifications.update_channel(
        project.id,
        channel_id,
        name=UNSET if body.name is None else body.name,
        target=UNSET if body.target is None else body.target,
        flavor=UNSET if body.flavor is None else body.flavor,
    )
    return ChannelOut.from_core(updated)


@router.delete("/channels/{channel_id}", status_code=204, responses=errors(401, 403, 404))
async def delete_channel(
    project: AdminProject, channel_id: RowId, notifications: NotificationsDep
) -> None:
    """Delete a channel with its rules and its delivery log (admins only)."""
    await notifications.delete_channel(project.id, channel_id)


@router.post("/channels/{channel_id}/test", status_code=202, responses=errors(401, 403, 404))
async def test_channel(
    project: AdminProject, channel_id: RowId, notifications: NotificationsDep
) -> DeliveryOut:
    """Queue a test message to the channel (admins only); the worker sends it, and the
    delivery log shows how it went."""
    return DeliveryOut.from_core(await notifications.test_channel(project.id, channel_id))


@router.get("/rules/", responses=errors(401, 403, 404))
async def list_rules(
    project: AdminProject, notifications: NotificationsDep, page: PageDep
) -> PageOut[RuleOut]:
    """The project's rules, by id (admins only)."""
    return PageOut.of(page_of(await notifications.list_rules(project.id), page), RuleOut.from_core)


@router.post("/rules/", status_code=201, responses=errors(400, 401, 403, 404))
async def create_rule(
    project: AdminProject, body: RuleCreate, notifications: NotificationsDep
) -> RuleOut:
    """Add a rule to a channel of the project (admins only). A channel with no rule gets new
    issues, regressions (``error`` and above) and monitor alerts; once it has rules, only
    what they name."""
    rule = await notifications.create_rule(
        project.id,
        channel_id=body.channel_id,
        trigger=body.trigger,
        min_level=body.min_level,
        environment=body.environment,
    )
    return RuleOut.from_core(rule)


@router.patch("/rules/{rule_id}", responses=errors(400, 401, 403, 404))
async def update_rule(
    project: AdminProject, rule_id: RowId, body: RuleUpdate, notifications: NotificationsDep
) -> RuleOut:
    """Change a rule's channel, trigger, level or environment (admins only; at least one);
    ``environment: null`` clears the filter. Checked as on creation."""
    rule = await notifications.update_rule(project.id, rule_id, **body.changes())
    return RuleOut.from_core(rule)


@router.delete("/rules/{rule_id}", status_code=204, responses=errors(401, 403, 404))
async def delete_rule(
    project: AdminProject, rule_id: RowId, notifications: NotificationsDep
) -> None:
    """Delete a rule (admins only)."""
    await notifications.delete_rule(project.id, rule_id)


@router.get("/deliveries/", responses=errors(401, 403, 404))
async def list_deliveries(
    project: AdminProject,
    notifications: NotificationsDep,
    page: PageDep,
    channel_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> PageOut[DeliveryOut]:
    """The delivery log, newest first (admins only): destination, reason, status
    (``pending``, ``retrying``, ``delivered``, ``failed``), attempts, last error, times."""
    deliveries = await notifications.list_deliveries(
        project.id, channel_id=channel_id, cursor=page.cursor, limit=page.limit
    )
    return PageOut.of(deliveries, DeliveryOut.from_core)


@router.patch("/members/{user_id}", responses=errors(400, 401, 403, 404))
async def update_member(
    project: VisibleProject,
    user_id: RowId,
    body: MemberSettings,
    caller: CurrentUser,
    notifications: NotificationsDep,
) -> MemberOut:
    """Change a member's notification settings: a member their own, an admin anyone's."""
    updated = await notifications.update_member(
        project.id,
        user_id,
        changed_by=caller,
        min_level=UNSET if body.min_level is None else body.min_level,
        notify_new_issues=UNSET if body.notify_new_issues is None else body.notify_new_issues,
        notify_regressions=(UNSET if body.notify_regressions is None else body.notify_regressions),
    )
    return MemberOut.from_core(updated)
