"""``/api/v1/projects`` over HTTP: projects with DSNs, keys, members, and who sees what."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from resentry_core._models import Project, User
from resentry_core._resentry import Resentry
from resentry_server._app import create_app
from tests import factories as f
from tests.server.api_helpers import PASSWORD, Headers, add_user, get_json, sentry_auth, walk
from tests.server.conftest import LiveServer, settings_for

PROJECTS = "/api/v1/projects/"
PROJECT_FIELDS = {
    "id",
    "name",
    "slug",
    "created_at",
    "keys",
    "allowed_origins",
    "rate_limit_per_minute",
    "retention_days",
}
KEY_FIELDS = {"id", "public_key", "label", "is_active", "dsn", "created_at"}


def project_url(project_id: int, rest: str = "") -> str:
    """The URL of a project, or of ``rest`` below it."""
    return f"/api/v1/projects/{project_id}{rest}"


async def test_admin_project_lifecycle(client: httpx.AsyncClient, auth_headers: Headers) -> None:
    """Create (with one active key and its DSN), read, list, update and delete a project."""
    body = {
        "name": "Shop Web",
        "allowed_origins": ["https://shop.example.com"],
        "rate_limit_per_minute": 600,
        "retention_days": 30,
    }
    response = await client.post(PROJECTS, json=body, headers=auth_headers)
    assert response.status_code == 201
    project = response.json()
    assert set(project) == PROJECT_FIELDS
    assert (project["name"], project["slug"]) == ("Shop Web", "shop-web")
    assert project["allowed_origins"] == ["https://shop.example.com"]
    assert (project["rate_limit_per_minute"], project["retention_days"]) == (600, 30)
    assert project["created_at"].endswith("+00:00")
    [key] = project["keys"]
    assert set(key) == KEY_FIELDS
    assert key["is_active"] is True
    assert key["dsn"] == f"http://{key['public_key']}@testserver/{project['id']}"
    url = project_url(project["id"])
    assert await get_json(client, url, auth_headers) == project
    assert (await get_json(client, PROJECTS, auth_headers))["items"] == [project]

    response = await client.patch(
        url, json={"name": "Shop", "retention_days": 7}, headers=auth_headers
    )
    assert response.status_code == 200
    updated = response.json()
    assert (updated["name"], updated["slug"], updated["retention_days"]) == ("Shop", "shop-web", 7)
    assert updated["allowed_origins"] == ["https://shop.example.com"]  # not sent: unchanged

    assert (await client.delete(url, headers=auth_headers)).status_code == 204
    assert (await client.get(url, headers=auth_headers)).status_code == 404
    assert (await get_json(client, PROJECTS, auth_headers))["items"] == []


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_null_clears_the_limits(
    client: httpx.AsyncClient, auth_headers: Headers, method: str
) -> None:
    """``null`` clears ``rate_limit_per_minute``/``retention_days``; absent fields stay.

    ``null`` in ``name`` or ``allowed_origins``, which cannot be null, changes nothing.
    """
    body = {"name": "Limited", "rate_limit_per_minute": 60, "retention_days": 30}
    url = project_url((await client.post(PROJECTS, json=body, headers=auth_headers)).json()["id"])

    async def update(change: dict[str, Any]) -> dict[str, Any]:
        response = await client.request(method, url, json=change, headers=auth_headers)
        assert response.status_code == 200
        answer: dict[str, Any] = response.json()
        return answer

    cleared = await update({"rate_limit_per_minute": None})
    assert (cleared["rate_limit_per_minute"], cleared["retention_days"]) == (None, 30)
    cleared = await update({"retention_days": None, "name": None, "allowed_origins": None})
    assert (cleared["rate_limit_per_minute"], cleared["retention_days"]) == (None, None)
    assert (cleared["name"], cleared["allowed_origins"]) == ("Limited", [])
    assert await get_json(client, url, auth_headers) == cleared


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "Shop backend"}, 409),  # the fixture project's slug
        ({"name": "Other", "slug": "shop-backend"}, 409),
        ({"name": ""}, 422),
        ({"name": "   "}, 422),
        ({"name": "X", "rate_limit_per_minute": 0}, 422),
        ({"name": "X", "unknown": 1}, 422),
    ],
)
async def test_create_refuses_conflicts_and_bad_values(
    client: httpx.AsyncClient,
    auth_headers: Headers,
    project: Project,
    body: dict[str, Any],
    status: int,
) -> None:
    """A taken slug answers 409, bad values 422; no project is created."""
    response = await client.post(PROJECTS, json=body, headers=auth_headers)
    assert response.status_code == status
    assert len((await get_json(client, PROJECTS, auth_headers))["items"]) == 1


async def test_dsn_uses_the_configured_public_url(
    core: Resentry, tmp_path: Path, project: Project, auth_headers: Headers
) -> None:
    """With ``public_url`` set (a path prefix included), DSNs are built on it."""
    app = create_app(
        settings_for(tmp_path, public_url="https://errors.example.com/sentry/"), core=core
    )
    async with app.router.lifespan_context(app), _client(app, "http://internal:8000") as client:
        body = await get_json(client, project_url(project.id), auth_headers)
    key = project.keys[0].public_key
    assert body["keys"][0]["dsn"] == f"https://{key}@errors.example.com/sentry/{project.id}"


async def test_dsn_carries_the_mount_prefix(
    core: Resentry, tmp_path: Path, project: Project, auth_headers: Headers
) -> None:
    """Mounted under ``/errors`` with no public URL set, DSNs carry the prefix and the host."""
    resentry = create_app(settings_for(tmp_path), core=core)
    host = FastAPI()
    host.mount("/errors", resentry)
    async with resentry.router.lifespan_context(resentry), _client(host, "http://h:8000") as client:
        body = await get_json(client, "/errors" + project_url(project.id), auth_headers)
    key = project.keys[0].public_key
    assert body["keys"][0]["dsn"] == f"http://{key}@h:8000/errors/{project.id}"


@asynccontextmanager
async def _client(app: FastAPI, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as c:
        yield c


async def test_members_see_only_their_projects(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """A user lists and reads the projects they belong to; others answer 404 like missing ones."""
    other = await core.projects.create_project("Other")
    _, headers = await add_user(core, client, "member", projects=[project])
    listed = await get_json(client, PROJECTS, headers)
    assert [p["id"] for p in listed["items"]] == [project.id]
    assert (await get_json(client, project_url(project.id), headers))["name"] == "Shop backend"
    hidden = await client.get(project_url(other.id), headers=headers)
    missing = await client.get(project_url(9999), headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(str(other.id), "N") == missing.json()["detail"].replace(
        "9999", "N"
    )


async def test_hidden_project_subresources_answer_404(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Every route below a project the caller cannot see answers 404, not 403."""
    _, headers = await add_user(core, client, "outsider")
    key_id = project.keys[0].id
    responses = [
        await client.get(project_url(project.id, "/keys/"), headers=headers),
        await client.post(project_url(project.id, "/keys/"), json={}, headers=headers),
        await client.delete(project_url(project.id, f"/keys/{key_id}"), headers=headers),
        await client.get(project_url(project.id, "/members/"), headers=headers),
        await client.patch(project_url(project.id), json={"name": "x"}, headers=headers),
        await client.delete(project_url(project.id), headers=headers),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)


