"""Helpers for the web UI tests: CSRF tokens from pages, signing in through the form, and
Debian's Chromium for browser tests (``.ci/run`` installs it; Playwright's own browser download
is not used)."""

import re
import shutil
from collections.abc import Iterator, Mapping

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF.search(html)
    assert match is not None, html
    return match.group(1)


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str, *, prefix: str = ""
) -> httpx.Response:
    """Sign in through the login form; returns the answer to the POST (a 303 when it worked)."""
    page = await client.get(f"{prefix}/login")
    assert page.status_code == 200, page.text
    return await client.post(
        f"{prefix}/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
    )


async def post_form(
    client: httpx.AsyncClient, page_url: str, action: str, data: Mapping[str, str | list[str]]
) -> httpx.Response:
    """Open ``page_url``, then POST ``data`` with that page's CSRF token to ``action``."""
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    return await client.post(action, data={**data, "csrf_token": csrf_of(page.text)})


def launch_chromium() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright; fails with a clear message when it is missing."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (bash .ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
