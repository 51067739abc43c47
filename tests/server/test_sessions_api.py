"""Attacks on sessions and identities over the management API: tokens that outlive a password
change, replayed refresh tokens, look-alike usernames, and one client locking out every user."""

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from resentry_core._config import CoreConfig
from resentry_core._models import User
from resentry_core._resentry import Resentry
from resentry_server._app import create_app
from tests.server.api_helpers import PASSWORD, add_user, bearer, login_tokens
from tests.server.conftest import ADMIN_PASSWORD, settings_for

ME = "/api/v1/auth/me"
REFRESH = "/api/v1/auth/refresh_token"
LOGOUT = "/api/v1/auth/logout"


async def assert_ended(client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    """Neither token of the pair works any more."""
    assert (await client.get(ME, headers=bearer(tokens["access_token"]))).status_code == 401
    refreshed = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401, refreshed.text


async def test_own_password_change_ends_earlier_tokens(
    client: httpx.AsyncClient, core: Resentry
) -> None:
    """After a user changes their password, the old access and refresh tokens answer 401."""
    user, _ = await add_user(core, client, "ann")
    old = await login_tokens(client, "ann")
    changed = await client.patch(
        f"/api/v1/users/{user.id}",
        json={"password": "a brand new password", "current_password": PASSWORD},
        headers=bearer(old["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    await assert_ended(client, old)
    new = await login_tokens(client, "ann", "a brand new password")
    assert (await client.get(ME, headers=bearer(new["access_token"]))).status_code == 200


async def test_admin_reset_and_deactivation_end_tokens_for_good(
    client: httpx.AsyncClient, core: Resentry, auth_headers: dict[str, str]
) -> None:
    """An admin's password reset ends the user's tokens; so does a deactivation, and
    reactivating the user does not bring the old tokens back."""
    user, _ = await add_user(core, client, "ben")
    before_reset = await login_tokens(client, "ben")
    reset = await client.patch(
        f"/api/v1/users/{user.id}", json={"password": "reset by admin"}, headers=auth_headers
    )
    assert reset.status_code == 200
    await assert_ended(client, before_reset)
    before_deactivation = await login_tokens(client, "ben", "reset by admin")
    for active in (False, True):
        response = await client.patch(
            f"/api/v1/users/{user.id}", json={"is_active": active}, headers=auth_headers
        )
        assert response.status_code == 200
    await assert_ended(client, before_deactivation)


async def test_logout_ends_every_token_of_the_user(
    client: httpx.AsyncClient, core: Resentry
) -> None:
    """``POST /api/v1/auth/logout`` answers 204 and ends both sessions of the user."""
    await add_user(core, client, "cat")
    laptop, phone = await login_tokens(client, "cat"), await login_tokens(client, "cat")
    response = await client.post(LOGOUT, headers=bearer(laptop["access_token"]))
    assert response.status_code == 204
    await assert_ended(client, laptop)
    await assert_ended(client, phone)
    assert (await client.post(LOGOUT, headers=bearer(laptop["access_token"]))).status_code == 401
    assert (await client.post(LOGOUT)).status_code == 401


async def test_refresh_tokens_rotate_and_a_replay_ends_the_family(
    client: httpx.AsyncClient, admin: User
) -> None:
    """A refresh token works once; presenting it again answers 401 and ends the tokens the
    first use issued too (the replay may be the thief's, or the user's after a theft)."""
    first = await login_tokens(client, "admin", ADMIN_PASSWORD)
    second = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert (await client.get(ME, headers=bearer(rotated["access_token"]))).status_code == 200
    replay = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]
    await assert_ended(client, rotated)
    fresh = await login_tokens(client, "admin", ADMIN_PASSWORD)
    assert (await client.get(ME, headers=bearer(fresh["access_token"]))).status_code == 200


@pytest.mark.parametrize(
    "lookalike",
    ["Admin", "ADMIN", "\uff41dmin", "\u0430dmin", "adrnin", "adm\u0131n"],
    ids=["capital", "upper", "full-width", "cyrillic-a", "rn-for-m", "dotless-i"],
)
async def test_renaming_to_a_lookalike_of_another_user_answers_409(
    client: httpx.AsyncClient, core: Resentry, admin: User, lookalike: str
) -> None:
    """A user cannot rename herself (nor be created) as a case variant or a Unicode
    confusable of the admin's name; nothing changes."""
    user, headers = await add_user(core, client, "mallory")
    renamed = await client.patch(
        f"/api/v1/users/{user.id}", json={"username": lookalike}, headers=headers
    )
    assert renamed.status_code == 409, renamed.text
    assert "admin" in renamed.json()["detail"]
    assert (await core.storage.get_user(user.id)).username == "mallory"


@pytest.mark.parametrize("invisible", ["\u200b", "\u202e", "\u2066", "\u3164", "\ufe0f", "\x07"])
async def test_usernames_with_invisible_or_control_characters_answer_422(
    client: httpx.AsyncClient, core: Resentry, invisible: str
) -> None:
    """``admin\\u200b`` and its kind are refused with a message naming the character."""
    user, headers = await add_user(core, client, "mallory")
    renamed = await client.patch(
        f"/api/v1/users/{user.id}", json={"username": f"adm{invisible}in"}, headers=headers
    )
    assert renamed.status_code == 422, renamed.text
    assert "U+" in renamed.json()["detail"]
    assert (await core.storage.get_user(user.id)).username == "mallory"


async def test_login_compares_usernames_case_insensitively_after_nfkc(
    client: httpx.AsyncClient, admin: User
) -> None:
    """``ADMIN`` and its full-width spelling log in as ``admin``; a Cyrillic a does not."""
    for spelling in ("ADMIN", "\uff41\uff44\uff4d\uff49\uff4e"):
        tokens = await login_tokens(client, spelling, ADMIN_PASSWORD)
        me = await client.get(ME, headers=bearer(tokens["access_token"]))
        assert me.json()["id"] == admin.id
    response = await client.post(
        "/api/v1/auth/login", json={"username": "\u0430dmin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 401


async def _client_for(
    core: Resentry, tmp_path: Path, address: str = "10.0.0.1", **settings: object
) -> tuple[FastAPI, httpx.AsyncClient]:
    app = create_app(settings_for(tmp_path, **settings), core=core)
    transport = httpx.ASGITransport(app=app, client=(address, 5000))
    return app, httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
def core_config(core_config: CoreConfig) -> CoreConfig:
    """Three failures per address, many per username."""
    return CoreConfig(
        database_url=core_config.database_url,
        secret_key=core_config.secret_key,
        bcrypt_rounds=core_config.bcrypt_rounds,
        login_max_failures=50,
        login_max_address_failures=3,
    )


async def _login_status(
    http: httpx.AsyncClient, username: str, password: str, **headers: str
) -> int:
    response = await http.post(
        "/api/v1/auth/login", json={"username": username, "password": password}, headers=headers
    )
    return response.status_code


async def test_one_address_failing_on_many_usernames_is_throttled(
    core: Resentry, admin: User, tmp_path: Path
) -> None:
    """Failures against different usernames from one address throttle that address (429, even
    for a right password), not other addresses; a spoofed X-Forwarded-For does not escape."""
    app, http = await _client_for(core, tmp_path)
    async with app.router.lifespan_context(app), http:
        for name in ("u1", "u2", "u3"):
            assert await _login_status(http, name, "wrong") == 401
        assert await _login_status(http, "admin", ADMIN_PASSWORD) == 429
        spoofed = {"X-Forwarded-For": "192.0.2.7"}
        assert await _login_status(http, "admin", ADMIN_PASSWORD, **spoofed) == 429
    other_app, other = await _client_for(core, tmp_path, "10.0.0.2")
    async with other_app.router.lifespan_context(other_app), other:
        assert await _login_status(other, "admin", ADMIN_PASSWORD) == 200


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(
    core: Resentry, admin: User, tmp_path: Path
) -> None:
    """Behind a configured trusted proxy, each X-Forwarded-For client has its own count."""
    app, http = await _client_for(core, tmp_path, trusted_proxies="10.0.0.0/8")
    async with app.router.lifespan_context(app), http:
        attacker = {"X-Forwarded-For": "198.51.100.1, 10.0.0.9"}  # through two of our proxies
        for name in ("u1", "u2", "u3"):
            assert await _login_status(http, name, "wrong", **attacker) == 401
        assert await _login_status(http, "admin", ADMIN_PASSWORD, **attacker) == 429
        user = {"X-Forwarded-For": "203.0.113.5"}
        assert await _login_status(http, "admin", ADMIN_PASSWORD, **user) == 200
