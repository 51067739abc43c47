"""Screenshots of every web UI page, from a demo data set sent by the real ``sentry-sdk``.

``take_screenshots(server, out_dir)`` fills a running server with demo data and writes one
PNG per page (light theme, desktop width), plus dark-theme and phone-width shots of the main
pages. ``tests/server/ui/test_screenshots.py`` runs it in CI; to refresh the documentation's
images run ``uv run python -m tests.server.ui.screenshots docs/img``.
"""

import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
import sentry_sdk
from playwright.sync_api import Browser, Page, ViewportSize

from resentry_core import Dsn
from tests import factories as f
from tests.notify.fakes import WebhookReceiver
from tests.server.conftest import LiveServer, live_server_process, sentry_sdk_client
from tests.server.ui.helpers import launch_chromium

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
DEMO_PASSWORD = "demo password for screenshots"
DELIVERY_WAIT_SECONDS = 60.0  # the worker polls every second; the machine may be busy


@contextmanager
def demo_server(data_dir: Path) -> Iterator[LiveServer]:
    """A live server with a demo admin, two projects, the demo data and notification channels
    (a webhook to a receiver on 127.0.0.1, which private addresses are allowed for)."""
    with (
        WebhookReceiver("any") as receiver,
        live_server_process(data_dir, RESENTRY_WEBHOOK_ALLOW_PRIVATE="true") as server,
    ):
        server.create_user("admin", DEMO_PASSWORD, admin=True)
        project_id, dsn = server.create_project("Shop backend")
        server.create_project("Mobile app")
        send_demo_data(dsn)
        add_demo_notifications(server, project_id, receiver.url + "/hooks/resentry")
        yield server


def add_demo_notifications(server: LiveServer, project_id: int, hook_url: str) -> None:
    """A webhook, a Telegram and an e-mail channel with rules, two members, and a test message
    to each channel; returns once the worker has tried them all (the server has neither a bot
    token nor SMTP, so those two fail: the delivery log shows why)."""
    api = f"{server.base_url}/api/v1/projects/{project_id}"
    headers = server.login("admin", DEMO_PASSWORD)
    channels = [
        {"name": "Ops webhook", "kind": "webhook", "target": hook_url, "flavor": "slack"},
        {"name": "On-call chat", "kind": "telegram", "target": "-1001234567890"},
        {"name": "Backend team", "kind": "email", "target": "backend@example.com"},
    ]
    ids = [_post(f"{api}/channels/", headers, body)["id"] for body in channels]
    rules = [
        {"channel_id": ids[0], "trigger": "new_issue", "min_level": "error"},
        {"channel_id": ids[0], "trigger": "regression", "min_level": "error"},
        {
            "channel_id": ids[1],
            "trigger": "level",
            "min_level": "fatal",
            "environment": "production",
        },
        {"channel_id": ids[2], "trigger": "monitor_missed", "min_level": "error"},
    ]
    for body in rules:
        _post(f"{api}/rules/", headers, body)
    users = f"{server.base_url}/api/v1/users/"
    _post(
        users, headers, {"username": "jane", "password": DEMO_PASSWORD, "email": "jane@example.com"}
    )
    [admin] = [
        user
        for user in httpx.get(users, headers=headers, timeout=30).json()["items"]
        if user["username"] == "admin"
    ]
    httpx.patch(
        f"{users}{admin['id']}", json={"email": "admin@example.com"}, headers=headers, timeout=30
    ).raise_for_status()
    _post(f"{api}/members/", headers, {"username": "jane", "min_level": "warning"})
    _post(f"{api}/members/", headers, {"username": "admin", "notify_regressions": False})
    for channel_id in ids:
        _post(f"{api}/channels/{channel_id}/test", headers, {})
    deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
    while time.monotonic() < deadline:
        log = httpx.get(f"{api}/deliveries/", headers=headers, timeout=30).json()["items"]
        if all(item["status"] in ("delivered", "failed") for item in log):
            return
        time.sleep(0.2)
    raise AssertionError(f"the worker did not deliver the test messages: {log}")


