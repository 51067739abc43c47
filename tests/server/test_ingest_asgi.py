"""The ingestion routes as the ASGI handler in front of FastAPI serves them.

What an HTTP client library does not send is driven through raw ASGI messages: a malformed
``Content-Length``, a client that goes away mid-body, bodies cut into many chunks. The rest
goes through httpx: methods the routes do not serve, CORS on every refusal, the core not being
open, a mount prefix, and the routes' description in the OpenAPI schema.
"""

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Message

from resentry_core._config import CoreConfig
from resentry_core._limits import KiB, Limits
from resentry_core._models import Project
from resentry_core._resentry import Resentry
from resentry_core._storage._protocol import EventFilter
from resentry_server._app import create_app
from tests.factories import error_envelope, message_event
from tests.server.conftest import settings_for
from tests.server.test_ingest_api import envelope_url, key_of, sentry_auth, stored_count

MAX_REQUEST_BYTES = 64 * KiB
ORIGIN = "https://shop.example.com"


@pytest.fixture
def core_config(core_config: CoreConfig) -> CoreConfig:
    """The server tests' core with 64 KiB request bodies."""
    return replace(core_config, limits=Limits(max_request_bytes=MAX_REQUEST_BYTES))


@dataclass
class Answer:
    """What the app sent for one raw ASGI request, and how many body messages it pulled."""

    status: int
    headers: dict[str, str]
    body: bytes
    pulled: int

    def json(self) -> object:
        """The body as JSON."""
        return orjson.loads(self.body)


