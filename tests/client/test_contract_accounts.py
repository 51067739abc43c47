"""Both clients against the real app: health, auth, users, projects, keys and members."""

from datetime import datetime

import pytest
from fastapi import FastAPI

from resentry_client import (
    NOT_GIVEN,
    AuthenticationError,
    ConflictError,
    Health,
    Member,
    NotFoundError,
    PermissionDeniedError,
    Project,
    ProjectKey,
    ResentryClientError,
    Tokens,
    UnprocessableEntityError,
    User,
)
from resentry_core._resentry import Resentry
from tests.client.conftest import Api, close, make_client
from tests.server.conftest import ADMIN_PASSWORD

PASSWORD = "another fine password"


async def test_health_needs_no_login(api: Api) -> None:
    """``health()`` answers without a token."""
    assert await api(lambda c: c.health()) == Health(status="ok", database="ok")


async def test_login_keeps_the_tokens_and_me_uses_them(api: Api, admin: object) -> None:
    """``login()`` returns the pair, keeps it on the client, and later calls send it."""
    with pytest.raises(ResentryClientError, match="not logged in"):
        await api(lambda c: c.me())
    tokens = await api(lambda c: c.login("admin", ADMIN_PASSWORD))
    assert isinstance(tokens, Tokens)
    assert tokens.token_type == "bearer"
    assert (api.client.access_token, api.client.refresh_token) == (
        tokens.access_token,
        tokens.refresh_token,
    )
    me = await api(lambda c: c.me())
    assert isinstance(me, User)
    assert (me.username, me.is_admin, me.is_active) == ("admin", True, True)
    assert me.created_at.tzinfo is not None


async def test_logout_ends_the_tokens_on_the_server(api: Api, app: FastAPI, admin: object) -> None:
    """``logout()`` ends every token of the caller on the server and the client forgets its
    pair: the old access token is refused afterwards."""
    await api(lambda c: c.login("admin", ADMIN_PASSWORD))
    old_access = api.client.access_token
    assert old_access is not None
    assert await api(lambda c: c.logout()) is None
    assert api.client.access_token is None and api.client.refresh_token is None
    with pytest.raises(ResentryClientError, match="not logged in"):
        await api(lambda c: c.me())
    other = Api(make_client("async" if api.is_async else "sync", app, token=old_access))
    try:
        with pytest.raises(AuthenticationError) as caught:
            await other(lambda c: c.me())
    finally:
        await close(other.client)
    assert caught.value.status_code == 401


async def test_wrong_password_is_an_authentication_error(api: Api, admin: object) -> None:
    """A refused login raises ``AuthenticationError`` with the status, detail, method and URL,
    and keeps no token."""
    with pytest.raises(AuthenticationError) as caught:
        await api(lambda c: c.login("admin", "wrong"))
    error = caught.value
    assert error.status_code == 401
    assert isinstance(error.detail, str) and error.detail
    assert (error.method, error.url) == ("POST", "http://testserver/api/v1/auth/login")
    assert str(error).startswith("401 ")
    assert api.client.access_token is None


async def test_refresh_exchanges_the_pair(admin_api: Api) -> None:
    """``refresh()`` trades the client's refresh token for a new pair that works."""
    old = admin_api.client.refresh_token
    tokens = await admin_api(lambda c: c.refresh())
    assert admin_api.client.refresh_token == tokens.refresh_token
    assert old is not None
    assert (await admin_api(lambda c: c.me())).username == "admin"
    explicit = await admin_api(lambda c: c.refresh(tokens.refresh_token))
    assert admin_api.client.access_token == explicit.access_token


async def test_forget_tokens(admin_api: Api) -> None:
    """``forget_tokens()`` drops the pair; authenticated calls then say so before sending."""
    admin_api.client.forget_tokens()
    assert admin_api.client.access_token is None
    with pytest.raises(ResentryClientError, match="not logged in"):
        await admin_api(lambda c: c.projects.get(1))


async def test_user_crud(admin_api: Api) -> None:
    """Users are created, read, listed, changed (absent fields kept, null clears) and deleted."""
    alice = await admin_api(lambda c: c.users.create("alice", PASSWORD, telegram_chat_id="12345"))
    assert isinstance(alice, User)
    assert (alice.username, alice.is_admin, alice.telegram_chat_id) == ("alice", False, "12345")
    assert await admin_api(lambda c: c.users.get(alice.id)) == alice
    users = await admin_api.collect(lambda c: c.users.list(limit=1))
    assert [u.username for u in users] == ["admin", "alice"]
    renamed = await admin_api(lambda c: c.users.update(alice.id, username="alice2"))
    assert (renamed.username, renamed.telegram_chat_id) == ("alice2", "12345")
    cleared = await admin_api(lambda c: c.users.update(alice.id, telegram_chat_id=None))
    assert (cleared.username, cleared.telegram_chat_id) == ("alice2", None)
    promoted = await admin_api(
        lambda c: c.users.update(alice.id, is_admin=True, is_active=False, password=PASSWORD + "!")
    )
    assert (promoted.is_admin, promoted.is_active) == (True, False)
    assert await admin_api(lambda c: c.users.delete(alice.id)) is None
    with pytest.raises(NotFoundError) as caught:
        await admin_api(lambda c: c.users.get(alice.id))
    assert caught.value.detail == f"user {alice.id} not found"


