"""The Sentry ingestion routes over HTTP, in-process, as ``docs/ingest_routes.md`` describes them.

Every refusal is checked twice: the status and ``{"detail": ...}`` body, and that nothing at all
was stored. Limits are small here (see ``core_config``) so that size cases stay fast.
"""

import base64
import gzip
import secrets
import tracemalloc
import uuid
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import brotli
import httpx
import orjson
import pytest
import zstandard
from fastapi import FastAPI

from resentry_core import IngestRequest, IngestResult
from resentry_core._config import CoreConfig
from resentry_core._errors import NotFoundError, StorageError
from resentry_core._limits import KiB, Limits, MiB
from resentry_core._models import Project
from resentry_core._resentry import Resentry
from resentry_core._storage._protocol import EventFilter
from resentry_server._app import create_app
from tests.factories import envelope, error_envelope, error_event, item, message_event
from tests.server.conftest import settings_for

MAX_REQUEST_BYTES = 256 * KiB
MAX_ENVELOPE_BYTES = 1 * MiB
MAX_EVENT_BYTES = 64 * KiB
SDK_CLIENT = "sentry.python/2.19.0"


@pytest.fixture
def core_config(core_config: CoreConfig) -> CoreConfig:
    """The server tests' core with small limits: 256 KiB bodies, 1 MiB decompressed, 64 KiB
    events."""
    limits = Limits(
        max_request_bytes=MAX_REQUEST_BYTES,
        max_envelope_bytes=MAX_ENVELOPE_BYTES,
        max_event_bytes=MAX_EVENT_BYTES,
    )
    return replace(core_config, limits=limits)


def sentry_auth(key: str, *, version: str = "7") -> str:
    """An ``X-Sentry-Auth`` value as sentry-python sends it."""
    return f"Sentry sentry_key={key}, sentry_version={version}, sentry_client={SDK_CLIENT}"


def key_of(project: Project) -> str:
    """The project's (first) public key."""
    return project.keys[0].public_key


def envelope_url(project_id: int | str) -> str:
    """The envelope endpoint, as SDKs derive it from the DSN."""
    return f"/api/{project_id}/envelope/"


async def post_envelope(
    client: httpx.AsyncClient,
    project: Project,
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    url: str | None = None,
) -> httpx.Response:
    """POST an envelope; the project's key goes in ``X-Sentry-Auth`` unless headers are given."""
    all_headers = {"X-Sentry-Auth": sentry_auth(key_of(project))} if headers is None else headers
    url = url or envelope_url(project.id)
    if url.startswith("//"):  # a relative "//api/..." would name a host called "api"
        url = f"{client.base_url}".rstrip("/") + url
    return await client.post(url, content=body, headers=all_headers)


async def stored_count(core: Resentry) -> int:
    """Events plus items plus envelopes stored in any project."""
    total = len((await core.storage.list_events(EventFilter(), limit=500)).items)
    for project in await core.storage.list_projects():
        total += len((await core.storage.list_items(project.id, limit=500)).items)
        for envelope_id in range(1, 4):
            try:
                await core.storage.get_envelope(project.id, envelope_id)
            except NotFoundError:
                continue
            total += 1
    return total


