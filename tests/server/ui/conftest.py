"""Web UI fixtures: ``browser`` (an in-process client signed in as the admin) and
``chromium`` (headless Chromium driven by Playwright, one per module)."""

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser

from resentry_core._models import User
from tests.server.conftest import ADMIN_PASSWORD
from tests.server.ui.helpers import launch_chromium, sign_in


@pytest.fixture
async def browser(client: httpx.AsyncClient, admin: User) -> httpx.AsyncClient:
    """``client`` signed in as the admin."""
    assert (await sign_in(client, "admin", ADMIN_PASSWORD)).status_code == 303
    return client


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    yield from launch_chromium()
