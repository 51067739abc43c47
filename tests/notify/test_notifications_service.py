"""The Notifications service on SQLite and PostgreSQL: what it checks before storage writes,
and rules changed in place."""

from typing import Any

import pytest

from resentry_core import (
    InvalidInputError,
    NotFoundError,
    Notifications,
    PermissionDeniedError,
    Projects,
    SqlStorage,
)

PUBLIC_HOOK = "https://93.184.216.34/hooks/resentry"  # an address literal: no DNS lookup


@pytest.fixture
def service(sql: SqlStorage) -> Notifications:
    """The service with the address guard on (private webhook targets refused)."""
    return Notifications(sql, allow_private=False)


async def test_channels_are_checked_and_normalized(sql: SqlStorage, service: Notifications) -> None:
    """Names and targets are stripped, e-mail lists normalized, a webhook gets a 64-hex secret
    (the other kinds none) and the default flavor; the stored channel is what was answered."""
    project = await Projects(sql).create_project("Shop")
    mail, mail_secret = await service.create_channel(
        project.id, name=" team ", kind="email", target=" a@example.com , b@example.com, "
    )
    assert (mail.name, mail.target, mail.flavor, mail_secret) == (
        "team",
        "a@example.com,b@example.com",
        None,
        None,
    )
    hook, secret = await service.create_channel(
        project.id, name="ops", kind="webhook", target=f" {PUBLIC_HOOK} "
    )
    assert secret is not None and len(secret) == 64
    assert (hook.target, hook.flavor, hook.secret) == (PUBLIC_HOOK, "resentry", secret)
    assert await service.list_channels(project.id) == [mail, hook]
    renamed = await service.update_channel(project.id, hook.id, name=" alerts ", flavor="slack")
    assert (renamed.name, renamed.flavor, renamed.secret) == ("alerts", "slack", secret)


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"kind": "webhook", "target": "http://127.0.0.1:9/hook"}, "loopback"),
        ({"kind": "webhook", "target": "http://169.254.169.254/"}, "link-local"),
        ({"kind": "webhook", "target": "ftp://93.184.216.34/x"}, "http"),
        ({"kind": "webhook", "target": PUBLIC_HOOK, "flavor": "teams"}, "unknown flavor"),
        ({"kind": "email", "target": "ops@example.com, not-an-address"}, "e-mail address"),
        ({"kind": "email", "target": " , "}, "blank"),
        ({"kind": "telegram", "target": "  "}, "blank"),
        ({"kind": "telegram", "target": "-100123", "flavor": "slack"}, "webhook"),
        ({"kind": "pager", "target": "x"}, "unknown channel kind"),
        ({"kind": "telegram", "target": "-100123", "name": " "}, "name must not be blank"),
    ],
)
async def test_bad_channels_are_refused_and_nothing_is_stored(
    sql: SqlStorage, service: Notifications, fields: dict[str, Any], fragment: str
) -> None:
    """Each bad channel raises InvalidInputError saying what was wrong, and stores nothing."""
    project = await Projects(sql).create_project("Shop")
    with pytest.raises(InvalidInputError, match=fragment):
        await service.create_channel(project.id, **{"name": "x", **fields})
    assert await service.list_channels(project.id) == []


async def test_channel_changes_are_checked_as_on_creation(
    sql: SqlStorage, service: Notifications
) -> None:
    """A private webhook target, a flavor on an e-mail channel or a blank name change nothing;
    another project's channel is not found."""
    project = await Projects(sql).create_project("Shop")
    other = await Projects(sql).create_project("Other")
    hook, _ = await service.create_channel(
        project.id, name="ops", kind="webhook", target=PUBLIC_HOOK
    )
    mail, _ = await service.create_channel(
        project.id, name="team", kind="email", target="a@example.com"
    )
    with pytest.raises(InvalidInputError, match="private"):
        await service.update_channel(project.id, hook.id, target="http://10.0.0.1/")
    with pytest.raises(InvalidInputError, match="for webhooks only"):
        await service.update_channel(project.id, mail.id, flavor="slack")
    with pytest.raises(InvalidInputError, match="blank"):
        await service.update_channel(project.id, mail.id, name="  ")
    with pytest.raises(NotFoundError):
        await service.update_channel(other.id, hook.id, name="stolen")
    assert await service.list_channels(project.id) == [hook, mail]
    allowed = Notifications(sql, allow_private=True)
    moved = await allowed.update_channel(project.id, hook.id, target="http://10.0.0.1/")
    assert moved.target == "http://10.0.0.1/"