async def test_own_password_change_needs_the_current_one(admin_api: Api, core: Resentry) -> None:
    """``current_password`` is sent when given; without it the change is refused (403)."""
    me = await admin_api(lambda c: c.me())
    with pytest.raises(PermissionDeniedError):
        await admin_api(lambda c: c.users.update(me.id, password=PASSWORD))
    await admin_api(
        lambda c: c.users.update(me.id, password=PASSWORD, current_password=ADMIN_PASSWORD)
    )
    assert (await admin_api(lambda c: c.login("admin", PASSWORD))).access_token


async def test_project_crud(admin_api: Api) -> None:
    """Projects are created with a key and DSN, read, listed, changed and deleted."""
    created = await admin_api(
        lambda c: c.projects.create(
            "Web shop",
            allowed_origins=["https://shop.example.com"],
            rate_limit_per_minute=100,
        )
    )
    assert isinstance(created, Project)
    assert (created.slug, created.rate_limit_per_minute, created.retention_days) == (
        "web-shop",
        100,
        None,
    )
    [key] = created.keys
    assert isinstance(key, ProjectKey)
    assert created.dsns == [key.dsn]
    assert key.dsn == f"http://{key.public_key}@testserver/{created.id}"
    assert isinstance(created.created_at, datetime)
    other = await admin_api(lambda c: c.projects.create("API", slug="api-v2", retention_days=7))
    assert other.slug == "api-v2"
    assert await admin_api(lambda c: c.projects.get(created.id)) == created
    listed = await admin_api.collect(lambda c: c.projects.list(limit=1))
    assert [p.id for p in listed] == [created.id, other.id]
    updated = await admin_api(
        lambda c: c.projects.update(
            created.id, name="Shop", rate_limit_per_minute=None, retention_days=NOT_GIVEN
        )
    )
    assert (updated.name, updated.slug, updated.rate_limit_per_minute) == ("Shop", "web-shop", None)
    assert updated.allowed_origins == ["https://shop.example.com"]
    await admin_api(lambda c: c.projects.delete(created.id))
    with pytest.raises(NotFoundError, match=f"404 project {created.id} not found"):
        await admin_api(lambda c: c.projects.get(created.id))


async def test_duplicate_slug_is_a_conflict(admin_api: Api) -> None:
    """A taken slug raises ``ConflictError`` (409)."""
    await admin_api(lambda c: c.projects.create("shop"))
    with pytest.raises(ConflictError) as caught:
        await admin_api(lambda c: c.projects.create("Shop"))
    assert caught.value.status_code == 409


async def test_validation_errors_carry_the_servers_list(admin_api: Api) -> None:
    """A 422 raises ``UnprocessableEntityError`` with the server's ``detail`` list."""
    with pytest.raises(UnprocessableEntityError) as caught:
        await admin_api(lambda c: c.projects.create(""))
    error = caught.value
    assert error.status_code == 422
    assert [e["loc"] for e in error.errors] == [["body", "name"]]
    assert "body.name" in str(error)


async def test_keys(admin_api: Api, project: object) -> None:
    """Keys are listed, created with a label, and revoked (they stay listed, inactive)."""
    project_id = 1
    key = await admin_api(lambda c: c.keys.create(project_id, label="mobile"))
    assert (key.label, key.is_active) == ("mobile", True)
    revoked = await admin_api(lambda c: c.keys.revoke(project_id, key.id))
    assert (revoked.id, revoked.is_active) == (key.id, False)
    keys = await admin_api.collect(lambda c: c.keys.list(project_id))
    assert [(k.label, k.is_active) for k in keys][-1] == ("mobile", False)
    assert len(keys) == 2


async def test_members_and_permissions(
    admin_api: Api, api: Api, app: FastAPI, project: object
) -> None:
    """Members are added by name or id, listed and removed; a member sees the project, may not
    change it (403), and sees other projects as missing (404)."""
    bob = await admin_api(lambda c: c.users.create("bob", PASSWORD))
    member = await admin_api(
        lambda c: c.members.add(1, username="bob", min_level="warning", notify_regressions=False)
    )
    assert member == Member(
        project_id=1,
        user_id=bob.id,
        username="bob",
        min_level="warning",
        notify_new_issues=True,
        notify_regressions=False,
    )
    again = await admin_api(lambda c: c.members.add(1, user_id=bob.id, min_level="error"))
    assert again.min_level == "error"
    assert [m.username for m in await admin_api.collect(lambda c: c.members.list(1))] == ["bob"]
    other = await admin_api(lambda c: c.projects.create("secret"))

    bob_api = Api(make_client("async" if api.is_async else "sync", app))
    await bob_api(lambda c: c.login("bob", PASSWORD))
    assert [p.id for p in await bob_api.collect(lambda c: c.projects.list())] == [1]
    with pytest.raises(PermissionDeniedError) as denied:
        await bob_api(lambda c: c.projects.update(1, name="mine"))
    assert denied.value.status_code == 403
    with pytest.raises(NotFoundError):
        await bob_api(lambda c: c.projects.get(other.id))

    await admin_api(lambda c: c.members.remove(1, bob.id))
    assert await admin_api.collect(lambda c: c.members.list(1)) == []
    with pytest.raises(NotFoundError):
        await admin_api(lambda c: c.members.remove(1, bob.id))
    await close(bob_api.client)
