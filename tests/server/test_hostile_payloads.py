"""Payloads that used to break reads: deeply nested event data and headers. Whatever the
ingest accepts reads back with 200 through every list and detail route."""

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resentry_core import MAX_JSON_DEPTH, parse_envelope
from resentry_core._models import Project
from resentry_core._prepare import prepare_envelope
from resentry_core._resentry import Resentry
from tests.core.strategies import envelopes, json_payloads
from tests.factories import error_event
from tests.server.api_helpers import Headers, ingest, sentry_auth

MARKER = f"[trimmed: nested deeper than {MAX_JSON_DEPTH} levels]"
GET_OK = 200


def nested(depth: int, leaf: bytes = b"1") -> bytes:
    """JSON arrays nested ``depth`` deep, written by hand (orjson stops at 255)."""
    return b"[" * depth + leaf + b"]" * depth


def deep_event(event_id: str, depth: int) -> bytes:
    """An error event whose ``extra.x`` nests ``depth`` arrays."""
    head = orjson.dumps({**error_event(), "event_id": event_id})[:-1]
    return head + b',"extra":{"x":' + nested(depth) + b"}}"


def raw_envelope(head: bytes, *items: tuple[bytes, bytes]) -> bytes:
    """An envelope from hand-written header lines and payloads."""
    parts = [head]
    for item_head, payload in items:
        parts += [item_head, payload]
    return b"\n".join(parts) + b"\n"


async def read_everything(client: httpx.AsyncClient, headers: Headers, project_id: int) -> int:
    """GET every list and detail route of the project, asserting 200; returns how many."""
    base = f"/api/v1/projects/{project_id}"
    reads = 0

    async def get(url: str) -> Any:
        nonlocal reads
        response = await client.get(url, headers=headers, params={"limit": 500})
        assert response.status_code == GET_OK, (url, response.text[:500])
        reads += 1
        if response.headers["content-type"].startswith("application/json"):
            return response.json()
        return None

    await get("/api/v1/projects/events")
    await get("/api/projects/events")
    for event in (await get(f"{base}/events/"))["items"]:
        detail = await get(f"{base}/events/{event['event_id']}")
        await get(detail["envelope_url"].removeprefix("http://testserver"))
        for attachment in detail["attachments"]:
            await get(attachment["download_url"].removeprefix("http://testserver"))
    for issue in (await get(f"{base}/issues/"))["items"]:
        await get(f"{base}/issues/{issue['id']}")
        await get(f"{base}/issues/{issue['id']}/events/")
    for item in (await get(f"{base}/items/"))["items"]:
        await get(item["payload_url"].removeprefix("http://testserver"))
    for monitor in (await get(f"{base}/monitors/"))["items"]:
        await get(f"{base}/monitors/{monitor['slug']}/check-ins/")
    for listing in ("sessions", "logs", "feedback", "client-reports"):
        await get(f"{base}/{listing}/")
    await get(base)
    return reads


async def test_deeply_nested_event_is_kept_trimmed_and_reads_back(
    client: httpx.AsyncClient, project: Project, auth_headers: Headers
) -> None:
    """An event with ``extra`` nested 1,000 deep is stored (200); its detail answers 200 with
    the too-deep part replaced by a marker and named in the event's ``errors``; the raw
    envelope keeps the exact bytes."""
    event_id = uuid.uuid4().hex
    body = raw_envelope(
        orjson.dumps({"event_id": event_id}), (b'{"type":"event"}', deep_event(event_id, 1000))
    )
    await ingest(client, project, body)
    assert await read_everything(client, auth_headers, project.id) > 5
    detail = await client.get(
        f"/api/v1/projects/{project.id}/events/{event_id}", headers=auth_headers
    )
    payload = detail.json()["payload"]
    value = payload["extra"]["x"]
    depth = 2  # extra, x
    while isinstance(value, list):
        value, depth = value[0], depth + 1
    assert (value, depth) == (MARKER, MAX_JSON_DEPTH)
    [error] = payload["errors"]
    assert error["type"] == "invalid_data"
    assert error["name"] == "extra.x" + ".0" * (MAX_JSON_DEPTH - 2)
    raw = await client.get(
        detail.json()["envelope_url"].removeprefix("http://testserver"), headers=auth_headers
    )
    assert raw.content == body


