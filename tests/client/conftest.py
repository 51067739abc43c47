"""Client fixtures: both clients against the real app in-process.

``api`` is parametrized over the two clients, so every contract test runs with ``Client`` and
with ``AsyncClient``: ``await api(lambda c: c.projects.list())`` runs the lambda with the
client under test (the sync one in a worker thread, whose requests reach the app in the test's
event loop through :class:`SyncASGITransport`). ``admin_api`` is logged in as ``admin``.
"""

import inspect
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import httpx
import pytest
from fastapi import FastAPI

from resentry_client import AsyncClient, Client, RetryPolicy
from tests.server import conftest as server
from tests.server.conftest import ADMIN_PASSWORD

# The server tests' fixtures: a core on a fresh SQLite file, the app, an HTTP client of it,
# a project with one key, an admin.
core_config = server.core_config
core = server.core
app = server.app
client = server.client  # an httpx.AsyncClient of the app, to ingest with
project = server.project
admin = server.admin

BASE_URL = "http://testserver"
FAST_RETRIES = RetryPolicy(max_retries=2, backoff_seconds=0.01, max_backoff_seconds=0.02)


class SyncASGITransport(httpx.BaseTransport):
    """A blocking transport into an ASGI app served by the event loop that started this
    worker thread (``anyio.to_thread``); the answer's raw bytes are passed on unchanged."""

    def __init__(self, app: FastAPI) -> None:
        self._async = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._async.handle_async_request(request)
            raw = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
            return httpx.Response(
                response.status_code, headers=response.headers, stream=httpx.ByteStream(raw)
            )

        return anyio.from_thread.run(send)


class Api:
    """The client under test, and how to run code with it from an async test."""

    def __init__(self, client: Client | AsyncClient) -> None:
        self.client = client
        self.is_async = isinstance(client, AsyncClient)

    async def __call__(self, use: Callable[[Any], Any]) -> Any:
        """``use(client)``: awaited for the async client, in a worker thread for the sync one."""
        if not self.is_async:
            return await anyio.to_thread.run_sync(use, self.client)
        result = use(self.client)
        return await result if inspect.isawaitable(result) else result

    async def collect(self, use: Callable[[Any], Any]) -> list[Any]:
        """Every item of the lazy list ``use(client)`` returns."""
        if not self.is_async:
            return await anyio.to_thread.run_sync(lambda c: list(use(c)), self.client)
        return [item async for item in use(self.client)]


def make_client(
    kind: str, app: FastAPI, transport: httpx.BaseTransport | None = None, **options: Any
) -> Client | AsyncClient:
    """A ``kind`` ("sync" or "async") client of ``app``; ``transport`` wraps the app's own."""
    options.setdefault("retry", FAST_RETRIES)
    if kind == "sync":
        http = httpx.Client(transport=transport or SyncASGITransport(app))
        return Client(BASE_URL, http_client=http, **options)
    async_transport = transport or httpx.ASGITransport(app=app)
    assert isinstance(async_transport, httpx.AsyncBaseTransport)
    http_async = httpx.AsyncClient(transport=async_transport)
    return AsyncClient(BASE_URL, http_client=http_async, **options)


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No stored login or ``RESENTRY_*`` client settings leak in from the machine."""
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.delenv("RESENTRY_URL", raising=False)
    monkeypatch.delenv("RESENTRY_TOKEN", raising=False)
    return config


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    """Which client a test builds itself (each such test runs with both)."""
    return str(request.param)


@pytest.fixture(params=["sync", "async"])
async def api(request: pytest.FixtureRequest, app: FastAPI) -> AsyncIterator[Api]:
    """The client under test (each test runs with both), not logged in."""
    under_test = make_client(request.param, app)
    yield Api(under_test)
    await close(under_test)


async def close(client: Client | AsyncClient) -> None:
    """Close a client and the HTTP client it was given."""
    if isinstance(client, AsyncClient):
        await client._http.aclose()
    else:
        client._http.close()


@pytest.fixture
async def admin_api(api: Api, admin: Any) -> Api:
    """``api`` logged in as the admin."""
    await api(lambda c: c.login("admin", ADMIN_PASSWORD))
    return api
