"""Web UI notification pages: channels (webhook secret shown once), rules, the delivery log,
members' own settings, e-mail addresses on the users page; who may do what, CSRF, bad input
answered next to its form (422) without changing anything, links under a mount prefix.

The worker is off here (its own tests and the browser test send for real): queued test
messages stay pending.
"""

import re
from dataclasses import replace
from typing import Any, get_args

import httpx
import pytest

from resentry_core import (
    CHANNEL_KINDS,
    TRIGGERS,
    CoreConfig,
    NotificationReason,
    Project,
    Resentry,
)
from resentry_core._models import User
from resentry_server._ui._notify import KIND_LABELS, REASON_LABELS, TARGET_LABELS, TRIGGER_LABELS
from tests.server.api_helpers import PASSWORD
from tests.server.conftest import ADMIN_PASSWORD
from tests.server.ui.helpers import csrf_of, post_form, sign_in

PUBLIC_HOOK = "https://93.184.216.34/hooks/resentry"  # an address literal: no DNS lookup
SECRET = re.compile(r'id="secret-value"[^>]*value="([0-9a-f]{64})"')


@pytest.fixture
def core_config(core_config: CoreConfig) -> CoreConfig:
    """No worker: nothing is sent from these tests."""
    return replace(core_config, worker=False)


def pages(project: Project) -> str:
    """The project's notification settings page."""
    return f"/projects/{project.id}/settings/notifications/"


def test_every_kind_and_trigger_has_words() -> None:
    """The pages name every channel kind and trigger the core knows, and every reason."""
    assert set(KIND_LABELS) == set(TARGET_LABELS) == set(CHANNEL_KINDS)
    assert set(TRIGGER_LABELS) == set(TRIGGERS)
    assert set(REASON_LABELS) == set(get_args(NotificationReason))


async def add_channel(
    browser: httpx.AsyncClient, project: Project, **fields: str
) -> httpx.Response:
    """Post the new-channel form."""
    page = pages(project)
    return await post_form(browser, page, f"{page}channels", fields)


