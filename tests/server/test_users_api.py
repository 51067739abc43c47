"""``/api/v1/users`` over HTTP: admin CRUD, self-service, and the last-admin rule."""

from typing import Any

import httpx
import pytest

from resentry_core._models import User
from resentry_core._resentry import Resentry
from tests.server.api_helpers import PASSWORD, Headers, add_user, get_json, login, walk
from tests.server.conftest import ADMIN_PASSWORD

USERS = "/api/v1/users/"
USER_FIELDS = {
    "id",
    "username",
    "is_admin",
    "is_active",
    "telegram_chat_id",
    "email",
    "created_at",
}


def user_url(user_id: int) -> str:
    """The URL of one user."""
    return f"/api/v1/users/{user_id}"


async def test_admin_creates_reads_lists_and_deletes_a_user(
    client: httpx.AsyncClient, auth_headers: Headers
) -> None:
    """The admin CRUD cycle; no answer ever carries a password or hash."""
    body = {"username": "jane", "password": PASSWORD, "telegram_chat_id": "12345"}
    response = await client.post(USERS, json=body, headers=auth_headers)
    assert response.status_code == 201
    created = response.json()
    assert set(created) == USER_FIELDS
    assert created["username"] == "jane"
    assert created["is_admin"] is False and created["is_active"] is True
    assert created["telegram_chat_id"] == "12345"
    assert created["created_at"].endswith("+00:00")
    assert await get_json(client, user_url(created["id"]), auth_headers) == created
    listed = await get_json(client, USERS, auth_headers)
    assert [u["username"] for u in listed["items"]] == ["admin", "jane"]
    assert PASSWORD not in str(listed) and "$2b$" not in str(listed)
    response = await client.delete(user_url(created["id"]), headers=auth_headers)
    assert response.status_code == 204
    assert (await client.get(user_url(created["id"]), headers=auth_headers)).status_code == 404


async def test_created_user_can_log_in(client: httpx.AsyncClient, auth_headers: Headers) -> None:
    """A user created through the API logs in with the password given."""
    body = {"username": "new", "password": "pw for new", "is_admin": True}
    assert (await client.post(USERS, json=body, headers=auth_headers)).status_code == 201
    me = await get_json(client, "/api/v1/auth/me", await login(client, "new", "pw for new"))
    assert me["username"] == "new" and me["is_admin"] is True


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"username": "admin", "password": PASSWORD}, 409),
        ({"username": "x", "password": "é" * 37}, 422),  # 74 bytes: over bcrypt's 72
        ({"username": "x", "password": ""}, 422),
        ({"username": "   ", "password": PASSWORD}, 422),
        ({"username": "x"}, 422),
    ],
    ids=["taken", "password-too-long", "empty-password", "blank-username", "no-password"],
)
async def test_create_refuses_bad_users(
    client: httpx.AsyncClient, auth_headers: Headers, body: dict[str, Any], status: int
) -> None:
    """Taken usernames answer 409; unacceptable values 422; nothing is created."""
    response = await client.post(USERS, json=body, headers=auth_headers)
    assert response.status_code == status
    assert len((await get_json(client, USERS, auth_headers))["items"]) == 1


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_admin_updates_only_the_fields_sent(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers, method: str
) -> None:
    """PATCH and PUT change the fields sent; a new password replaces the old one."""
    user, _ = await add_user(core, client, "bob")
    body = {"username": "robert", "password": "new password", "is_admin": True}
    response = await client.request(method, user_url(user.id), json=body, headers=auth_headers)
    assert response.status_code == 200
    updated = response.json()
    assert (updated["username"], updated["is_admin"], updated["is_active"]) == (
        "robert",
        True,
        True,
    )
    assert (
        await client.post("/api/v1/auth/login", json={"username": "robert", "password": PASSWORD})
    ).status_code == 401
    await login(client, "robert", "new password")


async def test_chat_id_can_be_cleared(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers
) -> None:
    """``telegram_chat_id: null`` (or ``""``) clears it; leaving it out keeps it."""
    user = await core.accounts.create_user("t", PASSWORD, telegram_chat_id="99")
    url = user_url(user.id)
    kept = await client.patch(url, json={"username": "t2"}, headers=auth_headers)
    assert kept.json()["telegram_chat_id"] == "99"
    cleared = await client.patch(url, json={"telegram_chat_id": None}, headers=auth_headers)
    assert cleared.json()["telegram_chat_id"] is None
    await client.patch(url, json={"telegram_chat_id": "5"}, headers=auth_headers)
    cleared = await client.patch(url, json={"telegram_chat_id": ""}, headers=auth_headers)
    assert cleared.json()["telegram_chat_id"] is None


