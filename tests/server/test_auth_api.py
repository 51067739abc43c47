"""``/api/v1/auth`` and bearer authentication over HTTP: logins, refresh, and refused tokens."""

import time
from typing import Any

import httpx
import jwt
import pytest

from resentry_core._models import User
from resentry_core._resentry import Resentry
from tests.server.api_helpers import PASSWORD, add_user, bearer, login_tokens
from tests.server.conftest import ADMIN_PASSWORD

ME = "/api/v1/auth/me"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh_token"


def claims_of(token: str) -> dict[str, Any]:
    """A token's claims, read without checking anything."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def sign(claims: dict[str, Any], key: str, algorithm: str = "HS256") -> str:
    """A JWT with ``claims`` signed with ``key``."""
    return jwt.encode(claims, key, algorithm=algorithm)


async def me_status(client: httpx.AsyncClient, token: str) -> int:
    """The status ``GET /api/v1/auth/me`` answers with ``token`` as bearer."""
    return (await client.get(ME, headers=bearer(token))).status_code


async def test_json_login_returns_a_working_token_pair(
    client: httpx.AsyncClient, admin: User
) -> None:
    """A JSON login answers an access and a refresh token; the access token identifies the user."""
    tokens = await login_tokens(client, "admin", ADMIN_PASSWORD)
    assert set(tokens) == {"access_token", "refresh_token", "token_type"}
    assert tokens["token_type"] == "bearer"
    assert tokens["access_token"] != tokens["refresh_token"]
    response = await client.get(ME, headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    me = response.json()
    assert me["id"] == admin.id
    assert me["username"] == "admin"
    assert me["is_admin"] is True
    assert "password" not in str(me) and "hash" not in str(me)


@pytest.mark.parametrize("as_multipart", [False, True])
async def test_oauth2_password_form_login(
    client: httpx.AsyncClient, admin: User, as_multipart: bool
) -> None:
    """The OAuth2 password form (urlencoded or multipart) logs in on the same path."""
    form = {"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD}
    if as_multipart:
        response = await client.post(LOGIN, files={k: (None, v) for k, v in form.items()})
    else:
        response = await client.post(LOGIN, data=form)
    assert response.status_code == 200, response.text
    assert await me_status(client, response.json()["access_token"]) == 200


@pytest.mark.parametrize(
    ("username", "password"), [("admin", "wrong password"), ("nobody", ADMIN_PASSWORD)]
)
async def test_bad_credentials_answer_401(
    client: httpx.AsyncClient, admin: User, username: str, password: str
) -> None:
    """A wrong password and an unknown user both answer 401 with the same detail."""
    response = await client.post(LOGIN, json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json() == {"detail": "incorrect username or password"}


async def test_form_login_with_a_wrong_password_answers_401(
    client: httpx.AsyncClient, admin: User
) -> None:
    """The form login checks the password too."""
    response = await client.post(LOGIN, data={"username": "admin", "password": "nope"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("kwargs"),
    [
        {"json": {"username": "admin"}},
        {"data": {"username": "admin"}},
        {"content": b"not json", "headers": {"content-type": "application/json"}},
        {"json": {"username": "admin", "password": "x", "extra": 1}},
    ],
    ids=["json-missing-password", "form-missing-password", "not-json", "unknown-field"],
)
async def test_malformed_login_answers_422(
    client: httpx.AsyncClient, admin: User, kwargs: dict[str, Any]
) -> None:
    """A login body without both fields, or not JSON, answers 422 with validation details."""
    response = await client.post(LOGIN, **kwargs)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


async def test_inactive_user_cannot_log_in(client: httpx.AsyncClient, core: Resentry) -> None:
    """A deactivated user's correct password is refused."""
    user = await core.accounts.create_user("gone", PASSWORD)
    await core.accounts.update_user(user.id, is_active=False)
    response = await client.post(LOGIN, json={"username": "gone", "password": PASSWORD})
    assert response.status_code == 401


