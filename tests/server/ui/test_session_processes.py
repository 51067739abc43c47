"""Two server processes on one database (two ``create_app`` apps, each with its own core, on one
SQLite file): the same expired session cookie renewed at both keeps the user signed in at both,
while the API's refresh stays strictly single-use."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import FastAPI

from resentry_core._config import CoreConfig
from resentry_core._models import Project, User
from resentry_core._resentry import Resentry
from resentry_server._app import create_app
from tests.server.api_helpers import PASSWORD
from tests.server.conftest import settings_for
from tests.server.ui.helpers import sign_in
from tests.server.ui.test_session import TOKEN_EXPIRY_WAIT_SECONDS

SESSION = "resentry_session"


@pytest.fixture
def core_config(core_config: CoreConfig) -> CoreConfig:
    """Access tokens that live one second."""
    return replace(core_config, access_token_ttl=timedelta(seconds=1))


@pytest.fixture
async def jane(core: Resentry, project: Project) -> User:
    """A member of the project."""
    user = await core.accounts.create_user("jane", PASSWORD)
    await core.storage.add_member(project.id, user.id)
    return user


@pytest.fixture
async def other_app(core_config: CoreConfig, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """A second app with its own core on the same database: another server process."""
    async with Resentry.open(core_config) as core:
        application = create_app(settings_for(tmp_path), core=core)
        async with application.router.lifespan_context(application):
            yield application


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _expired_cookie(app: FastAPI) -> str:
    async with _client(app) as browser:
        assert (await sign_in(browser, "jane", PASSWORD)).status_code == 303
        cookie = browser.cookies[SESSION]
    await anyio.sleep(TOKEN_EXPIRY_WAIT_SECONDS)
    return cookie


async def _page(app: FastAPI, cookie: str, path: str) -> httpx.Response:
    async with _client(app) as tab:
        # The cookie as the browser sent it, not as a later answer changed it.
        return await tab.get(path, headers={"Cookie": f"{SESSION}={cookie}"})


def _renewed(response: httpx.Response) -> str:
    values = [
        value.split(";")[0].removeprefix(f"{SESSION}=")
        for value in response.headers.get_list("set-cookie")
        if value.startswith(f"{SESSION}=")
    ]
    assert len(values) == 1, response.headers
    return values[0]


async def test_one_expired_cookie_renewed_at_two_processes_stays_signed_in(
    app: FastAPI, other_app: FastAPI, jane: User, project: Project
) -> None:
    """Requests in flight together with one expired cookie, two at each process: every one is
    served and renewed; each process's new cookie works at both processes afterwards."""
    expired = await _expired_cookie(app)
    page = f"/projects/{project.id}/"
    answers: dict[int, list[httpx.Response]] = {0: [], 1: []}

    async def load(which: int, path: str) -> None:
        answers[which].append(await _page((app, other_app)[which], expired, path))

    async with anyio.create_task_group() as tasks:
        for which, path in [(0, "/"), (1, "/"), (0, page), (1, page)]:
            tasks.start_soon(load, which, path)
    assert [answer.status_code for answer in answers[0] + answers[1]] == [200] * 4
    renewed = [{_renewed(answer) for answer in answers[which]} for which in (0, 1)]
    assert [len(cookies) for cookies in renewed] == [1, 1]  # one pair per process
    cookies = renewed[0] | renewed[1]
    assert len(cookies) == 2
    assert expired not in cookies
    for cookie in cookies:
        for server in (app, other_app):
            answer = await _page(server, cookie, page)
            assert answer.status_code == 200
            assert SESSION not in answer.headers.get("set-cookie", "")  # still current


async def test_the_api_refresh_stays_single_use_across_processes(
    app: FastAPI, other_app: FastAPI, jane: User, project: Project
) -> None:
    """Right after the UI renewed a cookie at one process, its old refresh token presented to
    the API at the other is a reuse: the answer is 401 and every session of the user ends."""
    expired = await _expired_cookie(app)
    page = f"/projects/{project.id}/"
    renewal = await _page(app, expired, page)
    assert renewal.status_code == 200
    cookie = _renewed(renewal)
    _, old_refresh = expired.split("~")
    async with _client(other_app) as api:
        reused = await api.post("/api/v1/auth/refresh_token", json={"refresh_token": old_refresh})
    assert reused.status_code == 401
    assert "already used" in reused.json()["detail"]
    for sent in (cookie, expired):
        for server in (app, other_app):
            answer = await _page(server, sent, page)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/login")