async def test_webhook_secret_is_shown_once(
    browser: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Creating a webhook channel answers with its secret (not cacheable, never in a URL);
    the channel's page and the list never show it again."""
    created = await add_channel(
        browser, project, kind="webhook", name="ops hook", target=PUBLIC_HOOK, flavor="slack"
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    assert "location" not in created.headers
    match = SECRET.search(created.text)
    assert match is not None, created.text
    secret = match.group(1)
    assert "it will not be shown again" in created.text
    [channel] = await core.notifications.list_channels(project.id)
    assert (channel.name, channel.kind, channel.target, channel.flavor) == (
        "ops hook",
        "webhook",
        PUBLIC_HOOK,
        "slack",
    )
    assert channel.secret == secret
    listed = (await browser.get(pages(project))).text
    shown = (await browser.get(f"{pages(project)}channels/{channel.id}")).text
    for html in (listed, shown):
        assert "ops hook" in html
        assert PUBLIC_HOOK in html
        assert secret not in html
    assert "Signing secret" not in shown


async def test_telegram_and_email_channels_redirect_to_the_list(
    browser: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Channels without a secret go straight back to the list, which shows them."""
    telegram = await add_channel(browser, project, kind="telegram", name="on call", target="-100")
    email = await add_channel(
        browser, project, kind="email", name="team", target="a@example.com, b@example.com"
    )
    for response in (telegram, email):
        assert response.status_code == 303
        assert response.headers["location"] == pages(project)
    html = (await browser.get(pages(project))).text
    assert "on call" in html
    assert "a@example.com,b@example.com" in html
    assert "Signing secret" not in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"kind": "webhook", "target": "http://127.0.0.1:9/hook", "flavor": "resentry"},
            "is a loopback address",
        ),
        ({"kind": "webhook", "target": "ftp://93.184.216.34/", "flavor": "resentry"}, "http"),
        ({"kind": "webhook", "target": PUBLIC_HOOK, "flavor": "teams"}, "unknown flavor"),
        ({"kind": "email", "target": "not an address"}, "is not an e-mail address"),
        ({"kind": "telegram", "target": "   "}, "channel target"),
    ],
)
async def test_bad_channels_are_refused_next_to_their_form(
    browser: httpx.AsyncClient,
    core: Resentry,
    project: Project,
    fields: dict[str, str],
    message: str,
) -> None:
    """A private-address webhook, a bad address or a blank target: the page again, 422, the
    reason next to that form with what was typed kept, and no channel."""
    response = await add_channel(browser, project, name="bad one", **fields)
    assert response.status_code == 422
    error = re.search(rf'id="channel-{fields["kind"]}-error">([^<]*)<', response.text)
    assert error is not None, response.text
    assert message in error.group(1).replace("&#39;", "'")
    assert 'value="bad one"' in response.text
    assert await core.notifications.list_channels(project.id) == []


async def test_edit_test_and_delete_a_channel(
    browser: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Rename and re-target a channel (checked as on creation), queue a test message (the
    delivery log shows it pending), then delete the channel."""
    await add_channel(browser, project, kind="email", name="team", target="a@example.com")
    [channel] = await core.notifications.list_channels(project.id)
    page = f"{pages(project)}channels/{channel.id}"
    saved = await post_form(browser, page, page, {"name": "all", "target": "b@example.com"})
    assert saved.status_code == 303
    bad = await post_form(browser, page, page, {"name": "x", "target": "nope"})
    assert bad.status_code == 422
    assert 'id="channel-error"' in bad.text
    assert "not an e-mail address" in bad.text
    changed = await core.notifications.get_channel(project.id, channel.id)
    assert (changed.name, changed.target) == ("all", "b@example.com")
    tested = await post_form(browser, page, f"{page}/test", {})
    assert tested.status_code == 303
    log_url = f"{pages(project)}deliveries/?channel_id={channel.id}"
    assert tested.headers["location"] == log_url
    log = (await browser.get(log_url)).text
    assert "Test message" in log
    assert "pending" in log
    assert "all (E-mail)" in log
    deleted = await post_form(browser, page, f"{page}/delete", {})
    assert deleted.status_code == 303
    assert await core.notifications.list_channels(project.id) == []
    assert (await browser.get(page)).status_code == 404


async def test_rules_create_edit_delete(
    browser: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Add a rule, change every field of it (a blank environment: any), refuse a bad level
    (422, unchanged), delete it."""
    await add_channel(browser, project, kind="telegram", name="chat", target="-100")
    await add_channel(browser, project, kind="email", name="list", target="a@example.com")
    chat, mailing = await core.notifications.list_channels(project.id)
    page = pages(project)
    fields = {
        "channel_id": str(chat.id),
        "trigger": "level",
        "min_level": "warning",
        "environment": "production",
    }
    assert (await post_form(browser, page, f"{page}rules", fields)).status_code == 303
    [rule] = await core.notifications.list_rules(project.id)
    assert (rule.channel_id, rule.trigger, rule.min_level, rule.environment) == (
        chat.id,
        "level",
        "warning",
        "production",
    )
    listed = (await browser.get(page)).text
    assert "Every event at or above the level" in listed
    assert "production" in listed
    edit = f"{page}rules/{rule.id}"
    form = (await browser.get(edit)).text
    assert 'value="production"' in form
    changed = {
        "channel_id": str(mailing.id),
        "trigger": "regression",
        "min_level": "fatal",
        "environment": "",
    }
    assert (await post_form(browser, edit, edit, changed)).status_code == 303
    rule = await core.notifications.get_rule(project.id, rule.id)
    assert (rule.channel_id, rule.trigger, rule.min_level, rule.environment) == (
        mailing.id,
        "regression",
        "fatal",
        None,
    )
    bad = await post_form(browser, edit, edit, {**changed, "min_level": "loud"})
    assert bad.status_code == 422
    assert "unknown level" in bad.text
    assert 'id="rule-error"' in bad.text
    assert (await core.notifications.get_rule(project.id, rule.id)).min_level == "fatal"
    bad_new = await post_form(browser, page, f"{page}rules", {**fields, "trigger": "sometimes"})
    assert bad_new.status_code == 422
    assert "unknown trigger" in bad_new.text
    assert len(await core.notifications.list_rules(project.id)) == 1
    assert (await post_form(browser, page, f"{edit}/delete", {})).status_code == 303
    assert await core.notifications.list_rules(project.id) == []


async def test_delivery_log_pages_and_filters(
    browser: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Newest first, 50 a page with a link to the next, filtered by channel; a bad filter is
    a 422."""
    await add_channel(browser, project, kind="telegram", name="first", target="-1")
    await add_channel(browser, project, kind="telegram", name="second", target="-2")
    first, second = await core.notifications.list_channels(project.id)
    for _ in range(51):
        await core.notifications.test_channel(project.id, first.id)
    await core.notifications.test_channel(project.id, second.id)
    log = f"{pages(project)}deliveries/"
    html = (await browser.get(log)).text
    assert html.count("<tr>") == 1 + 50
    assert html.index("second (Telegram)") < html.index("first (Telegram)")
    next_link = re.search(r'rel="next" href="([^"]+)"', html)
    assert next_link is not None
    rest = (await browser.get(next_link.group(1).replace("&amp;", "&"))).text
    assert rest.count("<tr>") == 1 + 2
    only = (await browser.get(f"{log}?channel_id={second.id}")).text
    assert only.count("<tr>") == 1 + 1
    assert "first (Telegram)" not in only.split("<tbody>")[1]
    assert (await browser.get(f"{log}?channel_id=abc")).status_code == 422


async def test_members_change_their_own_settings_admins_anyones(
    client: httpx.AsyncClient, core: Resentry, project: Project, admin: User
) -> None:
    """A member edits their own notification settings on the project's Notifications page,
    not another member's (403); an admin edits anyone's on the project settings."""
    jane = await core.accounts.create_user("jane", PASSWORD)
    bob = await core.accounts.create_user("bob", PASSWORD)
    await core.storage.add_member(project.id, jane.id)
    await core.storage.add_member(project.id, bob.id)
    await sign_in(client, "jane", PASSWORD)
    page = f"/projects/{project.id}/notifications/"
    html = (await client.get(page)).text
    assert "Your notifications" in html
    assert "nothing reaches you yet" in html
    own = await post_form(
        client,
        page,
        f"/projects/{project.id}/members/{jane.id}/notifications",
        {"min_level": "warning", "notify_regressions": "true"},
    )
    assert own.status_code == 303
    assert own.headers["location"] == page
    other = await post_form(
        client,
        page,
        f"/projects/{project.id}/members/{bob.id}/notifications",
        {"min_level": "fatal"},
    )
    assert other.status_code == 403
    members = {m.user_id: m for m in await core.storage.list_members(project.id)}
    assert (members[jane.id].min_level, members[jane.id].notify_new_issues) == ("warning", False)
    assert members[jane.id].notify_regressions
    assert (members[bob.id].min_level, members[bob.id].notify_new_issues) == ("error", True)
    client.cookies.clear()
    await sign_in(client, "admin", ADMIN_PASSWORD)
    settings = f"/projects/{project.id}/settings/"
    assert 'id="min-level-' in (await client.get(settings)).text
    by_admin = await post_form(
        client,
        settings,
        f"/projects/{project.id}/members/{bob.id}/notifications",
        {"min_level": "fatal", "notify_new_issues": "true"},
    )
    assert by_admin.status_code == 303
    assert by_admin.headers["location"] == settings
    bob_member = {m.user_id: m for m in await core.storage.list_members(project.id)}[bob.id]
    assert (bob_member.min_level, bob_member.notify_regressions) == ("fatal", False)
    not_member = (await client.get(page)).text
    assert "You are not a member of this project" in not_member


async def test_users_page_sets_email_addresses(browser: httpx.AsyncClient, core: Resentry) -> None:
    """Admins give users an e-mail address (checked; blank clears) at creation and later."""
    page = "/settings/users/"
    created = await post_form(
        browser, page, page, {"username": "jane", "password": PASSWORD, "email": "j@example.com"}
    )
    assert created.status_code == 303
    jane = await core.accounts.user_named("jane")
    assert jane.email == "j@example.com"
    assert 'value="j@example.com"' in (await browser.get(page)).text
    bad = await post_form(browser, page, f"{page}{jane.id}", {"email": "jane at home"})
    assert bad.status_code == 422
    assert (await core.accounts.user_named("jane")).email == "j@example.com"
    await post_form(browser, page, f"{page}{jane.id}", {"email": ""})
    assert (await core.accounts.user_named("jane")).email is None


async def test_members_get_403_and_others_404(
    client: httpx.AsyncClient, core: Resentry, project: Project, admin: User
) -> None:
    """Notification settings are for admins: a member gets 403 on every page and action, a
    user who is not a member 404 (as for the project itself); nothing changes."""
    channel, _ = await core.notifications.create_channel(
        project.id, name="chat", kind="telegram", target="-1"
    )
    rule = await core.notifications.create_rule(
        project.id, channel_id=channel.id, trigger="new_issue"
    )
    base = pages(project)
    reads = [base, f"{base}channels/{channel.id}", f"{base}rules/{rule.id}", f"{base}deliveries/"]
    writes = [
        f"{base}channels",
        f"{base}channels/{channel.id}",
        f"{base}channels/{channel.id}/test",
        f"{base}channels/{channel.id}/delete",
        f"{base}rules",
        f"{base}rules/{rule.id}",
        f"{base}rules/{rule.id}/delete",
    ]
    jane = await core.accounts.create_user("jane", PASSWORD)
    await core.accounts.create_user("max", PASSWORD)
    await core.storage.add_member(project.id, jane.id)
    for username, status in (("jane", 403), ("max", 404)):
        client.cookies.clear()
        await sign_in(client, username, PASSWORD)
        for path in reads:
            assert (await client.get(path)).status_code == status, (username, path)
        token = csrf_of((await client.get("/")).text)
        for path in writes:
            data = {"csrf_token": token, "name": "x", "kind": "telegram", "target": "-5"}
            assert (await client.post(path, data=data)).status_code == status, (username, path)
    assert [c.name for c in await core.notifications.list_channels(project.id)] == ["chat"]
    assert len(await core.notifications.list_rules(project.id)) == 1


async def test_forms_without_the_csrf_token_are_refused(
    browser: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Every notification form checks its CSRF token (403) before doing anything."""
    channel, _ = await core.notifications.create_channel(
        project.id, name="chat", kind="telegram", target="-1"
    )
    base = pages(project)
    for path, data in [
        (f"{base}channels", {"kind": "telegram", "name": "x", "target": "-2"}),
        (f"{base}channels/{channel.id}/test", {}),
        (f"{base}channels/{channel.id}/delete", {}),
        (f"{base}rules", {"channel_id": str(channel.id), "trigger": "new_issue"}),
        (f"/projects/{project.id}/members/1/notifications", {"min_level": "fatal"}),
    ]:
        response = await browser.post(path, data={**data, "csrf_token": "0" * 64})
        assert response.status_code == 403, path
        assert "CSRF" in response.text
    assert [c.name for c in await core.notifications.list_channels(project.id)] == ["chat"]
    assert await core.notifications.list_rules(project.id) == []
    log = await core.notifications.list_deliveries(project.id)
    assert list(log.items) == []


async def test_notification_pages_under_a_mount_prefix(
    core: Resentry, tmp_path: Any, admin: User, project: Project
) -> None:
    """Under a mount prefix every link and form action of these pages carries the prefix,
    and so do their redirects."""
    from fastapi import FastAPI

    from resentry_server._app import create_app
    from tests.server.conftest import settings_for

    channel, _ = await core.notifications.create_channel(
        project.id, name="chat", kind="telegram", target="-1"
    )
    rule = await core.notifications.create_rule(
        project.id, channel_id=channel.id, trigger="new_issue"
    )
    await core.notifications.test_channel(project.id, channel.id)
    resentry = create_app(settings_for(tmp_path), core=core)
    host = FastAPI()
    host.mount("/errors", resentry)
    async with (
        resentry.router.lifespan_context(resentry),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=host), base_url="http://host") as http,
    ):
        await sign_in(http, "admin", ADMIN_PASSWORD, prefix="/errors")
        base = f"/errors/projects/{project.id}"
        for path in (
            f"{base}/settings/notifications/",
            f"{base}/settings/notifications/channels/{channel.id}",
            f"{base}/settings/notifications/rules/{rule.id}",
            f"{base}/settings/notifications/deliveries/",
            f"{base}/notifications/",
            f"{base}/settings/",
        ):
            response = await http.get(path)
            assert response.status_code == 200, path
            links = re.findall(r'(?:href|action)="([^"]+)"', response.text)
            assert links
            assert all(link.startswith("/errors/") for link in links), (path, links)
        page = f"{base}/settings/notifications/"
        tested = await post_form(http, page, f"{page}channels/{channel.id}/test", {})
        assert tested.headers["location"] == f"{page}deliveries/?channel_id={channel.id}"
