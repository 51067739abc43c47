"""Both clients: every error class, token refresh, retries, timeouts and lazy pagination."""

import socket
import time
from collections.abc import Iterator, Sequence
from typing import Any

import anyio
import anyio.from_thread
import httpx
import pytest
from fastapi import FastAPI

from resentry_client import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
)
from resentry_core._models import Project
from resentry_core._resentry import Resentry
from tests.client.conftest import (
    BASE_URL,
    Api,
    SyncASGITransport,
    close,
    make_client,
)
from tests.server.api_helpers import send_error
from tests.server.conftest import ADMIN_PASSWORD, free_port

Action = httpx.Response | Exception | None


class Scripted(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answers requests from a script (a response, or an exception to raise), then passes
    them on to the app; records every request."""

    def __init__(self, app: FastAPI, script: Sequence[Action] = ()) -> None:
        self._sync = SyncASGITransport(app)
        self._async = httpx.ASGITransport(app=app)
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def _next(self, request: httpx.Request) -> httpx.Response | None:
        self.requests.append(request)
        action = self.script.pop(0) if self.script else None
        if isinstance(action, Exception):
            raise action
        return action

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._next(request) or self._sync.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._next(request) or await self._async.handle_async_request(request)

    @property
    def paths(self) -> list[str]:
        """The method and path of every request so far."""
        return [f"{r.method} {r.url.path}" for r in self.requests]


async def scripted_api(
    kind: str, app: FastAPI, script: Sequence[Action] = (), **options: Any
) -> tuple[Api, Scripted]:
    """A client of ``kind`` whose requests go through a :class:`Scripted` transport."""
    transport = Scripted(app, script)
    return Api(make_client(kind, app, transport, **options)), transport


async def logged_in(
    kind: str, app: FastAPI, script: Sequence[Action] = (), **options: Any
) -> tuple[Api, Scripted]:
    """:func:`scripted_api`, logged in as the admin (the script starts after the login)."""
    api, transport = await scripted_api(kind, app, **options)
    await api(lambda c: c.login("admin", ADMIN_PASSWORD))
    transport.script, transport.requests = list(script), []
    return api, transport


def answer(status: int, body: Any = None, **headers: str) -> httpx.Response:
    """A canned answer."""
    return httpx.Response(
        status, json=body if body is not None else {"detail": "x"}, headers=headers
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (418, APIStatusError),
        (500, InternalServerError),
        (502, InternalServerError),
    ],
)
async def test_status_errors(
    kind: str, app: FastAPI, admin: object, status: int, error: type[APIStatusError]
) -> None:
    """Statuses without a route that answers them here map to their classes; a non-JSON
    error body becomes the detail text."""
    api, _ = await logged_in(
        kind,
        app,
        [httpx.Response(status, text="<html>oops</html>")],
        retry=RetryPolicy(max_retries=0),
    )
    with pytest.raises(error) as caught:
        await api(lambda c: c.projects.get(1))
    assert type(caught.value) is error
    assert (caught.value.status_code, caught.value.detail) == (status, "<html>oops</html>")
    assert caught.value.url == f"{BASE_URL}/api/v1/projects/1"
    await close(api.client)


async def test_login_lockout_is_rate_limited_with_retry_after(api: Api, admin: object) -> None:
    """After too many wrong passwords the server answers 429; the client raises
    ``RateLimitError`` with ``retry_after`` at once (the wait is longer than worth waiting)."""
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            await api(lambda c: c.login("admin", "wrong"))
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        await api(lambda c: c.login("admin", ADMIN_PASSWORD))
    assert caught.value.status_code == 429
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 300
    assert time.monotonic() - started < 5


async def test_a_body_of_the_wrong_shape_is_a_validation_error(
    kind: str, app: FastAPI, admin: object
) -> None:
    """An answer that is not what the API documents raises ``APIResponseValidationError``
    naming the field, not an AttributeError later."""
    bad_page = answer(200, {"items": [{"id": "1"}], "next_cursor": None})
    not_json = httpx.Response(200, text="<html>", headers={"content-type": "text/html"})
    api, _ = await logged_in(kind, app, [bad_page, not_json])
    with pytest.raises(APIResponseValidationError, match=r"body\.items\[0\]\.id: expected int"):
        await api.collect(lambda c: c.projects.list())
    with pytest.raises(APIResponseValidationError, match="unexpected answer"):
        await api(lambda c: c.me())
    await close(api.client)


async def test_expired_access_token_is_refreshed_once(
    kind: str, app: FastAPI, core: Resentry, admin: object
) -> None:
    """On 401 the client exchanges its refresh token once, keeps the new pair and repeats
    the request; if that fails too, the 401 is raised."""
    tokens = await core.accounts.login("admin", ADMIN_PASSWORD)
    api, transport = await scripted_api(
        kind, app, token="not-a-token", refresh_token=tokens.refresh_token
    )
    me = await api(lambda c: c.me())
    assert me.username == "admin"
    assert transport.paths == [
        "GET /api/v1/auth/me",
        "POST /api/v1/auth/refresh_token",
        "GET /api/v1/auth/me",
    ]
    assert api.client.access_token not in (None, "not-a-token")
    await close(api.client)

    api, transport = await scripted_api(kind, app, token="not-a-token", refresh_token="nor-this")
    with pytest.raises(AuthenticationError):
        await api(lambda c: c.me())
    assert transport.paths == ["GET /api/v1/auth/me", "POST /api/v1/auth/refresh_token"]
    await close(api.client)


async def test_connection_errors_are_retried_then_succeed(
    kind: str, app: FastAPI, admin: object
) -> None:
    """Connection failures are retried with backoff for any method (the request was never
    sent), and the call succeeds when the server comes back."""
    refused = [httpx.ConnectError("refused"), httpx.ConnectError("refused")]
    api, transport = await logged_in(kind, app, refused)
    project = await api(lambda c: c.projects.create("shop"))
    assert project.slug == "shop"
    assert transport.paths == ["POST /api/v1/projects/"] * 3
    await close(api.client)


async def test_retries_only_idempotent_requests_on_5xx_and_read_errors(
    kind: str, app: FastAPI, admin: object
) -> None:
    """503 and a dropped connection are retried for GET and PUT, never for POST."""
    api, transport = await logged_in(
        kind,
        app,
        [answer(503, **{"Retry-After": "0"}), httpx.ReadError("reset"), answer(504)],
        retry=RetryPolicy(max_retries=3, backoff_seconds=0.01),
    )
    assert await api(lambda c: c.health())
    assert transport.paths == ["GET /health/"] * 4
    transport.script, transport.requests = [answer(503)], []
    with pytest.raises(InternalServerError):
        await api(lambda c: c.projects.create("shop"))
    transport.script, transport.requests = [httpx.ReadError("reset")], []
    with pytest.raises(APIConnectionError, match="reset"):
        await api(lambda c: c.projects.create("shop"))
    assert transport.paths == ["POST /api/v1/projects/"]
    await close(api.client)


async def test_retry_after_is_honoured_and_retries_are_bounded(
    kind: str, app: FastAPI, admin: object
) -> None:
    """429 waits ``Retry-After`` then retries (any method); too long a wait, or too many
    failures, raise."""
    api, transport = await logged_in(kind, app, [answer(429, **{"Retry-After": "0.3"})])
    started = time.monotonic()
    await api(lambda c: c.projects.create("shop"))
    assert time.monotonic() - started >= 0.3
    assert len(transport.requests) == 2
    transport.script, transport.requests = [answer(429, **{"Retry-After": "3600"})], []
    with pytest.raises(RateLimitError) as caught:
        await api(lambda c: c.projects.create("other"))
    assert caught.value.retry_after == 3600
    transport.script, transport.requests = [answer(502)] * 5, []
    with pytest.raises(InternalServerError):
        await api(lambda c: c.projects.get(1))
    assert len(transport.requests) == 3  # the first try and max_retries=2
    await close(api.client)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def real_client(kind: str, url: str, **options: Any) -> Client | AsyncClient:
    """A client with its own httpx client (real sockets)."""
    options.setdefault("retry", RetryPolicy(max_retries=1, backoff_seconds=0.01))
    return (Client if kind == "sync" else AsyncClient)(url, token="t", **options)


async def test_timeouts_and_refused_connections(kind: str, silent_port: int) -> None:
    """A server that does not answer raises ``APITimeoutError`` after the timeout; a closed
    port raises ``APIConnectionError``; both name the request."""
    silent = Api(real_client(kind, f"http://127.0.0.1:{silent_port}", timeout=0.2))
    started = time.monotonic()
    with pytest.raises(APITimeoutError) as caught:
        await silent(lambda c: c.projects.get(1))
    assert time.monotonic() - started < 5
    assert (caught.value.method, caught.value.url) == (
        "GET",
        f"http://127.0.0.1:{silent_port}/api/v1/projects/1",
    )
    closed = Api(real_client(kind, f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(APIConnectionError) as refused:
        await closed(lambda c: c.health())
    assert not isinstance(refused.value, APITimeoutError)
    assert "GET http://127.0.0.1:" in str(refused.value)


async def test_lists_are_lazy_and_consistent_while_events_arrive(
    kind: str, app: FastAPI, admin: object, client: httpx.AsyncClient, project: Project
) -> None:
    """A list fetches one page at a time, as iteration needs it, and walks every event that
    existed when it started exactly once while new events arrive; ``max_items`` stops it
    and shrinks the last page."""
    old = [await send_error(client, project) for _ in range(7)]
    api, transport = await logged_in(kind, app)
    pid = project.id
    seen: list[str] = []
    pages_when: list[int] = []

    def note(event_id: str) -> bool:
        seen.append(event_id)
        pages_when.append(len(transport.requests))
        return len(seen) in (1, 4)  # then new events arrive

    if kind == "sync":

        def walk(c: Any) -> None:
            for event in c.events.list(pid, limit=3):
                if note(event.event_id):
                    anyio.from_thread.run(send_error, client, project)

        await anyio.to_thread.run_sync(walk, api.client)
    else:
        assert isinstance(api.client, AsyncClient)
        async for event in api.client.events.list(pid, limit=3):
            if note(event.event_id):
                await send_error(client, project)
    assert seen == old[::-1]
    assert pages_when == [1, 1, 1, 2, 2, 2, 3]
    assert all(r.url.params["limit"] == "3" for r in transport.requests)

    transport.requests = []
    first_five = await api.collect(lambda c: c.events.list(pid, limit=3, max_items=5))
    assert len(first_five) == 5
    assert [r.url.params["limit"] for r in transport.requests] == ["3", "2"]
    pages = await api.collect(lambda c: c.events.list(pid, limit=4).pages())
    assert [len(p.items) for p in pages] == [4, 4, 1]
    assert pages[-1].next_cursor is None
    assert await api.collect(lambda c: c.events.list(pid, max_items=0)) == []
    await close(api.client)


async def test_concurrent_401s_refresh_once(app: FastAPI, core: Resentry, admin: object) -> None:
    """Requests refused together spend the refresh token once (a second use would end every
    token of the user, with single-use refresh tokens); the others reuse the new pair."""
    tokens = await core.accounts.login("admin", ADMIN_PASSWORD)
    api, transport = await scripted_api(
        "async", app, token="not-a-token", refresh_token=tokens.refresh_token
    )
    assert isinstance(api.client, AsyncClient)
    names: list[str] = []

    async def whoami(client: AsyncClient) -> None:
        names.append((await client.me()).username)

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(whoami, api.client)
    assert names == ["admin"] * 5
    assert transport.paths.count("POST /api/v1/auth/refresh_token") == 1
    await close(api.client)