async def call(
    app: ASGIApp, path: str, headers: dict[str, str], messages: Sequence[Message]
) -> Answer:
    """POST ``path`` with ``headers``; ``receive`` hands out ``messages``, then a disconnect."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    pending = list(messages)
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, body = sent
    answer_headers = {name.decode(): value.decode() for name, value in start["headers"]}
    assert int(answer_headers["content-length"]) == len(body["body"])
    return Answer(start["status"], answer_headers, body["body"], pulled)


def chunks(data: bytes, size: int) -> list[Message]:
    """``data`` as ``http.request`` messages of ``size`` bytes, the last one without more_body."""
    parts = [data[start : start + size] for start in range(0, len(data), size)] or [b""]
    return [
        {"type": "http.request", "body": part, "more_body": index < len(parts) - 1}
        for index, part in enumerate(parts)
    ]


def assert_ingest_cors(headers: httpx.Headers | dict[str, str], origin: str = ORIGIN) -> None:
    """The headers a browser SDK needs to read an ingestion answer."""
    assert headers["access-control-allow-origin"] == origin
    assert "x-sentry-rate-limits" in headers["access-control-expose-headers"]
    assert headers["cross-origin-resource-policy"] == "cross-origin"


async def test_body_in_many_chunks_is_put_back_together(
    app: FastAPI, core: Resentry, project: Project
) -> None:
    """A body sent in 100-byte messages (and one ending in an empty message) is stored whole."""
    for trailer in ([], [{"type": "http.request", "body": b"", "more_body": False}]):
        event_id = uuid.uuid4().hex
        messages = chunks(error_envelope(event_id), 100)
        if trailer:
            messages[-1] = {**messages[-1], "more_body": True}
        headers = {"X-Sentry-Auth": sentry_auth(key_of(project)), "Origin": ORIGIN}
        answer = await call(app, envelope_url(project.id), headers, [*messages, *trailer])
        assert answer.status == 200, answer.body
        assert answer.json() == {"id": event_id}
        assert answer.headers["content-type"] == "application/json"
        assert_ingest_cors(answer.headers)
        assert (await core.storage.get_event(project.id, event_id)).event.event_id == event_id


@pytest.mark.parametrize("declared", ["12abc", "", "0x10"])
async def test_malformed_content_length_is_400_before_reading(
    app: FastAPI, core: Resentry, project: Project, declared: str
) -> None:
    """A Content-Length that is not a number: 400 naming it, with CORS, the body never read."""
    headers = {
        "X-Sentry-Auth": sentry_auth(key_of(project)),
        "Content-Length": declared,
        "Origin": ORIGIN,
    }
    answer = await call(app, envelope_url(project.id), headers, chunks(error_envelope(), 4096))
    assert answer.status == 400
    detail = answer.json()
    assert isinstance(detail, dict)
    assert "Content-Length" in detail["detail"]
    assert answer.headers["x-sentry-error"]
    assert_ingest_cors(answer.headers)
    assert answer.pulled == 0
    assert await stored_count(core) == 0


async def test_client_going_away_mid_body_is_400_and_stores_nothing(
    app: FastAPI, core: Resentry, project: Project
) -> None:
    """A disconnect before the last body message: 400, nothing stored, nothing more read."""
    body = error_envelope()
    first = {"type": "http.request", "body": body[:100], "more_body": True}
    headers = {"X-Sentry-Auth": sentry_auth(key_of(project))}
    answer = await call(app, envelope_url(project.id), headers, [first])
    assert answer.status == 400
    detail = answer.json()
    assert isinstance(detail, dict)
    assert "disconnected" in detail["detail"]
    assert answer.pulled == 2
    assert await stored_count(core) == 0


async def test_chunked_body_stops_being_read_once_over_the_cap(
    app: FastAPI, core: Resentry, project: Project
) -> None:
    """Without Content-Length, reading stops at the first message past the cap: 413."""
    size = 4 * KiB
    messages = chunks(error_envelope() + b"\n" * (4 * MAX_REQUEST_BYTES), size)
    headers = {"X-Sentry-Auth": sentry_auth(key_of(project)), "Origin": ORIGIN}
    answer = await call(app, envelope_url(project.id), headers, messages)
    assert answer.status == 413
    assert_ingest_cors(answer.headers)
    assert answer.pulled == MAX_REQUEST_BYTES // size + 1
    assert await stored_count(core) == 0


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/{id}/envelope/", "POST, OPTIONS"),
        ("GET", "/api/{id}/envelope/", "POST, OPTIONS"),
        ("DELETE", "/api/v1/{id}/envelope", "POST, OPTIONS"),
        ("HEAD", "/api/{id}/store/", "GET, POST, OPTIONS"),
        ("PATCH", "/api/{id}/store/", "GET, POST, OPTIONS"),
    ],
)
async def test_other_methods_are_405_with_allow_and_cors(
    client: httpx.AsyncClient, core: Resentry, project: Project, method: str, path: str, allow: str
) -> None:
    """Methods an ingestion route does not serve: 405, its Allow header, CORS, nothing stored."""
    response = await client.request(
        method, path.format(id=project.id), content=error_envelope(), headers={"Origin": ORIGIN}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["x-sentry-error"] == "Method Not Allowed"
    assert_ingest_cors(response.headers)
    if method != "HEAD":
        assert response.json() == {"detail": "Method Not Allowed"}
    assert await stored_count(core) == 0


@pytest.mark.parametrize("path", ["/api/v1/{id}/store/", "/api/{id}/envelope/x", "/api/{id}/"])
async def test_paths_next_to_the_routes_are_404(
    client: httpx.AsyncClient, project: Project, path: str
) -> None:
    """There is no /api/v1/{id}/store/ alias; longer or shorter paths are not routes either."""
    response = await client.post(path.format(id=project.id), content=error_envelope())
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize("project_id", ["+1", "1.0", "\u0661", " 1"])
async def test_project_id_is_plain_ascii_digits(
    client: httpx.AsyncClient, core: Resentry, project: Project, project_id: str
) -> None:
    """Signs, decimals, other scripts' digits and spaces are not project ids: 400."""
    response = await client.post(
        envelope_url(project_id),
        content=error_envelope(),
        headers={"X-Sentry-Auth": sentry_auth(key_of(project))},
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "bad project path parameter"}
    assert await stored_count(core) == 0