async def assert_refused(
    core: Resentry, response: httpx.Response, status: int, detail: str | None = None
) -> None:
    """The answer is ``status`` with a JSON ``detail``, and nothing was stored."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if detail is not None:
        assert detail in body["detail"]
    assert response.headers["x-sentry-error"]
    assert await stored_count(core) == 0


async def test_envelope_is_stored_and_answered_with_its_event_id(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """A valid envelope answers 200 ``{"id": <event id>}`` after the event is stored."""
    event_id = uuid.uuid4().hex
    response = await post_envelope(client, project, error_envelope(event_id))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"id": event_id}
    detail = await core.storage.get_event(project.id, event_id)
    assert detail.event.type == "error"
    assert detail.event.issue_id is not None


async def test_envelope_without_event_id_answers_empty_object(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """An envelope with no event (a session update) answers 200 ``{}`` and stores its item."""
    session = {
        "sid": uuid.uuid4().hex,
        "status": "ok",
        "started": "2026-11-26T03:00:00Z",
        "timestamp": "2026-11-26T03:00:01Z",
        "attrs": {"release": "shop@1.0.0", "environment": "production"},
    }
    response = await post_envelope(client, project, envelope([item("session", session)]))
    assert response.status_code == 200
    assert response.json() == {}
    items = await core.storage.list_items(project.id, type="session")
    assert len(items.items) == 1


AUTH_SOURCES: dict[str, Callable[[str, int], tuple[dict[str, str], str, dict[str, Any]]]] = {
    "x-sentry-auth": lambda key, pid: ({"X-Sentry-Auth": sentry_auth(key)}, "", {}),
    "authorization": lambda key, pid: ({"Authorization": sentry_auth(key)}, "", {}),
    "query": lambda key, pid: ({}, f"?sentry_version=7&sentry_key={key}&sentry_client=js", {}),
    "envelope-dsn": lambda key, pid: ({}, "", {"dsn": f"http://{key}@testserver/{pid}"}),
}


@pytest.mark.parametrize("source", sorted(AUTH_SOURCES))
async def test_every_auth_source_is_accepted(
    client: httpx.AsyncClient, core: Resentry, project: Project, source: str
) -> None:
    """The key is accepted from X-Sentry-Auth, Authorization: Sentry, the query or envelope dsn."""
    headers, query, envelope_headers = AUTH_SOURCES[source](key_of(project), project.id)
    event_id = uuid.uuid4().hex
    body = envelope([item("event", error_event())], event_id=event_id, **envelope_headers)
    response = await post_envelope(
        client, project, body, headers=headers, url=envelope_url(project.id) + query
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"id": event_id}
    assert (await core.storage.get_event(project.id, event_id)).event.event_id == event_id


async def test_same_key_from_several_sources_is_accepted(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """The same key in the header, the query and the envelope dsn is one key, not a conflict."""
    key = key_of(project)
    event_id = uuid.uuid4().hex
    body = envelope(
        [item("event", error_event())],
        event_id=event_id,
        dsn=f"http://{key}@testserver/{project.id}",
    )
    response = await post_envelope(
        client,
        project,
        body,
        url=f"{envelope_url(project.id)}?sentry_key={key}&sentry_version=7",
    )
    assert response.status_code == 200, response.text
    assert len((await core.storage.list_events(EventFilter())).items) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/{id}/envelope/",
        "/api/{id}/envelope",
        "//api//{id}//envelope//",
        "/api//{id}/envelope",
        "/api/v1/{id}/envelope/",
        "/api/v1/{id}/envelope",
    ],
)
async def test_path_variants_reach_the_envelope_route(
    client: httpx.AsyncClient, core: Resentry, project: Project, path: str
) -> None:
    """With or without the trailing slash, with duplicate slashes, and the /api/v1 alias: 200."""
    event_id = uuid.uuid4().hex
    response = await post_envelope(
        client, project, error_envelope(event_id), url=path.format(id=project.id)
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"id": event_id}
    assert (await core.storage.get_event(project.id, event_id)).event.event_id == event_id


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data)


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


ENCODINGS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip", _gzip),
    "GZIP": ("GZIP", _gzip),
    "x-gzip": ("x-gzip", _gzip),
    "deflate-zlib": ("deflate", zlib.compress),
    "deflate-raw": ("deflate", _raw_deflate),
    "br": ("br", brotli.compress),
    "zstd": ("zstd", lambda data: zstandard.ZstdCompressor().compress(data)),
    "empty-label": ("", lambda data: data),
    "utf-8-label": ("UTF-8", lambda data: data),
}


@pytest.mark.parametrize("name", sorted(ENCODINGS))
async def test_compressed_bodies_are_decoded(
    client: httpx.AsyncClient, core: Resentry, project: Project, name: str
) -> None:
    """gzip, deflate (zlib and raw), br and zstd bodies are decoded; "" and UTF-8 mean identity."""
    label, encode = ENCODINGS[name]
    event_id = uuid.uuid4().hex
    headers = {"X-Sentry-Auth": sentry_auth(key_of(project)), "Content-Encoding": label}
    response = await post_envelope(
        client, project, encode(error_envelope(event_id)), headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"id": event_id}
    stored = await core.storage.get_event(project.id, event_id)
    assert orjson.loads(stored.payload)["exception"]["values"][0]["type"] == "ValueError"


async def test_store_endpoint_accepts_plain_base64_and_base64_zlib_json(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """/store/ accepts event JSON as is, base64(JSON) and base64(zlib(JSON)) (raven-era SDKs)."""
    forms: dict[str, Callable[[bytes], bytes]] = {
        "plain": lambda data: data,
        "base64": base64.b64encode,
        "base64-zlib": lambda data: base64.b64encode(zlib.compress(data)),
    }
    for form, encode in forms.items():
        event_id = uuid.uuid4().hex
        event = {**message_event(f"legacy {form}"), "event_id": event_id}
        response = await client.post(
            f"/api/{project.id}/store/",
            content=encode(orjson.dumps(event)),
            headers={"X-Sentry-Auth": sentry_auth(key_of(project))},
        )
        assert response.status_code == 200, (form, response.text)
        assert response.json() == {"id": event_id}
        stored = await core.storage.get_event(project.id, event_id)
        assert stored.event.message == f"legacy {form}"


async def test_store_endpoint_without_trailing_slash_and_with_envelope_content_type(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """/store (no slash) with Content-Type application/x-sentry-envelope is read as an envelope."""
    event_id = uuid.uuid4().hex
    response = await client.post(
        f"/api/{project.id}/store",
        content=error_envelope(event_id),
        headers={
            "X-Sentry-Auth": sentry_auth(key_of(project)),
            "Content-Type": "application/x-sentry-envelope",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"id": event_id}
    assert (await core.storage.get_event(project.id, event_id)).event.type == "error"


async def test_store_get_with_sentry_data_answers_a_pixel(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """GET /store/?sentry_data=<json>&sentry_key=… stores the event and answers a 1x1 GIF."""
    event_id = uuid.uuid4().hex
    event = {**message_event("from a pixel"), "event_id": event_id}
    response = await client.get(
        f"/api/{project.id}/store/",
        params={"sentry_data": orjson.dumps(event).decode(), "sentry_key": key_of(project)},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/gif"
    assert response.content.startswith(b"GIF89a")
    assert (await core.storage.get_event(project.id, event_id)).event.message == "from a pixel"


# --- refusals: status, {"detail"} and nothing stored --------------------------------------------


async def test_empty_body_is_400(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """An empty body is a malformed envelope: 400."""
    await assert_refused(core, await post_envelope(client, project, b""), 400)


async def test_garbage_body_is_400(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Bytes that are not an envelope: 400."""
    response = await post_envelope(client, project, b"\x00\xffnot an envelope\n")
    await assert_refused(core, response, 400)


