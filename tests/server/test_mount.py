"""Resentry mounted under ``/errors`` in a host FastAPI app (examples/mount_in_fastapi.py).

The host composes Resentry's lifespan; every route moves under the prefix; DSNs carry it; and
SDKs that derive their endpoint from such a DSN reach Resentry through the host.
"""

import secrets
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sentry_sdk
from fastapi import FastAPI
from starlette.routing import Mount

from examples.mount_in_fastapi import build_host
from resentry_core._resentry import Resentry
from resentry_server import create_app
from tests.factories import error_envelope
from tests.server.conftest import (
    ADMIN_PASSWORD,
    ROOT,
    StartLiveServer,
    sentry_sdk_client,
    settings_for,
)


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[FastAPI]:
    """The example's host app on SQLite, its lifespan entered (which opens Resentry's core)."""
    settings = settings_for(
        tmp_path,
        database_url=f"sqlite:///{tmp_path / 'mounted.db'}",
        secret_key=secrets.token_urlsafe(48),
        bcrypt_rounds=4,
    )
    app = build_host(settings)
    async with app.router.lifespan_context(app):
        yield app


def mounted_core(host: FastAPI) -> Resentry:
    """The core the host's lifespan opened for the mounted Resentry app."""
    mount = next(route for route in host.routes if isinstance(route, Mount))
    core: Resentry = mount.app.state.resentry  # type: ignore[attr-defined]
    return core


@pytest.fixture
async def client(host: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the host app, in-process."""
    transport = httpx.ASGITransport(app=host)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def _admin_headers(
    client: httpx.AsyncClient, core: Resentry, *, prefix: str = "/errors"
) -> dict[str, str]:
    await core.accounts.create_user("admin", ADMIN_PASSWORD, is_admin=True)
    response = await client.post(
        f"{prefix}/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _endpoint(dsn: str) -> str:
    """The envelope URL an SDK derives from a DSN (sentry-python's ``utils.Dsn``)."""
    scheme, rest = dsn.split("://", 1)
    host_and_path = rest.split("@", 1)[1]
    prefix, project_id = host_and_path.rsplit("/", 1)
    return f"{scheme}://{prefix}/api/{project_id}/envelope/"


async def test_dsn_carries_the_mount_prefix_and_sdk_endpoint_reaches_resentry(
    host: FastAPI, client: httpx.AsyncClient
) -> None:
    """A project's DSN is http://key@host/errors/ID; its derived endpoint stores the event."""
    core = mounted_core(host)
    headers = await _admin_headers(client, core)
    created = await client.post("/errors/api/v1/projects/", json={"name": "Shop"}, headers=headers)
    assert created.status_code == 201, created.text
    project = created.json()
    key = project["keys"][0]["public_key"]
    dsn = project["keys"][0]["dsn"]
    assert dsn == f"http://{key}@testserver/errors/{project['id']}"
    event_id = uuid.uuid4().hex
    response = await client.post(
        _endpoint(dsn),
        content=error_envelope(event_id),
        headers={"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"id": event_id}
    stored = await core.storage.get_event(project["id"], event_id)
    assert stored.event.event_id == event_id


async def test_routes_move_under_the_prefix(host: FastAPI, client: httpx.AsyncClient) -> None:
    """Health, docs and ingestion (with path normalization) live under /errors; / is the host's."""
    core = mounted_core(host)
    project = await core.projects.create_project("Prefixed")
    auth = {"X-Sentry-Auth": f"Sentry sentry_key={project.keys[0].public_key}"}
    assert (await client.get("/")).json()["shop"] == "open"
    assert (await client.get("/errors/health/")).json() == {"status": "ok", "database": "ok"}
    assert (await client.get("/errors/openapi.json")).status_code == 200
    assert (await client.get("/errors/docs")).status_code == 200
    folded = await client.post(
        f"http://testserver/errors//api//{project.id}//envelope",
        content=error_envelope(),
        headers=auth,
    )
    assert folded.status_code == 200, folded.text
    unprefixed = await client.post(
        f"/api/{project.id}/envelope/", content=error_envelope(), headers=auth
    )
    assert unprefixed.status_code == 404


async def test_lifespan_exit_closes_the_core(tmp_path: Path) -> None:
    """Leaving the host's lifespan closes Resentry; requests then answer 503, not a crash."""
    settings = settings_for(tmp_path, database_url="memory://", secret_key="k" * 40)
    app = build_host(settings)
    async with app.router.lifespan_context(app):
        assert mounted_core(app) is not None
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/errors/health/")
    assert response.status_code == 503
    assert "not open" in response.json()["detail"]


async def test_mounted_without_the_lifespan_answers_503(tmp_path: Path) -> None:
    """A host that forgets to compose the lifespan gets a 503 that says what to do."""
    settings = settings_for(tmp_path, database_url="memory://", secret_key="k" * 40)
    careless = FastAPI()
    careless.mount("/errors", create_app(settings))
    transport = httpx.ASGITransport(app=careless)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post("/errors/api/1/envelope/", content=b"{}")
    assert response.status_code == 503
    assert "lifespan" in response.json()["detail"]


def test_real_sentry_sdk_through_the_mounted_app(start_live_server: StartLiveServer) -> None:
    """sentry_sdk with the DSN the mounted app hands out stores its event through the host."""
    server = start_live_server(
        argv=[sys.executable, str(ROOT / "examples" / "mount_in_fastapi.py")],
        prefix="/errors",
        RESENTRY_PUBLIC_URL="",  # DSNs come from the request: scheme, host, port and prefix
    )
    server.create_user("admin", ADMIN_PASSWORD, admin=True)
    headers = server.login("admin", ADMIN_PASSWORD)
    created = httpx.post(
        f"{server.base_url}/api/v1/projects/", json={"name": "Shop"}, headers=headers, timeout=30
    )
    assert created.status_code == 201, created.text
    project = created.json()
    dsn = project["keys"][0]["dsn"]
    assert dsn.endswith(f"@{server.base_url.split('://', 1)[1]}/{project['id']}")
    with sentry_sdk_client(dsn):
        prices: dict[str, int] = {}
        try:
            prices["missing"]  # a real KeyError with a real traceback
        except KeyError:
            event_id = sentry_sdk.capture_exception()
        sentry_sdk.flush(timeout=10)
    assert event_id is not None
    detail = httpx.get(
        f"{server.base_url}/api/v1/projects/{project['id']}/events/{event_id}",
        headers=headers,
        timeout=30,
    )
    assert detail.status_code == 200, detail.text
    assert detail.json()["payload"]["exception"]["values"][0]["type"] == "KeyError"


async def test_configured_public_url_wins_over_the_request(core: Resentry, tmp_path: Path) -> None:
    """With RESENTRY_PUBLIC_URL set, DSNs use it whatever host the request came through."""
    app = create_app(settings_for(tmp_path, public_url="https://errors.example.com/s/"), core=core)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://internal:8000") as http,
    ):
        headers = await _admin_headers(http, core, prefix="")
        created = await http.post("/api/v1/projects/", json={"name": "Public"}, headers=headers)
    assert created.status_code == 201, created.text
    key = created.json()["keys"][0]
    assert key["dsn"] == f"https://{key['public_key']}@errors.example.com/s/{created.json()['id']}"
