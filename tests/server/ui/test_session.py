"""Web UI sign-in: the login form, session cookies, CSRF, expiry, logout, who sees what."""

from dataclasses import replace
from datetime import timedelta

import anyio
import httpx
import pytest

from resentry_core._config import CoreConfig
from resentry_core._models import Project, User
from resentry_core._resentry import Resentry
from tests.server.api_helpers import PASSWORD
from tests.server.conftest import ADMIN_PASSWORD
from tests.server.ui.helpers import csrf_of, post_form, sign_in

TOKEN_EXPIRY_WAIT_SECONDS = 2.1  # token expiry has one-second resolution


async def test_signed_out_pages_redirect_to_login(client: httpx.AsyncClient) -> None:
    """Every page needs a session: the answer sends the browser to the login form and back."""
    response = await client.get("/projects/1/?status=resolved")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/projects/1/%3Fstatus%3Dresolved"
    page = await client.get(response.headers["location"])
    assert 'name="next" value="/projects/1/?status=resolved"' in page.text


async def test_login_sets_a_http_only_lax_cookie_and_lists_projects(
    client: httpx.AsyncClient, admin: User, project: Project
) -> None:
    """A good login redirects to ``next`` with an HttpOnly, SameSite=Lax session cookie (not
    Secure on plain http); the projects page lists the project and a 24-hour sparkline."""
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "/projects/1/",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/projects/1/"
    cookie = next(
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith("resentry_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    projects = await client.get("/")
    assert projects.status_code == 200
    assert "Shop backend" in projects.text
    assert 'class="spark"' in projects.text
    assert "sentry_sdk.init" in projects.text  # first run: setup snippets with the DSN
    assert project.keys[0].public_key in projects.text


async def test_secure_cookie_when_public_url_is_https(
    core: Resentry, tmp_path: object, admin: User
) -> None:
    """With an https public URL, the session cookie is Secure."""
    from pathlib import Path

    from resentry_server._app import create_app
    from tests.server.conftest import settings_for

    assert isinstance(tmp_path, Path)
    app = create_app(settings_for(tmp_path, public_url="https://errors.example.com"), core=core)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://errors.example.com"
        ) as https,
    ):
        response = await sign_in(https, "admin", ADMIN_PASSWORD)
    assert response.status_code == 303
    assert any(
        "Secure" in value and value.startswith("resentry_session=")
        for value in response.headers.get_list("set-cookie")
    )


async def test_wrong_password_shows_the_form_again(client: httpx.AsyncClient, admin: User) -> None:
    """A wrong password answers 401 with the form and the reason, and no session cookie."""
    response = await sign_in(client, "admin", "wrong")
    assert response.status_code == 401
    assert "incorrect username or password" in response.text
    assert 'name="username"' in response.text
    assert "resentry_session=" not in response.headers.get("set-cookie", "")
    assert (await client.get("/")).status_code == 303


async def test_login_is_throttled_like_the_api(
    client: httpx.AsyncClient, admin: User, core: Resentry
) -> None:
    """After the allowed failures, even the right password is refused for a while (429)."""
    for _ in range(core.config.login_max_failures):
        assert (await sign_in(client, "admin", "wrong")).status_code == 401
    response = await sign_in(client, "admin", ADMIN_PASSWORD)
    assert response.status_code == 429
    assert "too many failed logins" in response.text