async def test_members_cannot_change_projects(
    client: httpx.AsyncClient, core: Resentry, project: Project, admin: User
) -> None:
    """Members read keys and members, but changing anything is for admins (403)."""
    _, headers = await add_user(core, client, "member", projects=[project])
    key_id = project.keys[0].id
    member_body = {"user_id": admin.id}
    assert (await client.get(project_url(project.id, "/keys/"), headers=headers)).status_code == 200
    refused = [
        await client.post(PROJECTS, json={"name": "Mine"}, headers=headers),
        await client.put(project_url(project.id), json={"name": "x"}, headers=headers),
        await client.delete(project_url(project.id), headers=headers),
        await client.post(project_url(project.id, "/keys/"), json={}, headers=headers),
        await client.delete(project_url(project.id, f"/keys/{key_id}"), headers=headers),
        await client.post(project_url(project.id, "/members/"), json=member_body, headers=headers),
        await client.delete(project_url(project.id, f"/members/{admin.id}"), headers=headers),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert await core.storage.get_project(project.id) == project


async def test_keys_are_created_listed_and_revoked(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """A new key works for ingestion at once; a revoked key stays listed and is refused."""
    keys_url = project_url(project.id, "/keys/")
    response = await client.post(keys_url, json={"label": "mobile"}, headers=auth_headers)
    assert response.status_code == 201
    key = response.json()
    assert (key["label"], key["is_active"]) == ("mobile", True)
    assert key["dsn"] == f"http://{key['public_key']}@testserver/{project.id}"
    auth = {"X-Sentry-Auth": f"Sentry sentry_key={key['public_key']}, sentry_version=7"}
    envelope_url = f"/api/{project.id}/envelope/"
    assert (
        await client.post(envelope_url, content=f.error_envelope(), headers=auth)
    ).status_code == 200

    response = await client.delete(f"{keys_url}{key['id']}", headers=auth_headers)
    assert response.status_code == 200
    assert response.json() == {**key, "is_active": False}
    listed = await get_json(client, keys_url, auth_headers)
    assert [(k["id"], k["is_active"]) for k in listed["items"]] == [
        (project.keys[0].id, True),
        (key["id"], False),
    ]
    assert (
        await client.post(envelope_url, content=f.error_envelope(), headers=auth)
    ).status_code == 403
    ok = await client.post(envelope_url, content=f.error_envelope(), headers=sentry_auth(project))
    assert ok.status_code == 200


async def test_revoking_another_projects_key_answers_404(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers, project: Project
) -> None:
    """A key id of another project is not found under this one, and stays active."""
    other = await core.projects.create_project("Other")
    url = project_url(project.id, f"/keys/{other.keys[0].id}")
    assert (await client.delete(url, headers=auth_headers)).status_code == 404
    assert (await core.storage.list_keys(other.id))[0].is_active


async def test_members_are_added_listed_and_removed(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers, project: Project
) -> None:
    """Add members by id and by username, list them, remove one; removal hides the project."""
    jane, jane_headers = await add_user(core, client, "jane")
    joe = await core.accounts.create_user("joe", PASSWORD)
    members_url = project_url(project.id, "/members/")
    by_id = await client.post(members_url, json={"user_id": jane.id}, headers=auth_headers)
    assert by_id.status_code == 201
    assert by_id.json() == {
        "project_id": project.id,
        "user_id": jane.id,
        "username": "jane",
        "min_level": "error",
        "notify_new_issues": True,
        "notify_regressions": True,
    }
    body = {"username": "joe", "min_level": "warning", "notify_regressions": False}
    by_name = await client.post(members_url, json=body, headers=auth_headers)
    assert by_name.status_code == 201
    assert (by_name.json()["user_id"], by_name.json()["min_level"]) == (joe.id, "warning")
    listed = await get_json(client, members_url, jane_headers)
    assert [m["username"] for m in listed["items"]] == ["jane", "joe"]
    assert (await client.get(project_url(project.id), headers=jane_headers)).status_code == 200

    response = await client.delete(f"{members_url}{jane.id}", headers=auth_headers)
    assert response.status_code == 204
    assert (await client.get(project_url(project.id), headers=jane_headers)).status_code == 404
    assert (await client.delete(f"{members_url}{jane.id}", headers=auth_headers)).status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"username": "nobody"}, 404),
        ({"user_id": 999}, 404),
        ({}, 422),
        ({"user_id": 1, "username": "admin"}, 422),
        ({"username": "admin", "min_level": "loud"}, 422),
    ],
)
async def test_add_member_refuses_bad_requests(
    client: httpx.AsyncClient,
    core: Resentry,
    auth_headers: Headers,
    project: Project,
    body: dict[str, Any],
    status: int,
) -> None:
    """Unknown users answer 404; neither or both of user_id/username, or a bad level, 422."""
    response = await client.post(
        project_url(project.id, "/members/"), json=body, headers=auth_headers
    )
    assert response.status_code == status
    assert await core.storage.list_members(project.id) == []