async def test_repeated_failures_are_throttled_with_retry_after(
    client: httpx.AsyncClient, core: Resentry, admin: User
) -> None:
    """After the allowed failures, even the right password answers 429 with Retry-After."""
    wrong = {"username": "admin", "password": "guess"}
    for _ in range(core.config.login_max_failures):
        assert (await client.post(LOGIN, json=wrong)).status_code == 401
    response = await client.post(LOGIN, json={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= core.config.login_lockout.total_seconds()
    other = await client.post(LOGIN, json={"username": "someone", "password": "x"})
    assert other.status_code == 401  # throttling is per username


async def test_refresh_returns_a_new_working_pair(client: httpx.AsyncClient, admin: User) -> None:
    """A refresh token buys a new pair whose access token works."""
    tokens = await login_tokens(client, "admin", ADMIN_PASSWORD)
    response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200
    fresh = response.json()
    assert fresh["token_type"] == "bearer"
    assert fresh["access_token"] != tokens["access_token"]
    assert await me_status(client, fresh["access_token"]) == 200


async def test_access_token_is_not_a_refresh_token(client: httpx.AsyncClient, admin: User) -> None:
    """Refreshing with an access token answers 401."""
    tokens = await login_tokens(client, "admin", ADMIN_PASSWORD)
    response = await client.post(REFRESH, json={"refresh_token": tokens["access_token"]})
    assert response.status_code == 401


async def test_refresh_token_is_not_an_access_token(client: httpx.AsyncClient, admin: User) -> None:
    """A refresh token as bearer answers 401, with ``WWW-Authenticate: Bearer``."""
    tokens = await login_tokens(client, "admin", ADMIN_PASSWORD)
    response = await client.get(ME, headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-jwt", "Basic YWRtaW46cGFzc3dvcmQ=", "bearer a.b.c"],
)
async def test_missing_or_malformed_bearer_answers_401(
    client: httpx.AsyncClient, admin: User, authorization: str | None
) -> None:
    """No token, another scheme or a malformed token answers 401 and asks for a bearer token."""
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.get(ME, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert isinstance(response.json()["detail"], str)


async def test_resigned_token_is_accepted_only_before_expiry(
    client: httpx.AsyncClient, core: Resentry, admin: User
) -> None:
    """The same claims signed with the server key work with a future ``exp``, not a past one."""
    claims = claims_of((await login_tokens(client, "admin", ADMIN_PASSWORD))["access_token"])
    key = core.config.secret_key
    now = int(time.time())
    assert await me_status(client, sign({**claims, "exp": now + 60}, key)) == 200
    response = await client.get(ME, headers=bearer(sign({**claims, "exp": now - 1}, key)))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_tampered_token_answers_401(
    client: httpx.AsyncClient, core: Resentry, admin: User
) -> None:
    """Changing the claims of a signed token (here: to another user) breaks its signature."""
    other = await core.accounts.create_user("mallory", PASSWORD)
    token = (await login_tokens(client, "mallory", PASSWORD))["access_token"]
    header, _, signature = token.split(".")
    forged_claims = {**claims_of(token), "sub": str(admin.id)}
    forged_payload = sign(forged_claims, "x" * 32).split(".")[1]
    forged = f"{header}.{forged_payload}.{signature}"
    assert claims_of(forged)["sub"] == str(admin.id) != str(other.id)
    assert await me_status(client, forged) == 401
    assert await me_status(client, token) == 200  # the untouched token still works


@pytest.mark.parametrize("algorithm", ["none", "HS512", "HS384"])
async def test_other_algorithms_are_refused(
    client: httpx.AsyncClient, core: Resentry, admin: User, algorithm: str
) -> None:
    """Valid claims signed with ``alg: none`` or another HMAC (same key) answer 401."""
    claims = claims_of((await login_tokens(client, "admin", ADMIN_PASSWORD))["access_token"])
    key = core.config.secret_key
    assert await me_status(client, sign(claims, key)) == 200  # HS256 with these claims works
    token = jwt.encode(claims, "" if algorithm == "none" else key, algorithm=algorithm)
    assert await me_status(client, token) == 401


async def test_token_signed_with_another_key_answers_401(
    client: httpx.AsyncClient, admin: User
) -> None:
    """A well-formed token signed with a key the server does not have answers 401."""
    claims = claims_of((await login_tokens(client, "admin", ADMIN_PASSWORD))["access_token"])
    assert await me_status(client, sign(claims, "another secret key, 32 bytes long!")) == 401


async def test_token_of_a_deleted_or_deactivated_user_answers_401(
    client: httpx.AsyncClient, core: Resentry, admin: User
) -> None:
    """Tokens stop working as soon as their user is deactivated or deleted."""
    user, headers = await add_user(core, client, "temp")
    assert (await client.get(ME, headers=headers)).status_code == 200
    await core.accounts.update_user(user.id, is_active=False)
    assert (await client.get(ME, headers=headers)).status_code == 401
    await core.storage.delete_user(user.id)
    assert (await client.get(ME, headers=headers)).status_code == 401
