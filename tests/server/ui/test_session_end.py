"""Web UI sessions are API tokens: what ends an API token ends a UI session, refresh tokens
rotate (concurrent renewals included), and UI logins are throttled as API logins are."""

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
from tests.server.api_helpers import PASSWORD, bearer, login_tokens
from tests.server.conftest import ADMIN_PASSWORD, settings_for
from tests.server.ui.helpers import post_form, sign_in
from tests.server.ui.test_session import TOKEN_EXPIRY_WAIT_SECONDS

ME = "/api/v1/auth/me"
SESSION = "resentry_session"
NEW_PASSWORD = "a brand new password"


@pytest.fixture
async def jane(core: Resentry, project: Project) -> User:
    """A member of the project."""
    user = await core.accounts.create_user("jane", PASSWORD)
    await core.storage.add_member(project.id, user.id)
    return user


async def assert_signed_in(client: httpx.AsyncClient, project: Project) -> None:
    """The next page request is served."""
    assert (await client.get(f"/projects/{project.id}/")).status_code == 200


async def assert_sent_to_login(client: httpx.AsyncClient, project: Project) -> None:
    """The next page request redirects to the login form."""
    response = await client.get(f"/projects/{project.id}/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_own_password_change_over_the_api_ends_the_ui_session(
    client: httpx.AsyncClient, app: FastAPI, jane: User, project: Project
) -> None:
    """A user who changes their password through the API is signed out of the UI."""
    assert (await sign_in(client, "jane", PASSWORD)).status_code == 303
    await assert_signed_in(client, project)
    async with _other_client(app) as api:
        tokens = await login_tokens(api, "jane")
        changed = await api.patch(
            f"/api/v1/users/{jane.id}",
            json={"password": NEW_PASSWORD, "current_password": PASSWORD},
            headers=bearer(tokens["access_token"]),
        )
        assert changed.status_code == 200, changed.text
    await assert_sent_to_login(client, project)
    assert (await sign_in(client, "jane", NEW_PASSWORD)).status_code == 303
    await assert_signed_in(client, project)


@pytest.mark.parametrize(
    "change",
    [{"password": "reset by the admin"}, {"is_active": False}],
    ids=["reset", "deactivate"],
)
async def test_admin_reset_or_deactivation_ends_the_ui_session(
    client: httpx.AsyncClient,
    jane: User,
    project: Project,
    auth_headers: dict[str, str],
    change: dict[str, object],
) -> None:
    """An admin's password reset or deactivation (over the API) signs the user out of the UI."""
    await sign_in(client, "jane", PASSWORD)
    await assert_signed_in(client, project)
    jar = dict(client.cookies)
    response = await client.patch(f"/api/v1/users/{jane.id}", json=change, headers=auth_headers)
    assert response.status_code == 200, response.text
    await assert_sent_to_login(client, project)
    client.cookies.update(jar)  # the ended cookie, kept by a browser that ignored the clearing
    await assert_sent_to_login(client, project)


async def test_ui_logout_ends_the_tokens_on_the_server(
    client: httpx.AsyncClient, app: FastAPI, jane: User, project: Project
) -> None:
    """Signing out of the UI ends the tokens themselves (as ``POST /api/v1/auth/logout`` does):
    a copy of the cookie and the user's API tokens stop working too."""
    await sign_in(client, "jane", PASSWORD)
    copied = client.cookies[SESSION]
    async with _other_client(app) as api:
        tokens = await login_tokens(api, "jane")
        assert (await post_form(client, "/", "/logout", {})).status_code == 303
        await assert_sent_to_login(client, project)
        api.cookies.set(SESSION, copied)
        await assert_sent_to_login(api, project)
        assert (await api.get(ME, headers=bearer(tokens["access_token"]))).status_code == 401


async def test_api_logout_ends_the_ui_session(
    client: httpx.AsyncClient, app: FastAPI, jane: User, project: Project
) -> None:
    """``POST /api/v1/auth/logout`` with an API token of the user signs the UI out too."""
    await sign_in(client, "jane", PASSWORD)
    await assert_signed_in(client, project)
    async with _other_client(app) as api:
        tokens = await login_tokens(api, "jane")
        logout = await api.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
        assert logout.status_code == 204
    await assert_sent_to_login(client, project)


