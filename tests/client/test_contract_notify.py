"""Both clients against the real app: notification channels, rules, the delivery log, members'
own settings and users' notification addresses; who may do what, and the server's errors."""

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI

from resentry_client import (
    Channel,
    CreatedChannel,
    Delivery,
    Member,
    NotFoundError,
    PermissionDeniedError,
    Rule,
    UnprocessableEntityError,
)
from resentry_core import CoreConfig, Project, Resentry
from tests.client.conftest import Api, close, make_client

PUBLIC_HOOK = "https://93.184.216.34/hooks/resentry"  # an address literal: no DNS lookup
PASSWORD = "a member's fine password"


@pytest.fixture
def core_config(core_config: CoreConfig) -> CoreConfig:
    """No worker: queued test messages stay pending, nothing is sent."""
    return replace(core_config, worker=False)


async def _other_user(api: Api, app: FastAPI, name: str) -> AsyncIterator[Api]:
    # A second client of the same kind as ``api``, logged in as a new non-admin user.
    other = Api(make_client("async" if api.is_async else "sync", app))
    await other(lambda c: c.login(name, PASSWORD))
    yield other
    await close(other.client)


@pytest.fixture
async def member_api(
    admin_api: Api, app: FastAPI, project: Project, core: Resentry
) -> AsyncIterator[Api]:
    """A client of the same kind as ``admin_api``, logged in as ``mia``, a member of the
    project (not an admin)."""
    mia = await core.accounts.create_user("mia", PASSWORD)
    await core.storage.add_member(project.id, mia.id)
    async for other in _other_user(admin_api, app, "mia"):
        yield other


@pytest.fixture
async def stranger_api(admin_api: Api, app: FastAPI, core: Resentry) -> AsyncIterator[Api]:
    """A client logged in as ``sam``, a user who is no member of the project."""
    await core.accounts.create_user("sam", PASSWORD)
    async for other in _other_user(admin_api, app, "sam"):
        yield other


async def test_channels_crud_and_the_secret_shown_once(admin_api: Api, project: Project) -> None:
    """A webhook's creation answers its secret; reads and lists never do; updates change only
    what is given; a deleted channel is a 404 with the server's detail."""
    pid = project.id
    hook = await admin_api(
        lambda c: c.channels.create(pid, "ops", "webhook", PUBLIC_HOOK, flavor="slack")
    )
    assert type(hook) is CreatedChannel
    assert hook.secret is not None and len(hook.secret) == 64
    assert (hook.project_id, hook.name, hook.kind, hook.target, hook.flavor) == (
        pid,
        "ops",
        "webhook",
        PUBLIC_HOOK,
        "slack",
    )
    mail = await admin_api(lambda c: c.channels.create(pid, "team", "email", "a@example.com"))
    assert (mail.secret, mail.flavor) == (None, None)

    read = await admin_api(lambda c: c.channels.get(pid, hook.id))
    assert type(read) is Channel
    assert read == Channel(
        id=hook.id,
        project_id=pid,
        name="ops",
        kind="webhook",
        target=PUBLIC_HOOK,
        flavor="slack",
        created_at=hook.created_at,
    )
    listed = await admin_api.collect(lambda c: c.channels.list(pid, limit=1))
    assert [(type(ch), ch.id) for ch in listed] == [(Channel, hook.id), (Channel, mail.id)]

    renamed = await admin_api(lambda c: c.channels.update(pid, hook.id, name="alerts"))
    assert (renamed.name, renamed.target, renamed.flavor) == ("alerts", PUBLIC_HOOK, "slack")
    moved = await admin_api(
        lambda c: c.channels.update(pid, hook.id, target=PUBLIC_HOOK + "/v2", flavor="discord")
    )
    assert (moved.name, moved.target, moved.flavor) == ("alerts", PUBLIC_HOOK + "/v2", "discord")

    assert await admin_api(lambda c: c.channels.delete(pid, hook.id)) is None
    with pytest.raises(NotFoundError) as caught:
        await admin_api(lambda c: c.channels.get(pid, hook.id))
    assert caught.value.detail == f"channel {hook.id} not found in project {pid}"
    for missing in (
        lambda c: c.channels.update(pid, hook.id, name="x"),
        lambda c: c.channels.delete(pid, hook.id),
        lambda c: c.channels.test(pid, hook.id),
    ):
        with pytest.raises(NotFoundError):
            await admin_api(missing)