def _post(url: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(url, json=body, headers=headers, timeout=30)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def _checkout(cart: dict[str, int], coupon: str) -> int:
    total = sum(cart.values())
    discount = int(coupon.removeprefix("SAVE"))  # ValueError for a bad coupon
    return total - discount


def _load_profile(user_id: int) -> dict[str, str]:
    profiles: dict[int, dict[str, str]] = {}
    return profiles[user_id]  # KeyError: the profile is missing


def send_demo_data(dsn: str) -> None:
    """Errors, a message, transactions (with sentry-sdk), then logs, check-ins, sessions and
    feedback (as envelopes the SDKs send)."""
    options: dict[str, Any] = {"release": "shop@2.4.1", "environment": "production"}
    with sentry_sdk_client(dsn, traces_sample_rate=1.0, server_name="web-1", **options):
        sentry_sdk.set_user({"id": "42", "email": "jane@example.com"})
        sentry_sdk.set_tag("region", "eu-west")
        for step in range(6):
            sentry_sdk.add_breadcrumb(category="http", message=f"GET /cart/{step}", level="info")
        for coupon in ("SAVEten", "SAVEfive", "SPRING"):
            try:
                _checkout({"book": 12, "pen": 3}, coupon)
            except ValueError:
                sentry_sdk.capture_exception()
        for user_id in (7, 8):
            try:
                _load_profile(user_id)
            except KeyError:
                sentry_sdk.capture_exception()
        sentry_sdk.capture_message("Payment provider answered slowly", level="warning")
        for name in ("POST /checkout", "GET /products"):
            with sentry_sdk.start_transaction(name=name, op="http.server"):
                with sentry_sdk.start_span(op="db.query", name="SELECT * FROM cart"):
                    pass
                with (
                    sentry_sdk.start_span(op="http.client", name="POST payments.example.com"),
                    sentry_sdk.start_span(op="serialize", name="encode body"),
                ):
                    pass
    parsed = Dsn.parse(dsn)
    about = uuid.uuid4().hex
    now = datetime.now(UTC)
    items = [
        f.item("event", f.error_event(exc_type="TimeoutError", value="upstream timed out")),
        f.item(
            "log",
            {
                "items": [
                    {"timestamp": now.timestamp() - n, "level": level, "body": body}
                    for n, (level, body) in enumerate(
                        [
                            ("info", "order 1042 paid"),
                            ("warning", "retrying payment for order 1043"),
                            ("error", "payment for order 1043 failed"),
                            ("debug", "cache refreshed in 12 ms"),
                        ]
                    )
                ]
            },
            item_count=4,
            content_type="application/vnd.sentry.items.log+json",
        ),
    ]
    envelopes = [f.envelope(items, event_id=about)]
    for status in ["ok"] * 8 + ["error", "ok", "missed", "ok"]:
        check_in = {
            "check_in_id": uuid.uuid4().hex,
            "monitor_slug": "nightly-report",
            "status": status,
            "duration": 12.5,
        }
        envelopes.append(f.envelope([f.item("check_in", check_in)]))
    for n, status in enumerate(["exited"] * 9 + ["crashed"]):
        session = {
            "sid": uuid.uuid4().hex,
            "init": True,
            "started": (now - timedelta(minutes=n)).isoformat(),
            "status": status,
            "attrs": {
                "release": "shop@2.4.1" if n % 2 else "shop@2.4.0",
                "environment": "production",
            },
        }
        envelopes.append(f.envelope([f.item("session", session)]))
    feedback = {
        "contexts": {
            "feedback": {
                "message": "The checkout button does nothing after I enter a coupon.",
                "contact_email": "sam@example.com",
                "name": "Sam",
                "url": "https://shop.example.com/checkout",
                "associated_event_id": about,
            }
        }
    }
    envelopes.append(f.envelope([f.item("feedback", feedback)], event_id=uuid.uuid4().hex))
    auth = {"X-Sentry-Auth": f"Sentry sentry_key={parsed.public_key}, sentry_version=7"}
    for body in envelopes:
        httpx.post(parsed.envelope_url(), content=body, headers=auth, timeout=30).raise_for_status()


def _sign_in(page: Page, server: LiveServer) -> None:
    page.goto(server.base_url + "/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.base_url + "/")


def _pages(server: LiveServer, page: Page) -> dict[str, str]:
    """Every page's URL, found by following links as a person would."""
    base = server.base_url
    urls = {"login": base + "/login", "projects": base + "/"}
    page.goto(base + "/")
    page.get_by_role("link", name="Shop backend").click()
    project = page.url
    urls["issues"] = project
    page.get_by_role("link", name="ValueError").first.click()
    urls["issue"] = page.url
    for name, label in (
        ("transactions", "Transactions"),
        ("logs", "Logs"),
        ("feedback", "Feedback"),
        ("monitors", "Crons"),
        ("releases", "Releases"),
        ("project-settings", "Settings"),
    ):
        page.goto(project)
        page.get_by_role("link", name=label, exact=True).click()
        urls[name] = page.url
    page.goto(urls["transactions"])
    page.get_by_role("link", name="POST /checkout").click()
    urls["transaction"] = page.url
    page.goto(urls["project-settings"])
    page.get_by_role("link", name="Notifications", exact=True).click()
    urls["notifications"] = page.url
    page.get_by_role("link", name="Ops webhook").click()
    urls["channel"] = page.url
    page.goto(urls["notifications"])
    page.get_by_role("link", name="Delivery log").click()
    urls["deliveries"] = page.url
    page.goto(project)
    page.get_by_role("link", name="My notifications").click()
    urls["my-notifications"] = page.url
    urls["users"] = base + "/settings/users/"
    return urls


def _shoot(
    browser: Browser,
    server: LiveServer,
    urls: dict[str, str],
    out_dir: Path,
    *,
    scheme: Literal["light", "dark"],
    viewport: ViewportSize,
    suffix: str,
    only: set[str] | None,
) -> list[Path]:
    context = browser.new_context(color_scheme=scheme, viewport=viewport)
    page = context.new_page()
    written: list[Path] = []
    try:
        for name, url in urls.items():
            if only is not None and name not in only:
                continue
            if name == "login":
                page.goto(url)
            else:
                if not written or page.url.endswith("/login"):
                    _sign_in(page, server)
                page.goto(url)
            path = out_dir / f"{name}{suffix}.png"
            page.screenshot(path=path, full_page=name != "issue")
            written.append(path)
    finally:
        context.close()
    return written


def take_screenshots(server: LiveServer, browser: Browser, out_dir: Path) -> list[Path]:
    """Write a PNG of every page (light, desktop) and of the main pages in dark and on a
    phone; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _sign_in(page, server)
    urls = _pages(server, page)
    context.close()
    main = {"projects", "issues", "issue", "notifications", "deliveries"}
    return [
        *_shoot(
            browser, server, urls, out_dir, scheme="light", viewport=DESKTOP, suffix="", only=None
        ),
        *_shoot(
            browser,
            server,
            urls,
            out_dir,
            scheme="dark",
            viewport=DESKTOP,
            suffix="-dark",
            only=main,
        ),
        *_shoot(
            browser,
            server,
            urls,
            out_dir,
            scheme="light",
            viewport=PHONE,
            suffix="-phone",
            only=main,
        ),
    ]


def main(out_dir: str) -> None:
    """Start a demo server, take every screenshot into ``out_dir``."""
    with tempfile.TemporaryDirectory() as data, demo_server(Path(data)) as server:
        for browser in launch_chromium():
            for path in take_screenshots(server, browser, Path(out_dir)):
                print(path)  # noqa: T201


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/img")
