"""Web UI data and settings pages: transactions, logs, feedback, crons, releases; users,
project settings, keys and members."""

import re
import uuid

import httpx

from resentry_core._models import Project
from resentry_core._resentry import Resentry
from tests import factories as f
from tests.server.api_helpers import PASSWORD, ingest, send_items
from tests.server.ui.helpers import post_form, sign_in


async def test_transactions_and_waterfall(browser: httpx.AsyncClient, project: Project) -> None:
    """The list shows name, duration and status; the detail draws one bar per span."""
    event_id = uuid.uuid4().hex
    await ingest(
        browser,
        project,
        f.envelope([f.item("transaction", f.transaction_event("/checkout"))], event_id=event_id),
    )
    listing = (await browser.get(f"/projects/{project.id}/transactions/")).text
    assert "/checkout" in listing and "250.0 ms" in listing and "ok" in listing
    detail = (await browser.get(f"/projects/{project.id}/transactions/{event_id}/")).text
    assert detail.count('class="span-bar') == 4  # the transaction and its three spans
    assert "SELECT 1" in detail
    go = await browser.get(f"/projects/{project.id}/events/{event_id}/")
    assert go.headers["location"] == f"/projects/{project.id}/transactions/{event_id}/"


async def test_logs_filter_by_level_and_text(browser: httpx.AsyncClient, project: Project) -> None:
    """Logs filter by level and text."""
    logs = {
        "items": [
            {"timestamp": 1764126000.0, "level": "error", "body": "payment failed"},
            {"timestamp": 1764126001.0, "level": "info", "body": "cache warmed"},
        ]
    }
    await send_items(
        browser,
        project,
        f.item("log", logs, item_count=2, content_type="application/vnd.sentry.items.log+json"),
    )
    base = f"/projects/{project.id}/logs/"
    every = (await browser.get(base)).text
    assert "payment failed" in every and "cache warmed" in every
    errors = (await browser.get(base, params={"level": "error"})).text
    assert "payment failed" in errors and "cache warmed" not in errors
    found = (await browser.get(base, params={"q": "CACHE"})).text
    assert "cache warmed" in found and "payment failed" not in found


async def test_feedback_links_to_its_event(browser: httpx.AsyncClient, project: Project) -> None:
    """Feedback shows its message and links to the event it is about."""
    about = uuid.uuid4().hex
    await ingest(browser, project, f.error_envelope(about))
    feedback = {
        "contexts": {
            "feedback": {
                "message": "The button does nothing",
                "contact_email": "jane@example.com",
                "associated_event_id": about,
            }
        }
    }
    await send_items(browser, project, f.item("feedback", feedback), event_id=uuid.uuid4().hex)
    page = (await browser.get(f"/projects/{project.id}/feedback/")).text
    assert "The button does nothing" in page
    link = f"/projects/{project.id}/events/{about}/"
    assert link in page
    go = await browser.get(link)
    assert go.status_code == 303
    assert f"?event={about}" in go.headers["location"]


async def test_monitors_and_release_health(browser: httpx.AsyncClient, project: Project) -> None:
    """Crons show the state and a strip of check-ins; releases the crash-free rate."""
    for status in ("ok", "error", "ok"):
        check_in = {"check_in_id": uuid.uuid4().hex, "monitor_slug": "nightly", "status": status}
        await send_items(browser, project, f.item("check_in", check_in))
    for status in ("exited", "crashed"):
        session = {
            "sid": uuid.uuid4().hex,
            "init": True,
            "started": "2026-11-26T03:00:00Z",
            "status": status,
            "attrs": {"release": "shop@1.0.0", "environment": "production"},
        }
        await send_items(browser, project, f.item("session", session))
    crons = (await browser.get(f"/projects/{project.id}/monitors/")).text
    assert "nightly" in crons
    assert crons.count('<li class="checkin-') == 3
    releases = (await browser.get(f"/projects/{project.id}/releases/")).text
    assert "shop@1.0.0" in releases and "50.0%" in releases


