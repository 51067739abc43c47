"""``/api/v1/projects/{project_id}/``: notification channels, rules, the delivery log, and each
member's own notification settings.

Channels, rules and deliveries are the admins' (webhook targets especially: a webhook could
otherwise be aimed at the server's own network). A member changes their own settings; an
admin may change anyone's. The worker sends what these routes queue (``POST …/test``).
"""

from functools import partial
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query

from resentry_core import (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    SqlStorage,
    check_webhook_url,
)
from resentry_core.storage import UNSET, NotificationStore, Unset
from resentry_server._deps import ResentryDep, SettingsDep
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
)
from resentry_server._security import AdminProject, CurrentUser, VisibleProject

router = APIRouter(prefix="/api/v1/projects/{project_id}", tags=["notifications"])


async def _store(core: ResentryDep) -> NotificationStore:
    if not isinstance(core.storage, SqlStorage):
        raise InvalidInputError("notifications need a SQL database (SQLite or PostgreSQL)")
    return core.storage


StoreDep = Annotated[NotificationStore, Depends(_store)]


async def _checked_target(kind: str, target: str, allow_private: bool) -> str:
    if kind != "webhook":
        return target
    check = partial(check_webhook_url, target.strip(), allow_private=allow_private)
    return await anyio.to_thread.run_sync(check)


@router.get("/channels/", responses=errors(401, 403, 404))
async def list_channels(
    project: AdminProject, store: StoreDep, page: PageDep
) -> PageOut[ChannelOut]:
    """The project's channels, by id (admins only); secrets are not shown."""
    channels = page_of(await store.list_channels(project.id), page)
    return PageOut.of(channels, ChannelOut.from_core)


@router.post("/channels/", status_code=201, responses=errors(400, 401, 403, 404))
async def create_channel(
    project: AdminProject, body: ChannelCreate, store: StoreDep, settings: SettingsDep
) -> ChannelCreatedOut:
    """Create a channel (admins only). A webhook's ``secret`` is in this answer only; a
    webhook URL on a private, loopback or link-local address answers 422 unless the server
    allows them."""
    target = await _checked_target(body.kind, body.target, settings.webhook_allow_private)
    channel = await store.create_channel(
        project.id, name=body.name, kind=body.kind, target=target, flavor=body.flavor
    )
    return ChannelCreatedOut.of(channel)


@router.get("/channels/{channel_id}", responses=errors(401, 403, 404))
async def get_channel(project: AdminProject, channel_id: RowId, store: StoreDep) -> ChannelOut:
    """One channel (admins only)."""
    return ChannelOut.from_core(await store.get_channel(project.id, channel_id))


@router.patch("/channels/{channel_id}", responses=errors(400, 401, 403, 404))
async def update_channel(
    project: AdminProject,
    channel_id: RowId,
    body: ChannelUpdate,
    store: StoreDep,
    settings: SettingsDep,
) -> ChannelOut:
    """Change a channel's name, target or flavor (admins only); targets are checked as on
    creation."""
    channel = await store.get_channel(project.id, channel_id)
    target: str | Unset = UNSET
    if body.target is not None:
        target = await _checked_target(channel.kind, body.target, settings.webhook_allow_private)
    updated = await store.update_channel(
        project.id,
        channel_id,
        name=UNSET if body.name is None else body.name,
        target=target,
        flavor=UNSET if body.flavor is None else body.flavor,
    )
    return ChannelOut.from_core(updated)


@router.delete("/channels/{channel_id}", status_code=204, responses=errors(401, 403, 404))
async def delete_channel(project: AdminProject, channel_id: RowId, store: StoreDep) -> None:
    """Delete a channel with its rules and its delivery log (admins only)."""
    await store.delete_channel(project.id, channel_id)


@router.post("/channels/{channel_id}/test", status_code=202, responses=errors(401, 403, 404))
async def test_channel(project: AdminProject, channel_id: RowId, store: StoreDep) -> DeliveryOut:
    """Queue a test message to the channel (admins only); the worker sends it, and the
    delivery log shows how it went."""
    return DeliveryOut.from_core(await store.enqueue_test(project.id, channel_id))


@router.get("/rules/", responses=errors(401, 403, 404))
async def list_rules(project: AdminProject, store: StoreDep, page: PageDep) -> PageOut[RuleOut]:
    """The project's rules, by id (admins only)."""
    return PageOut.of(page_of(await store.list_rules(project.id), page), RuleOut.from_core)


@router.post("/rules/", status_code=201, responses=errors(400, 401, 403, 404))
async def create_rule(project: AdminProject, body: RuleCreate, store: StoreDep) -> RuleOut:
    """Add a rule to a channel of the project (admins only). A channel with no rule gets new
    issues, regressions (``error`` and above) and monitor alerts; once it has rules, only
    what they name."""
    rule = await store.create_rule(
        project.id,
        channel_id=body.channel_id,
        trigger=body.trigger,
        min_level=body.min_level,
        environment=body.environment,
    )
    return RuleOut.from_core(rule)


@router.delete("/rules/{rule_id}", status_code=204, responses=errors(401, 403, 404))
async def delete_rule(project: AdminProject, rule_id: RowId, store: StoreDep) -> None:
    """Delete a rule (admins only)."""
    await store.delete_rule(project.id, rule_id)


@router.get("/deliveries/", responses=errors(401, 403, 404))
async def list_deliveries(
    project: AdminProject,
    store: StoreDep,
    page: PageDep,
    channel_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> PageOut[DeliveryOut]:
    """The delivery log, newest first (admins only): destination, reason, status
    (``pending``, ``retrying``, ``delivered``, ``failed``), attempts, last error, times."""
    deliveries = await store.list_deliveries(
        project.id, channel_id=channel_id, cursor=page.cursor, limit=page.limit
    )
    return PageOut.of(deliveries, DeliveryOut.from_core)


@router.patch("/members/{user_id}", responses=errors(400, 401, 403, 404))
async def update_member(
    project: VisibleProject,
    user_id: RowId,
    body: MemberSettings,
    caller: CurrentUser,
    core: ResentryDep,
) -> MemberOut:
    """Change a member's notification settings: a member their own, an admin anyone's."""
    if user_id != caller.id and not caller.is_admin:
        raise PermissionDeniedError("only an admin may change another member's settings")
    members = {member.user_id: member for member in await core.storage.list_members(project.id)}
    member = members.get(user_id)
    if member is None:
        raise NotFoundError(f"user {user_id} is not a member of project {project.id}")
    updated = await core.storage.add_member(
        project.id,
        user_id,
        min_level=body.min_level or member.min_level,
        notify_new_issues=(
            member.notify_new_issues if body.notify_new_issues is None else body.notify_new_issues
        ),
        notify_regressions=(
            member.notify_regressions
            if body.notify_regressions is None
            else body.notify_regressions
        ),
    )
    return MemberOut.from_core(updated)