@pytest.mark.parametrize(
    ("kind", "target", "fragment"),
    [
        ("webhook", "http://10.1.2.3/hook", "private"),
        ("webhook", "ftp://93.184.216.34/x", "http"),
        ("email", "ops@example.com, not-an-address", "e-mail address"),
        ("telegram", "  ", "blank"),
    ],
)
async def test_a_refused_channel_is_a_422_with_the_servers_detail(
    admin_api: Api, project: Project, kind: Any, target: str, fragment: str
) -> None:
    """A target the server refuses raises ``UnprocessableEntityError`` carrying its message,
    and no channel is created."""
    with pytest.raises(UnprocessableEntityError) as caught:
        await admin_api(lambda c: c.channels.create(project.id, "x", kind, target))
    assert caught.value.status_code == 422
    assert fragment in str(caught.value.detail)
    assert fragment in str(caught.value)
    assert await admin_api.collect(lambda c: c.channels.list(project.id)) == []


async def test_a_refused_channel_update_changes_nothing(admin_api: Api, project: Project) -> None:
    """An update to a private webhook address is a 422, and the channel keeps its target."""
    pid = project.id
    hook = await admin_api(lambda c: c.channels.create(pid, "ops", "webhook", PUBLIC_HOOK))
    with pytest.raises(UnprocessableEntityError, match="loopback"):
        await admin_api(lambda c: c.channels.update(pid, hook.id, target="http://127.0.0.1/x"))
    assert (await admin_api(lambda c: c.channels.get(pid, hook.id))).target == PUBLIC_HOOK


async def test_rules(admin_api: Api, project: Project, core: Resentry) -> None:
    """Rules are created (``min_level`` ``error`` unless given), listed and deleted; a channel
    of another project is a 404, an unknown trigger a 422 naming the field."""
    pid = project.id
    channel = await admin_api(lambda c: c.channels.create(pid, "team", "email", "a@example.com"))
    rule = await admin_api(lambda c: c.rules.create(pid, channel.id, "new_issue"))
    assert isinstance(rule, Rule)
    assert (rule.project_id, rule.channel_id, rule.trigger, rule.min_level, rule.environment) == (
        pid,
        channel.id,
        "new_issue",
        "error",
        None,
    )
    scoped = await admin_api(
        lambda c: c.rules.create(
            pid, channel.id, "level", min_level="warning", environment="production"
        )
    )
    assert (scoped.min_level, scoped.environment) == ("warning", "production")
    listed = await admin_api.collect(lambda c: c.rules.list(pid, limit=1))
    assert [r.id for r in listed] == [rule.id, scoped.id]

    with pytest.raises(UnprocessableEntityError) as bad:
        await admin_api(lambda c: c.rules.create(pid, channel.id, "sometimes"))
    assert [e["loc"] for e in bad.value.errors] == [["body", "trigger"]]
    elsewhere = await core.projects.create_project("Other")
    with pytest.raises(NotFoundError, match=f"channel {channel.id} not found"):
        await admin_api(lambda c: c.rules.create(elsewhere.id, channel.id, "new_issue"))

    assert await admin_api(lambda c: c.rules.delete(pid, rule.id)) is None
    assert [r.id for r in await admin_api.collect(lambda c: c.rules.list(pid))] == [scoped.id]
    with pytest.raises(NotFoundError, match=f"rule {rule.id} not found"):
        await admin_api(lambda c: c.rules.delete(pid, rule.id))