async def test_project_and_key_lists_page_through_everything(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers, project: Project
) -> None:
    """Walking projects and keys with a small limit visits each exactly once."""
    for number in range(4):
        await core.projects.create_project(f"P{number}")
        await core.storage.create_key(project.id, label=f"k{number}")
    projects, _ = await walk(client, PROJECTS, auth_headers, limit=2)
    assert len({p["id"] for p in projects}) == len(projects) == 5
    keys, pages = await walk(client, project_url(project.id, "/keys/"), auth_headers, limit=2)
    assert [k["label"] for k in keys] == ["Default", "k0", "k1", "k2", "k3"]
    assert pages == 3


async def test_unknown_project_answers_404_for_admins_too(
    client: httpx.AsyncClient, auth_headers: Headers
) -> None:
    """Admins get 404 for a project id that does not exist; non-numeric ids are 422."""
    assert (await client.get(project_url(4242), headers=auth_headers)).status_code == 404
    assert (await client.get(project_url(4242, "/keys/"), headers=auth_headers)).status_code == 404
    assert (await client.get("/api/v1/projects/abc", headers=auth_headers)).status_code == 422


@pytest.mark.parametrize("path_id", ["1.0", "1e0", "+1", "%201", "1_0", "0", "9223372036854775808"])
async def test_ids_in_paths_are_positive_64_bit_integers_in_digits(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project, path_id: str
) -> None:
    """``/api/v1/projects/1.0`` and other spellings of a number answer 422, never the project."""
    assert project.id == 1
    for url in (f"/api/v1/projects/{path_id}", f"/api/v1/projects/1/keys/{path_id}"):
        method = client.get if url.count("/") == 4 else client.delete
        response = await method(url, headers=auth_headers)
        assert response.status_code == 422, (url, response.text)
    assert (await client.get("/api/v1/projects/01", headers=auth_headers)).status_code == 200


@pytest.mark.parametrize("value", [2**64, -(2**70), "x" * 201])
async def test_out_of_range_values_answer_422(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project, value: object
) -> None:
    """Integers beyond 64 bits and over-long names answer 422 (with details), never 500."""
    for body in ({"name": value}, {"rate_limit_per_minute": value}):
        response = await client.patch(project_url(project.id), json=body, headers=auth_headers)
        assert response.status_code == 422, response.text
        assert isinstance(response.json()["detail"], list)


async def test_real_server_answers_the_dsn_the_cli_printed(live_server: LiveServer) -> None:
    """Over real HTTP, a CLI-made admin logs in and sees the CLI-made project with its DSN."""
    live_server.create_user("root", PASSWORD, admin=True)
    project_id, dsn = live_server.create_project("Live")
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        form = {"username": "root", "password": PASSWORD}
        tokens = (await client.post("/api/v1/auth/login", data=form)).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        body = await get_json(client, project_url(project_id), headers)
    assert [key["dsn"] for key in body["keys"]] == [dsn]
    assert dsn.startswith("http://") and dsn.endswith(f"@{live_server.base_url[7:]}/{project_id}")