class TestRotation:
    """Renewing an expired access token uses the refresh token up and stores the new pair."""

    @pytest.fixture
    def core_config(self, core_config: CoreConfig) -> CoreConfig:
        """Access tokens that live one second."""
        return replace(core_config, access_token_ttl=timedelta(seconds=1))

    async def test_renewal_stores_the_new_pair_and_uses_the_old_refresh_token_up(
        self, client: httpx.AsyncClient, jane: User, project: Project
    ) -> None:
        """The renewed cookie holds a new refresh token; the old one, presented to the API,
        counts as a reuse and ends the family, the renewed UI session included."""
        await sign_in(client, "jane", PASSWORD)
        _, old_refresh = client.cookies[SESSION].split("~")
        await anyio.sleep(TOKEN_EXPIRY_WAIT_SECONDS)
        await assert_signed_in(client, project)
        new_access, new_refresh = client.cookies[SESSION].split("~")
        assert new_refresh != old_refresh
        assert (await client.get(ME, headers=bearer(new_access))).status_code == 200
        reused = await client.post(
            "/api/v1/auth/refresh_token", json={"refresh_token": old_refresh}
        )
        assert reused.status_code == 401
        assert "already used" in reused.json()["detail"]
        await assert_sent_to_login(client, project)

    async def test_concurrent_renewals_keep_the_user_signed_in(
        self, app: FastAPI, jane: User, project: Project
    ) -> None:
        """Requests in flight together with one expired cookie all get the same new pair,
        instead of the second counting as a stolen refresh token."""
        async with _other_client(app) as browser:
            await sign_in(browser, "jane", PASSWORD)
            expired = browser.cookies[SESSION]
            await anyio.sleep(TOKEN_EXPIRY_WAIT_SECONDS)
            answers: list[httpx.Response] = []

            async def load(path: str) -> None:
                # Each request carries the cookie as sent, not as a later answer changed it.
                headers = {"Cookie": f"{SESSION}={expired}"}
                async with _other_client(app) as tab:
                    answers.append(await tab.get(path, headers=headers))

            async with anyio.create_task_group() as tasks:
                for path in ("/", f"/projects/{project.id}/", "/", f"/projects/{project.id}/"):
                    tasks.start_soon(load, path)
        assert [answer.status_code for answer in answers] == [200] * 4
        renewed = {_session_cookie(answer) for answer in answers}
        assert len(renewed) == 1
        (cookie,) = renewed
        assert cookie != expired
        async with _other_client(app) as later:
            later.cookies.set(SESSION, cookie)
            await assert_signed_in(later, project)


def _session_cookie(response: httpx.Response) -> str:
    values = [
        value.split(";")[0].removeprefix(f"{SESSION}=")
        for value in response.headers.get_list("set-cookie")
        if value.startswith(f"{SESSION}=")
    ]
    assert len(values) == 1, response.headers
    return values[0]


class TestThrottling:
    """UI logins share the API's failure counts, per username and per client address."""

    @pytest.fixture
    def core_config(self, core_config: CoreConfig) -> CoreConfig:
        """Three failures per address, many per username."""
        return replace(core_config, login_max_failures=50, login_max_address_failures=3)

    async def test_ui_login_is_throttled_per_address_as_the_api_is(
        self, core: Resentry, admin: User, tmp_path: Path
    ) -> None:
        """Failures on three usernames from one address: the UI answers 429 with
        ``Retry-After`` for the right password, as the API does; another address signs in."""
        app = create_app(settings_for(tmp_path), core=core)
        async with app.router.lifespan_context(app), _other_client(app, "10.0.0.1") as http:
            for name in ("u1", "u2"):
                assert (await sign_in(http, name, "wrong")).status_code == 401
            api_failure = await http.post(
                "/api/v1/auth/login", json={"username": "u3", "password": "wrong"}
            )
            assert api_failure.status_code == 401
            ui = await sign_in(http, "admin", ADMIN_PASSWORD)
            api = await http.post(
                "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
            )
            assert (ui.status_code, api.status_code) == (429, 429)
            assert ui.headers["Retry-After"] == api.headers["Retry-After"]
            assert "too many failed logins" in ui.text
            assert SESSION not in ui.headers.get("set-cookie", "")
        async with _other_client(app, "10.0.0.2") as other:
            assert (await sign_in(other, "admin", ADMIN_PASSWORD)).status_code == 303

    async def test_forwarded_for_counts_only_behind_a_trusted_proxy(
        self, core: Resentry, admin: User, tmp_path: Path
    ) -> None:
        """Behind a trusted proxy each forwarded client has its own count in the UI too; a
        forwarded address from an untrusted peer is ignored."""
        trusted = create_app(settings_for(tmp_path, trusted_proxies="10.0.0.0/8"), core=core)
        async with trusted.router.lifespan_context(trusted), _other_client(trusted) as http:
            http.headers["X-Forwarded-For"] = "198.51.100.1"
            for name in ("u1", "u2", "u3"):
                assert (await sign_in(http, name, "wrong")).status_code == 401
            assert (await sign_in(http, "admin", ADMIN_PASSWORD)).status_code == 429
            http.headers["X-Forwarded-For"] = "203.0.113.5"
            assert (await sign_in(http, "admin", ADMIN_PASSWORD)).status_code == 303
        untrusted = create_app(settings_for(tmp_path), core=core)
        async with untrusted.router.lifespan_context(untrusted), _other_client(untrusted) as http:
            for name in ("u1", "u2", "u3"):
                http.headers["X-Forwarded-For"] = f"192.0.2.{len(name)}{name[-1]}"
                assert (await sign_in(http, name, "wrong")).status_code == 401
            assert (await sign_in(http, "admin", ADMIN_PASSWORD)).status_code == 429


def _other_client(app: FastAPI, address: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")