async def test_email_is_checked_stored_and_cleared(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers
) -> None:
    """``Accounts`` checks an ``email``: a bad one answers 422 and changes nothing; a good one
    is stored stripped; ``null`` or ``""`` clears it."""
    body = {"username": "mail", "password": PASSWORD, "email": "not-an-address"}
    refused = await client.post(USERS, json=body, headers=auth_headers)
    assert refused.status_code == 422 and "e-mail address" in refused.text
    assert len((await get_json(client, USERS, auth_headers))["items"]) == 1
    body["email"] = " ops@example.com "
    created = await client.post(USERS, json=body, headers=auth_headers)
    assert created.json()["email"] == "ops@example.com"
    url = user_url(created.json()["id"])
    refused = await client.patch(url, json={"email": "a@b"}, headers=auth_headers)
    assert refused.status_code == 422
    assert (await get_json(client, url, auth_headers))["email"] == "ops@example.com"
    for cleared in (None, ""):
        await client.patch(url, json={"email": "dev@example.org"}, headers=auth_headers)
        response = await client.patch(url, json={"email": cleared}, headers=auth_headers)
        assert response.json()["email"] is None


async def test_null_in_a_non_nullable_field_changes_nothing(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers
) -> None:
    """``null`` for ``username``, ``password`` or the flags leaves them as they are."""
    user, _ = await add_user(core, client, "kept")
    body = {"username": None, "password": None, "is_admin": None, "is_active": None}
    response = await client.patch(user_url(user.id), json=body, headers=auth_headers)
    assert response.status_code == 200
    assert await core.storage.get_user(user.id) == user
    await login(client, "kept")


async def test_rename_to_a_taken_username_answers_409(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers
) -> None:
    """Renaming onto another user's name is a conflict."""
    user, _ = await add_user(core, client, "carol")
    response = await client.patch(
        user_url(user.id), json={"username": "admin"}, headers=auth_headers
    )
    assert response.status_code == 409


async def test_non_admin_is_refused_admin_operations(
    client: httpx.AsyncClient, core: Resentry, admin: User
) -> None:
    """A plain user may not list, create, read or change others, or delete anyone (403)."""
    me, headers = await add_user(core, client, "plain")
    other = await core.accounts.create_user("other", PASSWORD)
    create = {"username": "sneaky", "password": PASSWORD}
    refused = [
        await client.get(USERS, headers=headers),
        await client.post(USERS, json=create, headers=headers),
        await client.get(user_url(other.id), headers=headers),
        await client.get(user_url(admin.id), headers=headers),
        await client.patch(user_url(other.id), json={"username": "x"}, headers=headers),
        await client.delete(user_url(other.id), headers=headers),
        await client.delete(user_url(me.id), headers=headers),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert [u.username for u in await core.storage.list_users()] == ["admin", "plain", "other"]


async def test_user_reads_and_updates_themself(client: httpx.AsyncClient, core: Resentry) -> None:
    """A user reads and renames themself and changes their own password (giving the current one)."""
    me, headers = await add_user(core, client, "self")
    assert (await get_json(client, user_url(me.id), headers))["username"] == "self"
    body = {
        "username": "myself",
        "password": "my new password",
        "current_password": PASSWORD,
        "telegram_chat_id": "7",
    }
    response = await client.patch(user_url(me.id), json=body, headers=headers)
    assert response.status_code == 200
    assert response.json()["username"] == "myself"
    assert response.json()["telegram_chat_id"] == "7"
    await login(client, "myself", "my new password")


@pytest.mark.parametrize("admin", [False, True], ids=["user", "admin"])
@pytest.mark.parametrize(
    ("current", "detail"),
    [
        ({}, "changing your own password needs your current password (current_password)"),
        ({"current_password": None}, "changing your own password needs your current password"),
        ({"current_password": "not my password"}, "the current password is wrong"),
        ({"current_password": ""}, "the current password is wrong"),
    ],
    ids=["missing", "null", "wrong", "empty"],
)
async def test_own_password_change_needs_the_current_password(
    client: httpx.AsyncClient, core: Resentry, admin: bool, current: dict[str, Any], detail: str
) -> None:
    """Without the right current password a self-change answers 403 and changes nothing."""
    me, headers = await add_user(core, client, "forgetful", admin=admin)
    body = {"username": "renamed", "password": "a new password", **current}
    response = await client.patch(user_url(me.id), json=body, headers=headers)
    assert response.status_code == 403
    assert response.json()["detail"].startswith(detail)
    assert await core.storage.get_user(me.id) == me
    await login(client, "forgetful")  # the old password still works
    refused = {"username": "forgetful", "password": "a new password"}
    assert (await client.post("/api/v1/auth/login", json=refused)).status_code == 401


async def test_admin_changes_own_password_with_the_current_one(
    client: httpx.AsyncClient, admin: User, auth_headers: Headers
) -> None:
    """An admin changing their own password gives the current one, like everyone else."""
    body = {"password": "a new admin password", "current_password": ADMIN_PASSWORD}
    response = await client.patch(user_url(admin.id), json=body, headers=auth_headers)
    assert response.status_code == 200
    await login(client, admin.username, "a new admin password")


async def test_admin_changes_another_password_without_the_current_one(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers
) -> None:
    """An admin resets another user's password without knowing it."""
    user, _ = await add_user(core, client, "reset")
    response = await client.patch(
        user_url(user.id), json={"password": "reset password"}, headers=auth_headers
    )
    assert response.status_code == 200
    await login(client, "reset", "reset password")


async def test_wrong_current_passwords_are_throttled_like_logins(
    client: httpx.AsyncClient, core: Resentry
) -> None:
    """Guessing the current password counts as failed logins: the sixth guess answers 429."""
    me, headers = await add_user(core, client, "guessed")
    body = {"password": "a new password", "current_password": "guess"}
    statuses = [
        (await client.patch(user_url(me.id), json=body, headers=headers)).status_code
        for _ in range(6)
    ]
    assert statuses == [403] * 5 + [429]
    login_body = {"username": "guessed", "password": PASSWORD}
    assert (await client.post("/api/v1/auth/login", json=login_body)).status_code == 429


@pytest.mark.parametrize("change", [{"is_admin": True}, {"is_active": False}])
async def test_user_cannot_change_their_own_flags(
    client: httpx.AsyncClient, core: Resentry, change: dict[str, bool]
) -> None:
    """A non-admin changing their own ``is_admin`` or ``is_active`` gets 403 and no change."""
    me, headers = await add_user(core, client, "climber")
    response = await client.put(user_url(me.id), json={"username": "x", **change}, headers=headers)
    assert response.status_code == 403
    assert await core.storage.get_user(me.id) == me


async def test_user_may_resend_their_current_flags(
    client: httpx.AsyncClient, core: Resentry
) -> None:
    """Sending the current ``is_admin``/``is_active`` values (a whole-object PUT) is allowed."""
    me, headers = await add_user(core, client, "putter")
    body = {"username": "putter2", "is_admin": False, "is_active": True}
    response = await client.put(user_url(me.id), json=body, headers=headers)
    assert response.status_code == 200
    assert response.json()["username"] == "putter2"


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"method": "DELETE"},
        {"method": "PATCH", "json": {"is_admin": False}},
        {"method": "PUT", "json": {"is_active": False}},
    ],
    ids=["delete", "demote", "deactivate"],
)
async def test_last_admin_cannot_be_removed(
    client: httpx.AsyncClient,
    core: Resentry,
    admin: User,
    auth_headers: Headers,
    request_kwargs: dict[str, Any],
) -> None:
    """Deleting, demoting or deactivating the last active admin answers 409 and changes nothing."""
    response = await client.request(url=user_url(admin.id), headers=auth_headers, **request_kwargs)
    assert response.status_code == 409
    assert await core.storage.get_user(admin.id) == admin


