"""The web UI in real headless Chromium (Playwright) against a real server, with events sent
by the real ``sentry-sdk``.

Chromium is Debian's package (``/usr/bin/chromium``; ``.ci/run`` installs it): Playwright's own
browser download is not used.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sentry_sdk
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.server.conftest import LiveServer, sentry_sdk_client

PASSWORD = "browser test password"
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
