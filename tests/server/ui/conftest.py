"""Web UI fixtures: ``browser``, an in-process client signed in as the admin."""

import httpx
import pytest

from resentry_core._models import User
from tests.server.conftest import ADMIN_PASSWORD
from tests.server.ui.helpers import sign_in


@pytest.fixture
async def browser(client: httpx.AsyncClient, admin: User) -> httpx.AsyncClient:
    """``client`` signed in as the admin."""
    assert (await sign_in(client, "admin", ADMIN_PASSWORD)).status_code == 303
    return client