async def test_without_an_open_core_posts_are_503_and_preflights_still_answer(
    tmp_path: Path,
) -> None:
    """Before the lifespan ran, a POST is a 503 with CORS; a preflight needs no core: 200."""
    app = create_app(settings_for(tmp_path, database_url="memory://", secret_key="k" * 40))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        refused = await http.post("/api/1/envelope/", content=b"{}", headers={"Origin": ORIGIN})
        preflight = await http.options(
            "/api/1/envelope/",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        )
    assert refused.status_code == 503
    assert "lifespan" in refused.json()["detail"]
    assert refused.headers["x-sentry-error"]
    assert_ingest_cors(refused.headers)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-methods"] == "POST"
    assert_ingest_cors(preflight.headers)


@pytest.fixture
async def mounted(core: Resentry, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A host app with Resentry (on ``core``) under ``/errors``, lifespan composed."""
    resentry = create_app(settings_for(tmp_path), core=core)
    host = FastAPI()
    host.mount("/errors", resentry)
    transport = httpx.ASGITransport(app=host)
    async with (
        resentry.router.lifespan_context(resentry),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        yield http


async def test_every_ingestion_route_works_under_a_mount_prefix(
    mounted: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Under /errors: envelope (and its alias), store by POST and GET, preflight, 405, 400."""
    auth = {"X-Sentry-Auth": sentry_auth(key_of(project)), "Origin": ORIGIN}
    prefix = f"/errors/api/{project.id}"
    for path in (f"{prefix}/envelope/", f"/errors/api/v1/{project.id}/envelope"):
        event_id = uuid.uuid4().hex
        response = await mounted.post(path, content=error_envelope(event_id), headers=auth)
        assert response.status_code == 200, response.text
        assert response.json() == {"id": event_id}
        assert_ingest_cors(response.headers)
    event = {**message_event("stored"), "event_id": uuid.uuid4().hex}
    stored = await mounted.post(f"{prefix}/store/", content=orjson.dumps(event), headers=auth)
    assert stored.json() == {"id": event["event_id"]}
    pixel_event = orjson.dumps(message_event("pixel")).decode()
    pixel = await mounted.get(
        f"{prefix}/store", params={"sentry_data": pixel_event, "sentry_key": key_of(project)}
    )
    assert pixel.headers["content-type"] == "image/gif"
    preflight = await mounted.options(
        f"{prefix}/store/", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 200
    assert (await mounted.put(f"{prefix}/envelope/", content=b"")).status_code == 405
    bad_id = await mounted.post("/errors/api/x/envelope/", content=b"", headers=auth)
    assert bad_id.json() == {"detail": "bad project path parameter"}
    assert len((await core.storage.list_events(EventFilter())).items) == 4


async def test_openapi_schema_documents_the_ingestion_routes(
    mounted: httpx.AsyncClient,
) -> None:
    """The schema (here of a mounted app) has the ingestion operations, preflights left out."""
    schema = (await mounted.get("/errors/openapi.json")).json()
    operations = {
        path: sorted(schema["paths"][path])
        for path in schema["paths"]
        if path.endswith(("/envelope/", "/store/"))
    }
    assert operations == {
        "/api/{project_id}/envelope/": ["post"],
        "/api/v1/{project_id}/envelope/": ["post"],
        "/api/{project_id}/store/": ["get", "post"],
    }
    envelope = schema["paths"]["/api/{project_id}/envelope/"]["post"]
    assert envelope["tags"] == ["ingestion"]
    assert envelope["parameters"][0]["schema"]["maximum"] == 2**63 - 1
    assert set(envelope["requestBody"]["content"]) == {"application/x-sentry-envelope"}
    assert {"200", "400", "401", "403", "413", "415", "429"} <= set(envelope["responses"])
    assert schema["servers"] == [{"url": "/errors"}]