async def test_rule_update(
    admin_api: Api, member_api: Api, project: Project, core: Resentry
) -> None:
    """``rules.update`` changes only the given fields, ``environment=None`` clears the filter;
    an unknown trigger is a 422, a missing rule or a channel of another project a 404, a
    member a 403."""
    pid = project.id
    channel = await admin_api(lambda c: c.channels.create(pid, "team", "email", "a@example.com"))
    other = await admin_api(lambda c: c.channels.create(pid, "ops", "telegram", "-100123"))
    scoped = await admin_api(
        lambda c: c.rules.create(
            pid, channel.id, "level", min_level="warning", environment="production"
        )
    )
    changed = await admin_api(
        lambda c: c.rules.update(pid, scoped.id, channel_id=other.id, min_level="fatal")
    )
    assert (changed.channel_id, changed.trigger, changed.min_level, changed.environment) == (
        other.id,
        "level",
        "fatal",
        "production",
    )
    cleared = await admin_api(lambda c: c.rules.update(pid, scoped.id, environment=None))
    assert (cleared.environment, cleared.min_level) == (None, "fatal")
    with pytest.raises(UnprocessableEntityError) as bad_update:
        await admin_api(lambda c: c.rules.update(pid, scoped.id, trigger="sometimes"))
    assert "trigger" in str(bad_update.value)
    assert await admin_api.collect(lambda c: c.rules.list(pid)) == [cleared]

    with pytest.raises(NotFoundError):
        await admin_api(lambda c: c.rules.update(pid, scoped.id + 1, min_level="info"))
    elsewhere = await core.projects.create_project("Other")
    foreign = await admin_api(
        lambda c: c.channels.create(elsewhere.id, "theirs", "email", "b@example.com")
    )
    with pytest.raises(NotFoundError, match=f"channel {foreign.id} not found"):
        await admin_api(lambda c: c.rules.update(pid, scoped.id, channel_id=foreign.id))
    assert await admin_api.collect(lambda c: c.rules.list(pid)) == [cleared]
    with pytest.raises(PermissionDeniedError):
        await member_api(lambda c: c.rules.update(pid, scoped.id, min_level="info"))


async def test_test_messages_and_the_delivery_log(admin_api: Api, project: Project) -> None:
    """``channels.test`` queues a pending ``test`` delivery; the log lists deliveries newest
    first, lazily across pages, and filters by channel."""
    pid = project.id
    team = await admin_api(lambda c: c.channels.create(pid, "team", "email", "a@example.com"))
    ops = await admin_api(lambda c: c.channels.create(pid, "ops", "telegram", "-100123"))
    queued = [await admin_api(lambda c: c.channels.test(pid, team.id)) for _ in range(3)]
    queued.append(await admin_api(lambda c: c.channels.test(pid, ops.id)))
    first = queued[0]
    assert isinstance(first, Delivery)
    assert (first.reason, first.status, first.channel_id, first.attempts) == (
        "test",
        "pending",
        team.id,
        0,
    )
    assert first.destination == f"channel:{team.id}"
    assert first.delivered_at is None and first.created_at.tzinfo is not None

    newest_first = [d.id for d in reversed(queued)]

    pages = await admin_api.collect(lambda c: c.deliveries.list(pid, limit=1).pages())
    assert [[d.id for d in page.items] for page in pages] == [[i] for i in newest_first]
    team_only = await admin_api.collect(lambda c: c.deliveries.list(pid, channel_id=team.id))
    assert [d.id for d in team_only] == newest_first[1:]
    capped = await admin_api.collect(lambda c: c.deliveries.list(pid, limit=1, max_items=2))
    assert [d.id for d in capped] == newest_first[:2]
    with pytest.raises(UnprocessableEntityError):
        await admin_api.collect(lambda c: c.deliveries.list(pid, channel_id=0))


