"""The screenshot script runs in CI: every page renders from the demo data and is captured."""

import struct
from pathlib import Path

from playwright.sync_api import Browser

from tests.server.ui.screenshots import demo_server, take_screenshots

PAGES = {
    "login",
    "projects",
    "issues",
    "issue",
    "transactions",
    "transaction",
    "logs",
    "feedback",
    "monitors",
    "releases",
    "project-settings",
    "notifications",
    "channel",
    "deliveries",
    "my-notifications",
    "users",
}


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_screenshots_of_every_page(chromium: Browser, tmp_path: Path) -> None:
    """One light desktop shot per page, and dark and phone shots of the main pages."""
    with demo_server(tmp_path / "data") as server:
        written = take_screenshots(server, chromium, tmp_path / "shots")
    names = {path.stem for path in written}
    assert names >= PAGES
    assert {"issues-dark", "issue-dark", "issues-phone", "issue-phone"} <= names
    assert {"notifications-dark", "notifications-phone", "deliveries-phone"} <= names
    assert _png_size(tmp_path / "shots" / "issues.png")[0] == 1280
    assert _png_size(tmp_path / "shots" / "issue-phone.png")[0] == 390
