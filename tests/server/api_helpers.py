"""Helpers for the management API tests: users, logins, ingestion and page walks, over HTTP."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from resentry_core._models import Project, User
from resentry_core._resentry import Resentry
from tests import factories as f

PASSWORD = "a perfectly fine password"
Headers = dict[str, str]


def bearer(token: str) -> Headers:
    """``Authorization: Bearer <token>``."""
    return {"Authorization": f"Bearer {token}"}


async def login_tokens(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> dict[str, Any]:
    """Log in through the API (JSON body) and return the token pair."""
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> Headers:
    """Log in through the API and return bearer headers for the access token."""
    return bearer((await login_tokens(client, username, password))["access_token"])


async def add_user(
    core: Resentry,
    client: httpx.AsyncClient,
    username: str,
    *,
    admin: bool = False,
    projects: Sequence[Project] = (),
) -> tuple[User, Headers]:
    """Create a user (member of ``projects``) and log them in; returns the user and headers."""
    user = await core.accounts.create_user(username, PASSWORD, is_admin=admin)
    for project in projects:
        await core.storage.add_member(project.id, user.id)
    return user, await login(client, username)


def sentry_auth(project: Project) -> Headers:
    """``X-Sentry-Auth`` with the project's first key, as SDKs send it."""
    key = project.keys[0].public_key
    return {"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7"}


async def ingest(
    client: httpx.AsyncClient,
    project: Project,
    body: bytes,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """POST an envelope to the project's ingestion endpoint; it must be accepted."""
    response = await client.post(
        f"/api/{project.id}/envelope/",
        content=body,
        headers={**sentry_auth(project), **(headers or {})},
    )
    assert response.status_code == 200, response.text
    return response


async def send_error(client: httpx.AsyncClient, project: Project, **event_fields: Any) -> str:
    """Ingest one error event (``factories.error_event`` fields); returns its event id."""
    event_id = uuid.uuid4().hex
    await ingest(client, project, f.error_envelope(event_id, **event_fields))
    return event_id


async def send_items(
    client: httpx.AsyncClient,
    project: Project,
    *items: tuple[Mapping[str, Any], bytes],
    event_id: str | None = None,
) -> None:
    """Ingest one envelope made of ``items`` (``factories.item`` pairs)."""
    await ingest(client, project, f.envelope(items, event_id=event_id))


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    params: Mapping[str, Any] | None = None,
) -> Any:
    """GET ``url``; it must answer 200; returns the decoded JSON."""
    response = await client.get(url, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def walk(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    *,
    limit: int,
    params: Mapping[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Follow ``next_cursor`` through a list; returns every item and the number of pages."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {**(params or {}), "limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        page = await get_json(client, url, headers, query)
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= limit
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 1000, "the list never ends"