@pytest.mark.parametrize("depth", [300, 1000, 5000])
@pytest.mark.parametrize("where", ["envelope", "item"])
async def test_headers_nested_too_deep_answer_400_and_store_nothing(
    client: httpx.AsyncClient,
    project: Project,
    auth_headers: Headers,
    core: Resentry,
    where: str,
    depth: int,
) -> None:
    """Envelope or item headers nested past the limit answer 400 (never 503, which tells SDKs
    to retry), with a message saying so; nothing is stored."""
    deep = b'"x":' + nested(depth)
    envelope_head = b"{" + deep + b"}" if where == "envelope" else b"{}"
    item_head = b'{"type":"attachment","length":2,' + deep + b"}"
    if where == "envelope":
        item_head = b'{"type":"attachment","length":2}'
    body = raw_envelope(envelope_head, (item_head, b"hi"))
    response = await client.post(
        f"/api/{project.id}/envelope/", content=body, headers=sentry_auth(project)
    )
    assert response.status_code == 400, response.text
    assert f"invalid {where} header" in response.json()["detail"]
    assert (await core.storage.list_items(project.id)).items == ()


async def test_rows_stored_before_trimming_still_read_back(
    client: httpx.AsyncClient, project: Project, auth_headers: Headers, core: Resentry
) -> None:
    """Data stored deeper than the limit (by an older version) does not break any read: the
    answer trims it."""
    event_id = uuid.uuid4().hex
    body = raw_envelope(
        orjson.dumps({"event_id": event_id}),
        (b'{"type":"event"}', orjson.dumps({**error_event(), "event_id": event_id})),
    )
    prepared = prepare_envelope(
        parse_envelope(body),
        project_id=project.id,
        received_at=datetime.now(UTC),
        raw=body,
        raw_encoding=None,
    )
    too_deep: Any = 1
    for _ in range(400):
        too_deep = [too_deep]
    [item] = prepared.items
    [event] = prepared.events
    prepared = dataclasses.replace(
        prepared,
        headers={**prepared.headers, "deep": too_deep},
        items=(
            dataclasses.replace(
                item, headers={**item.headers, "x": too_deep}, payload=deep_event(event_id, 400)
            ),
        ),
        events=(dataclasses.replace(event, user={"id": "1", "data": too_deep}),),
    )
    await core.storage.record([prepared])
    assert await read_everything(client, auth_headers, project.id) > 5


def _deep_json_objects() -> st.SearchStrategy[bytes]:
    depth = st.integers(0, 3 * MAX_JSON_DEPTH)
    return st.builds(
        lambda head, d: (
            orjson.dumps(head)[:-1] + (b"," if head else b"") + b'"deep":' + nested(d) + b"}"
        ),
        st.fixed_dictionaries({}, optional={"message": st.text(max_size=20)}),
        depth,
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    envelope=envelopes(
        payloads=json_payloads() | _deep_json_objects() | st.binary(max_size=50),
        event_payloads=_deep_json_objects() | json_payloads(),
        max_items=3,
    )
)
async def test_anything_the_ingest_accepts_reads_back(
    client: httpx.AsyncClient, project: Project, auth_headers: Headers, envelope: Any
) -> None:
    """Any envelope the ingest accepts, with payloads nested up to three times the limit, reads
    back through every list and detail route with 200."""
    response = await client.post(
        f"/api/{project.id}/envelope/", content=envelope.serialize(), headers=sentry_auth(project)
    )
    assert response.status_code in (200, 400, 413), response.text
    if response.status_code == 200:
        await read_everything(client, auth_headers, project.id)