async def test_rules_are_created_and_changed_in_place(
    sql: SqlStorage, service: Notifications
) -> None:
    """A rule moves to another channel of its project and changes its trigger, level and
    environment (``None`` clears it, a blank one too); the unchanged fields stay."""
    project = await Projects(sql).create_project("Shop")
    ops, _ = await service.create_channel(project.id, name="ops", kind="telegram", target="-1")
    team, _ = await service.create_channel(
        project.id, name="team", kind="email", target="a@example.com"
    )
    rule = await service.create_rule(
        project.id, channel_id=ops.id, trigger="level", min_level="warning", environment=" prod "
    )
    assert (rule.channel_id, rule.trigger, rule.min_level, rule.environment) == (
        ops.id,
        "level",
        "warning",
        "prod",
    )
    moved = await service.update_rule(project.id, rule.id, channel_id=team.id, trigger="new_issue")
    assert (moved.channel_id, moved.trigger, moved.min_level, moved.environment) == (
        team.id,
        "new_issue",
        "warning",
        "prod",
    )
    cleared = await service.update_rule(project.id, rule.id, environment=None, min_level="fatal")
    assert (cleared.min_level, cleared.environment, cleared.created_at) == (
        "fatal",
        None,
        rule.created_at,
    )
    staged = await service.update_rule(project.id, rule.id, environment="staging")
    assert (await service.update_rule(project.id, rule.id, environment="  ")).environment is None
    assert staged.environment == "staging"
    assert await service.list_rules(project.id) == [await service.get_rule(project.id, rule.id)]


async def test_bad_rule_changes_change_nothing(sql: SqlStorage, service: Notifications) -> None:
    """Another project's channel or rule is not found; an unknown trigger or level and an
    empty change are refused; the rule stays as it was."""
    shop = await Projects(sql).create_project("Shop")
    other = await Projects(sql).create_project("Other")
    ops, _ = await service.create_channel(shop.id, name="ops", kind="telegram", target="-1")
    foreign, _ = await service.create_channel(other.id, name="x", kind="telegram", target="-2")
    rule = await service.create_rule(shop.id, channel_id=ops.id, trigger="regression")
    with pytest.raises(NotFoundError, match=f"channel {foreign.id} not found"):
        await service.update_rule(shop.id, rule.id, channel_id=foreign.id)
    with pytest.raises(NotFoundError, match=f"rule {rule.id} not found"):
        await service.update_rule(other.id, rule.id, trigger="new_issue")
    with pytest.raises(InvalidInputError, match="unknown trigger"):
        await service.update_rule(shop.id, rule.id, trigger="sometimes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="unknown level"):
        await service.update_rule(shop.id, rule.id, min_level="loud")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="at least one"):
        await service.update_rule(shop.id, rule.id)
    with pytest.raises(NotFoundError):
        await service.create_rule(other.id, channel_id=ops.id, trigger="new_issue")
    assert await service.list_rules(shop.id) == [rule]
    assert await service.list_rules(other.id) == []


async def test_members_change_their_settings_through_the_service(
    sql: SqlStorage, service: Notifications
) -> None:
    """Only the fields given change; a member changes their own settings, not another's, an
    admin anyone's; a user who is not a member is not found."""
    project = await Projects(sql).create_project("Shop")
    ann = await sql.create_user("ann", "x")
    bob = await sql.create_user("bob", "x")
    root = await sql.create_user("root", "x", is_admin=True)
    await sql.add_member(project.id, ann.id, min_level="warning")
    await sql.add_member(project.id, bob.id)
    member = await service.update_member(
        project.id, ann.id, changed_by=ann, notify_regressions=False
    )
    assert (member.min_level, member.notify_new_issues, member.notify_regressions) == (
        "warning",
        True,
        False,
    )
    with pytest.raises(PermissionDeniedError):
        await service.update_member(project.id, bob.id, changed_by=ann, min_level="fatal")
    by_admin = await service.update_member(project.id, bob.id, changed_by=root, min_level="info")
    assert by_admin.min_level == "info"
    with pytest.raises(NotFoundError, match="not a member"):
        await service.update_member(project.id, root.id, changed_by=root, min_level="fatal")
    with pytest.raises(InvalidInputError, match="unknown level"):
        await service.update_member(
            project.id,
            ann.id,
            changed_by=ann,
            min_level="loud",  # type: ignore[arg-type]
        )
    members = {m.user_id: m for m in await sql.list_members(project.id)}
    assert (members[ann.id].min_level, members[bob.id].min_level) == ("warning", "info")


async def test_a_storage_without_notifications_refuses_clearly() -> None:
    """With no notification store every method raises InvalidInputError."""
    service = Notifications(None, allow_private=False)
    with pytest.raises(InvalidInputError, match="SQL database"):
        await service.list_rules(1)