async def test_envelope_header_that_is_not_json_is_400(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """A header line that is not JSON: 400, even when a valid item follows."""
    body = b'{"event_id": "abc\n' + envelope([item("event", error_event())]).split(b"\n", 1)[1]
    await assert_refused(core, await post_envelope(client, project, body), 400)


async def test_item_length_past_the_end_is_400(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """An item whose explicit length runs past the body: 400, nothing of the envelope stored."""
    body = b'{"event_id":"%s"}\n{"type":"event","length":500}\n{}\n' % uuid.uuid4().hex.encode()
    await assert_refused(core, await post_envelope(client, project, body), 400)


async def test_body_that_is_not_what_its_encoding_says_is_400(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """``Content-Encoding: gzip`` on a plain body: the stream is corrupt, 400."""
    headers = {"X-Sentry-Auth": sentry_auth(key_of(project)), "Content-Encoding": "gzip"}
    response = await post_envelope(client, project, error_envelope(), headers=headers)
    await assert_refused(core, response, 400)


@pytest.mark.parametrize("project_id", ["abc", "1x", "-1", "99999999999999999999999"])
async def test_bad_project_id_in_the_path_is_400(
    client: httpx.AsyncClient, core: Resentry, project: Project, project_id: str
) -> None:
    """A project id that is not an unsigned 64-bit integer: 400 "bad project path parameter"."""
    for url in (envelope_url(project_id), f"/api/{project_id}/store/"):
        response = await post_envelope(client, project, error_envelope(), url=url)
        await assert_refused(core, response, 400, "bad project path parameter")


@pytest.mark.parametrize(
    ("auth", "detail"),
    [
        ("Sentry sentry_key=tooshort, sentry_version=7", None),
        ("Sentry sentry_key={key}, sentry_version=8", "version"),
    ],
)
async def test_bad_key_format_or_version_is_400(
    client: httpx.AsyncClient, core: Resentry, project: Project, auth: str, detail: str | None
) -> None:
    """A key that is not 32 characters, or sentry_version above 7: 400."""
    headers = {"X-Sentry-Auth": auth.format(key=key_of(project))}
    response = await post_envelope(client, project, error_envelope(), headers=headers)
    await assert_refused(core, response, 400, detail)


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Sentry-Auth": "Bearer abc"}, {"Authorization": "Bearer abc"}],
    ids=["nothing", "x-sentry-auth-bearer", "authorization-bearer"],
)
async def test_missing_key_is_401(
    client: httpx.AsyncClient, core: Resentry, project: Project, headers: dict[str, str]
) -> None:
    """No Sentry key anywhere (other auth schemes are ignored): 401, no WWW-Authenticate."""
    response = await post_envelope(client, project, error_envelope(), headers=headers)
    await assert_refused(core, response, 401)
    assert "www-authenticate" not in response.headers


async def test_different_keys_from_different_sources_are_401(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """One key in the header and another in the query: 401."""
    other = (await core.storage.create_key(project.id, label="second")).public_key
    response = await post_envelope(
        client,
        project,
        error_envelope(),
        url=f"{envelope_url(project.id)}?sentry_key={other}&sentry_version=7",
    )
    await assert_refused(core, response, 401)


async def test_unknown_revoked_and_foreign_keys_and_unknown_project_are_403(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Unknown key, revoked key, another project's key, unknown project: all 403, alike."""
    other = await core.projects.create_project("Other")
    revoked = await core.storage.create_key(project.id, label="old")
    await core.storage.revoke_key(project.id, revoked.id)
    cases = {
        "unknown key": (project.id, secrets.token_hex(16)),
        "revoked key": (project.id, revoked.public_key),
        "other project's key": (project.id, key_of(other)),
        "unknown project": (project.id + other.id + 100, key_of(project)),
    }
    details = set()
    for case, (project_id, key) in cases.items():
        response = await post_envelope(
            client,
            project,
            error_envelope(),
            headers={"X-Sentry-Auth": sentry_auth(key)},
            url=envelope_url(project_id),
        )
        await assert_refused(core, response, 403)
        details.add(response.json()["detail"])
        assert response.status_code == 403, case
    assert len(details) == 1  # an unknown project cannot be told from a wrong key


async def test_declared_content_length_over_the_cap_is_413_before_reading(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """A Content-Length above max_request_bytes is refused without reading the body."""
    pulled: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        pulled.append(b"x")
        yield b"x" * 1024

    headers = {
        "X-Sentry-Auth": sentry_auth(key_of(project)),
        "Content-Length": str(MAX_REQUEST_BYTES + 1),
    }
    response = await client.post(envelope_url(project.id), content=body(), headers=headers)
    await assert_refused(core, response, 413)
    assert pulled == []


async def test_chunked_body_over_the_cap_is_413_as_soon_as_it_passes(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Without Content-Length, the body is refused once it passes the cap, not read to the end."""
    chunk = 16 * KiB
    sent: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        yield error_envelope()
        for _ in range(1000):  # 16 MiB if read to the end
            sent.append(chunk)
            yield b"\n" * chunk

    headers = {"X-Sentry-Auth": sentry_auth(key_of(project))}
    response = await client.post(envelope_url(project.id), content=body(), headers=headers)
    await assert_refused(core, response, 413)
    assert sum(sent) <= MAX_REQUEST_BYTES + chunk


async def test_decompression_bomb_is_413_with_bounded_memory(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """A small gzip body inflating to 100 MiB: 413, having held about the limit, not 100 MiB."""
    compressor = zlib.compressobj(wbits=31)  # gzip
    head = b'{}\n{"type":"attachment","length":%d}\n' % (100 * MiB)
    parts = [compressor.compress(head)]
    zeros = bytes(MiB)
    parts += [compressor.compress(zeros) for _ in range(100)]
    bomb = b"".join([*parts, compressor.flush()])
    assert len(bomb) < MAX_REQUEST_BYTES
    headers = {"X-Sentry-Auth": sentry_auth(key_of(project)), "Content-Encoding": "gzip"}
    tracemalloc.start()
    try:
        response = await post_envelope(client, project, bomb, headers=headers)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    await assert_refused(core, response, 413)
    assert peak < 8 * MAX_ENVELOPE_BYTES


async def test_event_item_over_its_limit_is_413(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """An event item above max_event_bytes (within the envelope limit): 413 naming the type."""
    event = error_event(extra={"blob": "x" * (MAX_EVENT_BYTES + 1)})
    body = envelope([item("event", event)], event_id=uuid.uuid4().hex)
    assert len(body) < MAX_REQUEST_BYTES
    response = await post_envelope(client, project, body)
    await assert_refused(core, response, 413, "event")


async def test_unknown_content_encoding_is_415_with_accept_encoding(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """``Content-Encoding: lz4``: 415 listing the codings Resentry decodes."""
    headers = {"X-Sentry-Auth": sentry_auth(key_of(project)), "Content-Encoding": "lz4"}
    response = await post_envelope(client, project, error_envelope(), headers=headers)
    await assert_refused(core, response, 415)
    assert response.headers["accept-encoding"] == "gzip, deflate, br, zstd"


async def test_checks_run_in_contract_order(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """Declared size (413) before the key; key format (400) and key (403) before encoding (415).

    With no key in the headers or query the key may be the envelope's ``dsn``, so the body
    must be decoded first: that case is not part of the order.
    """
    too_long = {"Content-Length": str(MAX_REQUEST_BYTES + 1)}

    async def small() -> AsyncIterator[bytes]:
        yield b"{}"

    response = await client.post(envelope_url(project.id), content=small(), headers=too_long)
    await assert_refused(core, response, 413)
    bad_encoding = {"Content-Encoding": "lz4"}
    malformed_key = {**bad_encoding, "X-Sentry-Auth": sentry_auth("short")}
    response = await post_envelope(client, project, b"garbage", headers=malformed_key)
    await assert_refused(core, response, 400)
    wrong_key = {**bad_encoding, "X-Sentry-Auth": sentry_auth(secrets.token_hex(16))}
    response = await post_envelope(client, project, b"garbage", headers=wrong_key)
    await assert_refused(core, response, 403)
    good_key = {**bad_encoding, "X-Sentry-Auth": sentry_auth(key_of(project))}
    response = await post_envelope(client, project, b"garbage", headers=good_key)
    await assert_refused(core, response, 415)


# --- rate limits -------------------------------------------------------------------------------


def _client_report() -> bytes:
    report = {
        "timestamp": "2026-11-26T03:00:00Z",
        "discarded_events": [{"reason": "queue_overflow", "category": "error", "quantity": 3}],
    }
    return envelope([item("client_report", report)])


async def test_rate_limited_key_is_429_with_retry_after_and_sentry_rate_limits(
    client: httpx.AsyncClient, core: Resentry
) -> None:
    """Over the project's limit: 429, Retry-After equal to the X-Sentry-Rate-Limits retry."""
    limited = await core.projects.create_project("Limited", rate_limit_per_minute=1)
    first = await post_envelope(client, limited, error_envelope())
    assert first.status_code == 200
    before = await stored_count(core)
    response = await post_envelope(client, limited, error_envelope())
    assert response.status_code == 429
    assert response.json()["detail"]
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert response.headers["x-sentry-rate-limits"] == f"{retry_after}::key"
    assert await stored_count(core) == before


async def test_client_reports_are_never_rate_limited(
    client: httpx.AsyncClient, core: Resentry
) -> None:
    """A client_report-only envelope is accepted even while the key is limited."""
    limited = await core.projects.create_project("Limited", rate_limit_per_minute=1)
    assert (await post_envelope(client, limited, error_envelope())).status_code == 200
    assert (await post_envelope(client, limited, error_envelope())).status_code == 429
    response = await post_envelope(client, limited, _client_report())
    assert response.status_code == 200, response.text
    assert "x-sentry-rate-limits" not in response.headers
    assert len((await core.storage.list_items(limited.id, type="client_report")).items) == 1


async def test_partly_limited_envelope_is_200_with_sentry_rate_limits(
    client: httpx.AsyncClient, core: Resentry
) -> None:
    """Limited items are dropped, the client report is kept, and the answer says so."""
    limited = await core.projects.create_project("Limited", rate_limit_per_minute=1)
    assert (await post_envelope(client, limited, error_envelope())).status_code == 200
    report = orjson.loads(_client_report().split(b"\n")[2])
    body = envelope([item("event", error_event()), item("client_report", report)])
    response = await post_envelope(client, limited, body)
    assert response.status_code == 200, response.text
    assert response.headers["x-sentry-rate-limits"].endswith("::key")
    assert len((await core.storage.list_events(EventFilter())).items) == 1
    assert len((await core.storage.list_items(limited.id, type="client_report")).items) == 1


async def test_resending_an_event_is_idempotent(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """The same envelope sent twice (an SDK retry) answers 200 both times and stores one event."""
    event_id = uuid.uuid4().hex
    body = error_envelope(event_id)
    for _ in range(2):
        response = await post_envelope(client, project, body)
        assert response.status_code == 200
        assert response.json() == {"id": event_id}
    events = (await core.storage.list_events(EventFilter())).items
    assert [event.event_id for event in events] == [event_id]
    issue = await core.storage.get_issue(project.id, events[0].issue_id or 0)
    assert issue.times_seen == 1


# --- CORS --------------------------------------------------------------------------------------


async def test_cors_preflight_allows_post_with_sentry_headers(
    client: httpx.AsyncClient, project: Project
) -> None:
    """OPTIONS from a browser: 200 with Relay's CORS headers, for every ingestion path."""
    for path in (envelope_url(project.id), f"/api/{project.id}/store/", "/api/v1/1/envelope"):
        response = await client.options(
            path,
            headers={
                "Origin": "https://shop.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-sentry-auth, content-type, sentry-trace, "
                "baggage",
            },
        )
        assert response.status_code == 200, (path, response.text)
        headers = response.headers
        assert headers["access-control-allow-origin"] == "https://shop.example.com"
        assert headers["access-control-allow-methods"] == "POST"
        allowed = {h.strip() for h in headers["access-control-allow-headers"].split(",")}
        assert {"x-sentry-auth", "content-type", "sentry-trace", "baggage"} <= allowed
        assert {"content-encoding", "authorization"} <= allowed
        exposed = {h.strip() for h in headers["access-control-expose-headers"].split(",")}
        assert exposed == {"x-sentry-error", "x-sentry-rate-limits", "retry-after"}
        assert headers["access-control-max-age"] == "3600"
        assert headers["cross-origin-resource-policy"] == "cross-origin"


async def test_cors_preflight_for_another_method_fails(
    client: httpx.AsyncClient, project: Project
) -> None:
    """A preflight asking for GET is refused (Relay's test_options_response)."""
    response = await client.options(
        envelope_url(project.id),
        headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 400
    assert "access-control-allow-methods" not in response.headers
    assert response.json()["detail"]


async def test_actual_requests_carry_cors_headers_on_success_and_on_error(
    client: httpx.AsyncClient, project: Project
) -> None:
    """Answers and refusals both let a browser SDK read them (allow origin, exposed headers)."""
    origin = {"Origin": "https://shop.example.com"}
    ok = await post_envelope(
        client,
        project,
        error_envelope(),
        headers={**origin, "X-Sentry-Auth": sentry_auth(key_of(project))},
    )
    refused = await post_envelope(client, project, error_envelope(), headers=origin)
    assert (ok.status_code, refused.status_code) == (200, 401)
    for response in (ok, refused):
        assert response.headers["access-control-allow-origin"] == "https://shop.example.com"
        assert "x-sentry-rate-limits" in response.headers["access-control-expose-headers"]
        assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    no_origin = await post_envelope(client, project, error_envelope())
    assert no_origin.headers["access-control-allow-origin"] == "*"


async def test_project_allowed_origins_are_enforced(
    client: httpx.AsyncClient, core: Resentry
) -> None:
    """With allowed origins set, another Origin (or Referer) is 403 and stores nothing."""
    browser = await core.projects.create_project(
        "Browser app", allowed_origins=("https://shop.example.com",)
    )
    auth = {"X-Sentry-Auth": sentry_auth(key_of(browser))}
    for header in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}):
        response = await post_envelope(
            client, browser, error_envelope(), headers={**auth, **header}
        )
        await assert_refused(core, response, 403)
    ok = await post_envelope(
        client, browser, error_envelope(), headers={**auth, "Origin": "https://shop.example.com"}
    )
    assert ok.status_code == 200, ok.text


async def test_unknown_api_route_answers_json_404(client: httpx.AsyncClient) -> None:
    """Paths Resentry does not serve answer 404 with a JSON ``detail``, like every error."""
    response = await client.post("/api/1/minidump/", content=b"x")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


async def test_management_cors_follows_settings_and_ingestion_keeps_its_own(
    core: Resentry, tmp_path: Path
) -> None:
    """RESENTRY_CORS_ORIGINS governs the management API only; ingestion answers any origin."""
    app = create_app(settings_for(tmp_path, cors_origins=["https://admin.example.com"]), core=core)
    preflight = {"Access-Control-Request-Method": "GET"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        allowed = await http.options(
            "/api/v1/projects/", headers={**preflight, "Origin": "https://admin.example.com"}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://admin.example.com"
        refused = await http.options(
            "/api/v1/projects/", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in refused.headers
        ingest = await http.options(
            "/api/1/envelope/",
            headers={"Access-Control-Request-Method": "POST", "Origin": "https://evil.example"},
        )
        assert ingest.status_code == 200
        assert ingest.headers["access-control-allow-origin"] == "https://evil.example"


# --- errors outside the core's tree ----------------------------------------------------------


async def test_unexpected_failure_is_a_json_500(
    app: FastAPI, core: Resentry, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (any other exception) answers 500 ``{"detail": ...}``, not a text page."""

    async def broken(request: IngestRequest) -> IngestResult:
        raise RuntimeError("boom")

    monkeypatch.setattr(core.ingestor, "ingest", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await post_envelope(http, project, error_envelope())
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}


async def test_database_down_is_503_on_health_and_ingest(
    client: httpx.AsyncClient, core: Resentry, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When storage fails, /health/ and ingestion answer 503 with a detail."""

    async def down(*args: object, **kwargs: object) -> None:
        raise StorageError("database is unreachable")

    monkeypatch.setattr(core.storage, "ping", down)
    monkeypatch.setattr(core.storage, "project_for_key", down)
    health = await client.get("/health/")
    assert health.status_code == 503
    assert health.json() == {"detail": "database is unreachable"}
    response = await post_envelope(client, project, error_envelope())
    assert response.status_code == 503
    assert response.json()["detail"] == "database is unreachable"


async def test_wrong_method_is_a_json_405(client: httpx.AsyncClient, project: Project) -> None:
    """PUT on an ingestion route answers 405 with a JSON detail."""
    response = await client.put(envelope_url(project.id), content=b"{}")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


async def test_validation_errors_echoing_odd_input_are_json_422(client: httpx.AsyncClient) -> None:
    """A 422 whose error echoes a >64-bit integer, NaN or a lone surrogate is still JSON."""
    body = b'{"username": [123456789012345678901234567890, NaN, "\\ud800"], "password": 1}'
    response = await client.post(
        "/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    assert detail


async def test_store_get_without_sentry_data_is_400_naming_it(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """GET /store/ without ``sentry_data``: 400 naming the parameter, nothing stored."""
    response = await client.get(f"/api/{project.id}/store/", params={"sentry_key": key_of(project)})
    await assert_refused(core, response, 400, "sentry_data")