async def test_an_admin_can_go_when_another_remains(
    client: httpx.AsyncClient, core: Resentry, admin: User, auth_headers: Headers
) -> None:
    """With a second admin, the first may demote themself, and then be deleted by the other."""
    second, second_headers = await add_user(core, client, "second", admin=True)
    response = await client.patch(
        user_url(admin.id), json={"is_admin": False}, headers=auth_headers
    )
    assert response.status_code == 200 and response.json()["is_admin"] is False
    response = await client.delete(user_url(second.id), headers=second_headers)
    assert response.status_code == 409  # now the last admin
    assert (await client.delete(user_url(admin.id), headers=second_headers)).status_code == 204


async def test_unknown_user_answers_404(client: httpx.AsyncClient, auth_headers: Headers) -> None:
    """Reading, updating or deleting a missing user answers 404; ids out of range 422."""
    assert (await client.get(user_url(999), headers=auth_headers)).status_code == 404
    assert (await client.patch(user_url(999), json={}, headers=auth_headers)).status_code == 404
    assert (await client.delete(user_url(999), headers=auth_headers)).status_code == 404
    assert (await client.get(user_url(2**63), headers=auth_headers)).status_code == 422
    assert (await client.get("/api/v1/users/abc", headers=auth_headers)).status_code == 422


async def test_user_list_pages_walk_every_user_once(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers
) -> None:
    """Paging with ``limit=3`` visits all 8 users exactly once, in id order."""
    for number in range(7):
        await core.accounts.create_user(f"user{number}", PASSWORD)
    users, pages = await walk(client, USERS, auth_headers, limit=3)
    assert pages == 3
    ids = [u["id"] for u in users]
    assert ids == sorted(ids) and len(set(ids)) == 8


@pytest.mark.parametrize("params", [{"cursor": "garbage"}, {"limit": 0}, {"limit": 501}])
async def test_bad_paging_parameters_answer_422(
    client: httpx.AsyncClient, auth_headers: Headers, params: dict[str, Any]
) -> None:
    """A cursor this list did not make, or a limit outside 1..500, answers 422."""
    response = await client.get(USERS, params=params, headers=auth_headers)
    assert response.status_code == 422