@pytest.mark.parametrize("token", [None, "", "0" * 64])
async def test_forms_without_the_right_csrf_token_are_refused(
    client: httpx.AsyncClient, admin: User, token: str | None
) -> None:
    """A login (or any form) with a missing or wrong CSRF token answers 403 and signs no one in."""
    await client.get("/login")  # the browser has its CSRF cookie
    data = {"username": "admin", "password": ADMIN_PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = await client.post("/login", data=data)
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert (await client.get("/")).status_code == 303


async def test_csrf_token_of_another_browser_is_refused(
    client: httpx.AsyncClient, app: object, admin: User, project: Project
) -> None:
    """A CSRF token is bound to its browser's cookie: a token from another session fails."""
    from fastapi import FastAPI

    assert isinstance(app, FastAPI)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as attacker:
        foreign = csrf_of((await attacker.get("/login")).text)
    await sign_in(client, "admin", ADMIN_PASSWORD)
    issues = await client.get(f"/projects/{project.id}/")
    assert issues.status_code == 200
    response = await client.post(
        f"/projects/{project.id}/issues/bulk", data={"status": "resolved", "csrf_token": foreign}
    )
    assert response.status_code == 403


async def test_logout_ends_the_session(client: httpx.AsyncClient, admin: User) -> None:
    """Signing out clears the cookie; the projects page asks for a login again."""
    await sign_in(client, "admin", ADMIN_PASSWORD)
    assert (await client.get("/")).status_code == 200
    response = await post_form(client, "/", "/logout", {})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert (await client.get("/")).status_code == 303


async def test_tampered_session_cookie_is_refused(client: httpx.AsyncClient, admin: User) -> None:
    """A session cookie that is not a valid token pair signs no one in."""
    await sign_in(client, "admin", ADMIN_PASSWORD)
    access, refresh = client.cookies["resentry_session"].split("~")
    client.cookies.clear()
    client.cookies.set("resentry_session", f"{access[:-3]}abc~{refresh[:-3]}abc")
    response = await client.get("/")
    assert response.status_code == 303
    assert "resentry_session=" in response.headers.get("set-cookie", "")  # cleared


class TestExpiry:
    """Sessions follow the token lifetimes."""

    @pytest.fixture
    def core_config(self, core_config: CoreConfig) -> CoreConfig:
        """Access tokens that live one second."""
        return replace(core_config, access_token_ttl=timedelta(seconds=1))

    async def test_expired_access_token_is_renewed_with_the_refresh_token(
        self, client: httpx.AsyncClient, admin: User
    ) -> None:
        """While the refresh token lives, pages keep working and the cookie is renewed."""
        await sign_in(client, "admin", ADMIN_PASSWORD)
        before = client.cookies["resentry_session"]
        await anyio.sleep(TOKEN_EXPIRY_WAIT_SECONDS)
        response = await client.get("/")
        assert response.status_code == 200
        assert client.cookies["resentry_session"] != before


class TestSessionEnd:
    """A session whose refresh token has expired too ends."""

    @pytest.fixture
    def core_config(self, core_config: CoreConfig) -> CoreConfig:
        """Access and refresh tokens that live one second."""
        return replace(
            core_config,
            access_token_ttl=timedelta(seconds=1),
            refresh_token_ttl=timedelta(seconds=1),
        )

    async def test_expired_session_redirects_to_login(
        self, client: httpx.AsyncClient, admin: User
    ) -> None:
        """Expired tokens send the browser to the login form."""
        assert (await sign_in(client, "admin", ADMIN_PASSWORD)).status_code == 303
        await anyio.sleep(TOKEN_EXPIRY_WAIT_SECONDS)
        response = await client.get("/")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


async def test_non_members_see_404_and_no_admin_pages(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """A user who is not a member gets 404 for the project, like for one that does not exist,
    and sees no project on the projects page; admin pages answer 403."""
    await core.accounts.create_user("jane", PASSWORD)
    await sign_in(client, "jane", PASSWORD)
    for path in (f"/projects/{project.id}/", f"/projects/{project.id}/logs/", "/projects/999/"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "not found" in response.text
    assert "Shop backend" not in (await client.get("/")).text
    assert (await client.get("/settings/users/")).status_code == 403


async def test_open_redirects_are_refused(client: httpx.AsyncClient, admin: User) -> None:
    """``next`` must be a path of this app; anything else goes to the projects page."""
    page = await client.get("/login?next=//evil.example.com/")
    response = await client.post(
        "/login",
        data={
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "https://evil.example.com/",
        },
    )
    assert response.headers["location"] == "/"