async def test_only_admins_manage_notifications(
    member_api: Api, stranger_api: Api, project: Project
) -> None:
    """A member gets ``PermissionDeniedError`` (403) from every notification route; a user who
    is no member gets ``NotFoundError`` (404), as for the project itself."""
    pid = project.id
    listings = (
        lambda c: c.channels.list(pid),
        lambda c: c.rules.list(pid),
        lambda c: c.deliveries.list(pid),
    )
    changes = (
        lambda c: c.channels.create(pid, "x", "webhook", PUBLIC_HOOK),
        lambda c: c.channels.get(pid, 1),
        lambda c: c.channels.update(pid, 1, name="x"),
        lambda c: c.channels.delete(pid, 1),
        lambda c: c.channels.test(pid, 1),
        lambda c: c.rules.create(pid, 1, "new_issue"),
        lambda c: c.rules.delete(pid, 1),
    )
    for caller, error, status in (
        (member_api, PermissionDeniedError, 403),
        (stranger_api, NotFoundError, 404),
    ):
        for listing in listings:
            with pytest.raises(error) as caught:
                await caller.collect(listing)
            assert caught.value.status_code == status
        for change in changes:
            with pytest.raises(error):
                await caller(change)


async def test_members_change_their_own_settings(
    admin_api: Api, member_api: Api, project: Project, core: Resentry
) -> None:
    """``members.update`` changes the given settings: a member their own (another's is a
    403), an admin anyone's; a user who is no member is a 404; nothing to change is a 422."""
    pid = project.id
    mia = await member_api(lambda c: c.me())
    joe = await core.accounts.create_user("joe", PASSWORD)
    await core.storage.add_member(pid, joe.id)
    own = await member_api(
        lambda c: c.members.update(pid, mia.id, min_level="warning", notify_regressions=False)
    )
    assert own == Member(
        project_id=pid,
        user_id=mia.id,
        username="mia",
        min_level="warning",
        notify_new_issues=True,
        notify_regressions=False,
    )
    with pytest.raises(PermissionDeniedError, match="another member"):
        await member_api(lambda c: c.members.update(pid, joe.id, min_level="debug"))
    by_admin = await admin_api(lambda c: c.members.update(pid, joe.id, notify_new_issues=False))
    assert (by_admin.notify_new_issues, by_admin.min_level) == (False, "error")
    outsider = await core.accounts.create_user("sam", PASSWORD)
    with pytest.raises(NotFoundError, match=f"user {outsider.id} is not a member"):
        await admin_api(lambda c: c.members.update(pid, outsider.id, min_level="fatal"))
    with pytest.raises(UnprocessableEntityError, match="send at least one of"):
        await member_api(lambda c: c.members.update(pid, mia.id))
    settings = {m.user_id: m for m in await admin_api.collect(lambda c: c.members.list(pid))}
    assert (settings[mia.id].min_level, settings[joe.id].min_level) == ("warning", "error")


async def test_users_notification_addresses(admin_api: Api) -> None:
    """``email`` and ``telegram_chat_id`` are set on creation, changed, and cleared with
    ``None``; a malformed address is a 422 and changes nothing."""
    eve = await admin_api(
        lambda c: c.users.create("eve", PASSWORD, email="eve@example.com", telegram_chat_id="4242")
    )
    assert (eve.email, eve.telegram_chat_id) == ("eve@example.com", "4242")
    moved = await admin_api(lambda c: c.users.update(eve.id, email="eve@example.org"))
    assert (moved.email, moved.telegram_chat_id) == ("eve@example.org", "4242")
    with pytest.raises(UnprocessableEntityError) as caught:
        await admin_api(lambda c: c.users.update(eve.id, email="eve at example"))
    assert caught.value.detail == "'eve at example' is not an e-mail address"
    assert (await admin_api(lambda c: c.users.get(eve.id))).email == "eve@example.org"
    cleared = await admin_api(lambda c: c.users.update(eve.id, email=None, telegram_chat_id=None))
    assert (cleared.email, cleared.telegram_chat_id) == (None, None)
    with pytest.raises(UnprocessableEntityError):
        await admin_api(lambda c: c.users.create("ann", PASSWORD, email="nope"))
    assert [u.username for u in await admin_api.collect(lambda c: c.users.list())] == [
        "admin",
        "eve",
    ]
