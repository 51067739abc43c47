"""The web UI in real headless Chromium (Playwright) against a real server, with events sent
by the real ``sentry-sdk``.

Chromium is Debian's package (``/usr/bin/chromium``; ``.ci/run`` installs it): Playwright's own
browser download is not used.
"""

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sentry_sdk
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.notify.fakes import WebhookReceiver
from tests.server.conftest import LiveServer, StartLiveServer, sentry_sdk_client

PASSWORD = "browser test password"
DELIVERY_WAIT_SECONDS = 60.0  # the worker polls every second; the machine may be busy
HOSTILE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
)


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) that fails the test on any dialog (script ran)."""
    context = chromium.new_context(accept_downloads=True)
    tab = context.new_page()
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", record)
    yield tab
    context.close()
    assert dialogs == [], f"a script ran: {dialogs}"


def _apply_coupon(code: str) -> int:
    discount = int(code)  # the in-app line the issue page must show
    return discount


def _sign_in(page: Page, server: LiveServer) -> None:
    page.goto(server.base_url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()


def test_triage_an_sdk_event(live_server: LiveServer, page: Page, tmp_path: Path) -> None:
    """Sign in, open the project, open the SDK's issue, read the in-app frame and its context
    line, download the attachment, resolve the issue and find it under "resolved"."""
    live_server.create_user("admin", PASSWORD, admin=True)
    _, dsn = live_server.create_project("Shop")
    with sentry_sdk_client(dsn), sentry_sdk.new_scope() as scope:
        scope.add_attachment(bytes=b"coupon log line\n", filename="coupon.log")
        try:
            _apply_coupon("SPRING")
        except ValueError:
            sentry_sdk.capture_exception()
    _sign_in(page, live_server)
    page.get_by_role("link", name="Shop").click()
    issue_link = page.get_by_role("link", name=re.compile("ValueError"))
    expect(issue_link).to_be_visible()
    issue_link.click()
    frame = page.locator(".frame.in-app").first
    expect(frame).to_contain_text("_apply_coupon")
    expect(frame.locator("tr.current")).to_contain_text("discount = int(code)")
    expect(frame.locator(".vars")).to_contain_text("'SPRING'")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="coupon.log").click()
    saved = tmp_path / "coupon.log"
    download_info.value.save_as(saved)
    assert saved.read_bytes() == b"coupon log line\n"
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator(".status")).to_have_text("resolved")
    page.get_by_role("link", name="Issues").click()
    expect(page.get_by_role("link", name=re.compile("ValueError"))).to_have_count(0)
    page.get_by_role("link", name="Resolved", exact=True).click()
    expect(page.get_by_role("link", name=re.compile("ValueError"))).to_be_visible()


def test_hostile_event_runs_no_script(live_server: LiveServer, page: Page, tmp_path: Path) -> None:
    """An event full of markup and a ``javascript:`` URL, with an SVG attachment: its pages
    show the text literally, link nothing dangerous and run no script (no dialog opens)."""
    live_server.create_user("admin", PASSWORD, admin=True)
    _, dsn = live_server.create_project("Hostile")
    title = "<script>alert('title')</script>"
    with sentry_sdk_client(dsn), sentry_sdk.new_scope() as scope:
        scope.add_attachment(bytes=HOSTILE_SVG, filename="x.svg", content_type="image/svg+xml")
        sentry_sdk.capture_event(
            {
                "message": title,
                "level": "error",
                "request": {"url": "javascript:alert('url')", "method": "GET"},
                "user": {"email": "<img src=x onerror=alert('user')>"},
                "tags": {"evil": "<img src=x onerror=alert('tag')>"},
                "extra": {"note": "<script>alert('extra')</script>"},
            }
        )
    _sign_in(page, live_server)
    page.get_by_role("link", name="Hostile").click()
    link = page.get_by_role("link", name=title)
    expect(link).to_be_visible()  # the title, as text
    link.click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_role("cell", name="javascript:alert('url')")).to_be_visible()
    assert page.locator("a[href^='javascript:']").count() == 0
    expect(page.get_by_role("cell", name="<img src=x onerror=alert('user')>")).to_be_visible()
    assert page.locator("img").count() == 0
    with page.expect_download() as download_info:
        page.get_by_role("link", name="x.svg").click()
    saved = tmp_path / "x.svg"
    download_info.value.save_as(saved)
    assert saved.read_bytes() == HOSTILE_SVG
    # Opened directly, the attachment is still a download, never a rendered SVG.
    href = page.get_by_role("link", name="x.svg").get_attribute("href")
    with page.expect_download():
        page.evaluate("url => { window.location.href = url }", href)


def test_webhook_channel_rule_and_test_delivery(
    start_live_server: StartLiveServer, page: Page
) -> None:
    """Add a webhook channel (its secret shown once), a rule, send a test message: the
    server's worker delivers it, signed with that secret, and the delivery log says so."""
    with WebhookReceiver("unknown yet") as receiver:
        server = start_live_server(RESENTRY_WEBHOOK_ALLOW_PRIVATE="true")
        server.create_user("admin", PASSWORD, admin=True)
        server.create_project("Shop")
        _sign_in(page, server)
        page.get_by_role("link", name="Shop").click()
        page.get_by_role("link", name="Settings", exact=True).click()
        page.get_by_role("link", name="Notifications", exact=True).click()
        webhook = page.get_by_role("form", name="Webhook")
        webhook.get_by_label("Name").fill("ops hook")
        webhook.get_by_label("URL").fill(receiver.url + "/hook")
        webhook.get_by_label("Format").select_option("resentry")
        webhook.get_by_role("button", name="Add webhook channel").click()
        expect(page.get_by_text("it will not be shown again")).to_be_visible()
        receiver.secret = page.get_by_role("textbox", name="Secret").input_value()
        assert re.fullmatch(r"[0-9a-f]{64}", receiver.secret)
        page.get_by_role("link", name="Back to notifications").click()
        rule = page.get_by_role("form", name="New rule")
        rule.get_by_label("Channel").select_option(label="ops hook")
        rule.get_by_label("Trigger").select_option(label="New issue")
        rule.get_by_label("Minimum level").select_option("warning")
        rule.get_by_role("button", name="Add rule").click()
        expect(page.get_by_role("cell", name="New issue")).to_be_visible()
        page.get_by_role("button", name="Send test to ops hook").click()
        expect(page.get_by_role("heading", name="Delivery log")).to_be_visible()
        status = page.locator(".deliveries .delivery").first
        deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
        while status.inner_text() != "delivered" and time.monotonic() < deadline:
            time.sleep(0.2)
            page.reload()
        expect(status).to_have_text("delivered")
        expect(page.locator(".deliveries tbody tr")).to_have_count(1)
        expect(page.locator(".deliveries tbody")).to_contain_text("Test message")
        expect(page.locator(".deliveries tbody")).to_contain_text("ops hook (Webhook)")
        assert receiver.verified == [True]