async def test_users_settings(browser: httpx.AsyncClient, core: Resentry) -> None:
    """Admins create users, set chat ids, reset passwords and deactivate users."""
    page = "/settings/users/"
    response = await post_form(
        browser, page, page, {"username": "jane", "password": PASSWORD, "telegram_chat_id": "42"}
    )
    assert response.status_code == 303
    credentials = await core.storage.get_credentials("jane")
    assert credentials is not None
    jane = credentials[0]
    assert jane.telegram_chat_id == "42"
    action = f"/settings/users/{jane.id}"
    await post_form(browser, page, action, {"telegram_chat_id": "77"})
    await post_form(browser, page, action, {"password": "a new long password"})
    await post_form(browser, page, action, {"is_active": "false"})
    jane = await core.storage.get_user(jane.id)
    assert (jane.telegram_chat_id, jane.is_active) == ("77", False)
    await core.accounts.update_user(jane.id, is_active=True)
    assert await core.accounts.login("jane", "a new long password")
    taken = await post_form(browser, page, page, {"username": "jane", "password": PASSWORD})
    assert taken.status_code == 409
    assert "jane" in taken.text


async def test_project_settings_keys_and_members(
    browser: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Admins change a project's settings, create and revoke keys, add and remove members;
    bad values answer 422 and change nothing."""
    page = f"/projects/{project.id}/settings/"
    html = (await browser.get(page)).text
    assert project.keys[0].public_key in html
    await post_form(
        browser,
        page,
        page,
        {
            "name": "Shop",
            "rate_limit_per_minute": "600",
            "retention_days": "30",
            "allowed_origins": "https://shop.example.com\n",
        },
    )
    changed = await core.storage.get_project(project.id)
    assert (changed.name, changed.rate_limit_per_minute, changed.retention_days) == (
        "Shop",
        600,
        30,
    )
    assert changed.allowed_origins == ("https://shop.example.com",)
    bad = await post_form(browser, page, page, {"retention_days": "soon"})
    assert bad.status_code == 422
    assert "retention" in bad.text
    bad = await post_form(browser, page, page, {"retention_days": "-3"})
    assert bad.status_code == 422
    assert (await core.storage.get_project(project.id)).retention_days == 30
    await post_form(browser, page, page, {"rate_limit_per_minute": ""})
    assert (await core.storage.get_project(project.id)).rate_limit_per_minute is None
    await post_form(browser, page, f"{page}keys", {"label": "browser"})
    keys = await core.storage.list_keys(project.id)
    assert [key.label for key in keys] == ["Default", "browser"]
    await post_form(browser, page, f"{page}keys/{keys[0].id}/revoke", {})
    assert not (await core.storage.list_keys(project.id))[0].is_active
    jane = await core.accounts.create_user("jane", PASSWORD)
    await post_form(browser, page, f"{page}members", {"username": "jane"})
    assert await core.storage.is_member(project.id, jane.id)
    assert "jane" in (await browser.get(page)).text
    await post_form(browser, page, f"{page}members/{jane.id}/remove", {})
    assert not await core.storage.is_member(project.id, jane.id)
    created = await post_form(browser, "/", "/projects/", {"name": "Second"})
    assert re.fullmatch(r"/projects/\d+/settings/", created.headers["location"])


async def test_settings_are_for_admins(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Members see the project but not its settings (403), nor the users page."""
    jane = await core.accounts.create_user("jane", PASSWORD)
    await core.storage.add_member(project.id, jane.id)
    await sign_in(client, "jane", PASSWORD)
    assert (await client.get(f"/projects/{project.id}/")).status_code == 200
    assert (await client.get(f"/projects/{project.id}/settings/")).status_code == 403
    assert (await client.get("/settings/users/")).status_code == 403
    page = (await client.get(f"/projects/{project.id}/")).text
    assert "/settings/" not in page


async def test_settings_of_a_project_hide_it_from_non_members(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """A user who is not a member gets 404 on the project's settings and their forms, as on
    the project's other pages: its existence does not leak, and nothing changes."""
    await core.accounts.create_user("joe", PASSWORD)
    await sign_in(client, "joe", PASSWORD)
    page = f"/projects/{project.id}/settings/"
    assert (await client.get(page)).status_code == 404
    refused = await post_form(client, "/", page, {"name": "Renamed"})
    assert refused.status_code == 404
    assert (await core.storage.get_project(project.id)).name == project.name
