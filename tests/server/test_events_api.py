"""Events over HTTP: lists with filters and paging, detail, attachment and envelope downloads."""

import gzip
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from resentry_core._models import Project
from resentry_core._resentry import Resentry
from tests import factories as f
from tests.server.api_helpers import Headers, add_user, get_json, ingest, send_error, walk

EVENT_FIELDS = {
    "event_id",
    "project_id",
    "issue_id",
    "type",
    "level",
    "timestamp",
    "received_at",
    "title",
    "culprit",
    "message",
    "platform",
    "release",
    "environment",
    "tags",
    "user",
    "sdk",
    "transaction",
    "op",
    "duration_ms",
    "status",
    "span_count",
}
DETAIL_FIELDS = EVENT_FIELDS | {"payload", "attachments", "envelope_url"}


def events_url(project: Project, rest: str = "") -> str:
    """The project's events list, or ``rest`` below it."""
    return f"/api/v1/projects/{project.id}/events/{rest}"


def dashed(event_id: str) -> str:
    """The event id as an upper-case dashed UUID."""
    return str(uuid.UUID(event_id)).upper()


async def test_listed_event_has_the_contract_fields(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """An ingested error event is listed with every normalized field."""
    event_id = await send_error(client, project)
    page = await get_json(client, events_url(project), auth_headers)
    assert page["next_cursor"] is None
    [event] = page["items"]
    assert set(event) == EVENT_FIELDS
    assert event["event_id"] == event_id
    assert (event["project_id"], event["type"], event["level"]) == (project.id, "error", "error")
    assert isinstance(event["issue_id"], int)
    assert event["title"].startswith("ValueError")
    assert event["platform"] == "python"
    assert (event["release"], event["environment"]) == ("shop@1.0.0", "production")
    assert event["tags"]["browser"] == "Firefox"
    assert event["user"] == {"id": "42", "email": "jane@example.com"}
    assert event["sdk"]["name"] == "sentry.python"
    assert event["timestamp"] == "2026-11-26T03:00:00.123456+00:00"
    assert datetime.fromisoformat(event["received_at"]).utcoffset() == timedelta(0)
    assert event["transaction"] is None and event["span_count"] is None


async def test_event_detail_has_payload_attachments_and_envelope_url(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """The detail adds the payload as sent, the attachments with links, and the envelope link."""
    event_id = uuid.uuid4().hex
    payload = f.error_event(extra={"extra": {"cart": [1, 2, 3]}})
    body = f.envelope(
        [
            f.item("event", payload),
            f.item("attachment", b"log line\n", filename="app.log", content_type="text/plain"),
        ],
        event_id=event_id,
    )
    await ingest(client, project, body)
    detail = await get_json(client, events_url(project, event_id), auth_headers)
    assert set(detail) == DETAIL_FIELDS
    assert detail["payload"] == payload
    [attachment] = detail["attachments"]
    assert {k: v for k, v in attachment.items() if k not in ("id", "download_url")} == {
        "filename": "app.log",
        "content_type": "text/plain",
        "attachment_type": "event.attachment",
        "size": 9,
    }
    assert attachment["download_url"] == (
        f"http://testserver/api/v1/projects/{project.id}/attachments/{attachment['id']}"
    )
    assert detail["envelope_url"].startswith(
        f"http://testserver/api/v1/projects/{project.id}/envelopes/"
    )


@pytest.mark.parametrize("spelling", [str.upper, dashed])
async def test_event_ids_are_accepted_dashed_or_upper_case(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project, spelling: Any
) -> None:
    """An event id in the path may be dashed or upper case; the answer has the canonical id."""
    event_id = await send_error(client, project)
    detail = await get_json(client, events_url(project, spelling(event_id)), auth_headers)
    assert detail["event_id"] == event_id


@pytest.mark.parametrize(("event_id", "status"), [("0" * 32, 404), ("xyz", 422), ("a" * 33, 422)])
async def test_unknown_or_malformed_event_id(
    client: httpx.AsyncClient,
    auth_headers: Headers,
    project: Project,
    event_id: str,
    status: int,
) -> None:
    """A well-formed unknown id answers 404; a malformed one 422."""
    await send_error(client, project)
    response = await client.get(events_url(project, event_id), headers=auth_headers)
    assert response.status_code == status


async def test_lone_surrogate_payload_is_returned_without_error(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """A payload with a lone UTF-16 surrogate escape (JS cutting an emoji) answers 200."""
    event_id = uuid.uuid4().hex
    payload = b'{"message": "cut \\ud83d here", "level": "error", "extra": {"k\\udc00": 1}}'
    await ingest(client, project, f.envelope([f.item("event", payload)], event_id=event_id))
    response = await client.get(events_url(project, event_id), headers=auth_headers)
    assert response.status_code == 200
    detail = response.json()
    assert detail["payload"]["message"] == "cut \ufffd here"
    assert detail["payload"]["extra"] == {"k\ufffd": 1}


async def test_attachment_download_is_byte_exact_and_safe(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """An attachment downloads byte for byte, with its type, as a safely named attachment."""
    data = bytes(range(256)) * 40 + b"<script>alert(1)</script>"
    event_id = uuid.uuid4().hex
    body = f.envelope(
        [
            f.item("event", f.error_event()),
            f.item("attachment", data, filename='../../etc/"évil".html', content_type="text/html"),
        ],
        event_id=event_id,
    )
    await ingest(client, project, body)
    detail = await get_json(client, events_url(project, event_id), auth_headers)
    response = await client.get(detail["attachments"][0]["download_url"], headers=auth_headers)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "text/html"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"_vil.html\"; filename*=UTF-8''%C3%A9vil.html"
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox"


async def test_malformed_attachment_content_type_becomes_octet_stream(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """A content type that is not a media type is not echoed as a header."""
    event_id = uuid.uuid4().hex
    item = f.item("attachment", b"x", filename="a", content_type="text/html\r\nx-evil: 1")
    await ingest(
        client, project, f.envelope([f.item("event", f.error_event()), item], event_id=event_id)
    )
    detail = await get_json(client, events_url(project, event_id), auth_headers)
    response = await client.get(detail["attachments"][0]["download_url"], headers=auth_headers)
    assert response.headers["content-type"] == "application/octet-stream"
    assert "x-evil" not in response.headers


@pytest.mark.parametrize("encoding", [None, "gzip"])
async def test_envelope_download_is_the_body_as_received(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project, encoding: str | None
) -> None:
    """The raw envelope is the exact request body; a compressed one keeps its Content-Encoding."""
    event_id = uuid.uuid4().hex
    envelope = f.error_envelope(event_id)
    body = envelope if encoding is None else gzip.compress(envelope)
    headers = {} if encoding is None else {"Content-Encoding": encoding}
    await ingest(client, project, body, headers)
    detail = await get_json(client, events_url(project, event_id), auth_headers)
    request = client.build_request("GET", detail["envelope_url"], headers=auth_headers)
    response = await client.send(request, stream=True)
    raw = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    assert response.status_code == 200
    assert raw == body
    assert response.headers["content-type"] == "application/x-sentry-envelope"
    assert response.headers.get("content-encoding") == encoding
    decoded = await client.get(detail["envelope_url"], headers=auth_headers)
    assert decoded.content == envelope


async def test_other_projects_data_answers_404(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers, project: Project
) -> None:
    """Events, attachments and envelopes are found only under their own project."""
    other = await core.projects.create_project("Other")
    event_id = uuid.uuid4().hex
    body = f.envelope(
        [f.item("event", f.error_event()), f.item("attachment", b"x", filename="a")],
        event_id=event_id,
    )
    await ingest(client, project, body)
    detail = await get_json(client, events_url(project, event_id), auth_headers)
    wrong = f"/api/v1/projects/{project.id}/", f"/api/v1/projects/{other.id}/"
    urls = [
        events_url(other, event_id),
        detail["attachments"][0]["download_url"].replace(*wrong),
        detail["envelope_url"].replace(*wrong),
    ]
    for url in urls:
        assert (await client.get(url, headers=auth_headers)).status_code == 404, url


async def test_non_members_get_404_for_events(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """A user who is not a member cannot list or read the project's events or downloads."""
    event_id = await send_error(client, project)
    _, headers = await add_user(core, client, "outsider")
    detail = await core.storage.get_event(project.id, event_id)
    urls = [
        events_url(project),
        events_url(project, event_id),
        f"/api/v1/projects/{project.id}/envelopes/{detail.event.envelope_id}",
    ]
    for url in urls:
        assert (await client.get(url, headers=headers)).status_code == 404, url


async def test_event_list_pages_walk_every_event_once(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """Walking 7 events 3 at a time yields each once, newest received first."""
    sent = [await send_error(client, project) for _ in range(7)]
    events, pages = await walk(client, events_url(project), auth_headers, limit=3)
    assert pages == 3
    assert [e["event_id"] for e in events] == sent[::-1]


async def test_bad_cursor_answers_422(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """A cursor that is not one of this list's answers 422."""
    for cursor in ("garbage", "o3"):
        response = await client.get(
            events_url(project), params={"cursor": cursor}, headers=auth_headers
        )
        assert response.status_code == 422


async def test_event_filters(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """level, release, environment, type and issue_id each narrow the list."""
    first = await send_error(client, project, level="warning", release="a@1", environment="staging")
    second = await send_error(client, project, exc_type="KeyError", release="a@2")
    tx_id = uuid.uuid4().hex
    await ingest(
        client, project, f.envelope([f.item("transaction", f.transaction_event())], event_id=tx_id)
    )

    async def ids(**params: Any) -> list[str]:
        page = await get_json(client, events_url(project), auth_headers, params)
        return [e["event_id"] for e in page["items"]]

    assert await ids(level="warning") == [first]
    assert await ids(release="a@2") == [second]
    assert await ids(environment="staging") == [first]
    assert await ids(type="transaction") == [tx_id]
    issue_id = (await get_json(client, events_url(project, second), auth_headers))["issue_id"]
    assert await ids(issue_id=issue_id) == [second]
    assert await ids(level="fatal") == []
    transaction = await get_json(client, events_url(project, tx_id), auth_headers)
    assert (transaction["type"], transaction["issue_id"], transaction["span_count"]) == (
        "transaction",
        None,
        3,
    )
    assert transaction["transaction"] == "/checkout"
    bad = await client.get(events_url(project), params={"level": "loud"}, headers=auth_headers)
    assert bad.status_code == 422


async def test_time_range_filters_on_received_at(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """``since`` is inclusive and ``until`` exclusive; naive times are UTC; offsets are honoured."""
    event_id = await send_error(client, project)
    received = datetime.fromisoformat(
        (await get_json(client, events_url(project, event_id), auth_headers))["received_at"]
    )

    async def count(**params: str) -> int:
        page = await get_json(client, events_url(project), auth_headers, params)
        return len(page["items"])

    assert await count(since=received.isoformat()) == 1
    assert await count(until=received.isoformat()) == 0
    later = received + timedelta(microseconds=1)
    assert await count(until=later.isoformat()) == 1
    assert await count(since=later.isoformat()) == 0
    naive = received.astimezone(UTC).replace(tzinfo=None)
    assert await count(since=naive.isoformat()) == 1
    in_paris = received.astimezone(datetime.fromisoformat("2000-01-01T00:00+02:00").tzinfo)
    assert await count(since=in_paris.isoformat()) == 1
    assert await count(until=in_paris.isoformat()) == 0
    bad = await client.get(events_url(project), params={"since": "yesterday"}, headers=auth_headers)
    assert bad.status_code == 422


@pytest.mark.parametrize("path", ["/api/v1/projects/events", "/api/projects/events"])
async def test_all_events_shows_what_the_caller_may_see(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers, project: Project, path: str
) -> None:
    """Admins see every project's events; members only their projects'; filters apply."""
    other = await core.projects.create_project("Other")
    mine = await send_error(client, project)
    theirs = await send_error(client, other, level="warning")
    _, member_headers = await add_user(core, client, "member", projects=[project])
    _, loner_headers = await add_user(core, client, "loner")

    async def ids(headers: Headers, **params: Any) -> set[str]:
        items, _ = await walk(client, path, headers, limit=1, params=params)
        return {e["event_id"] for e in items}

    assert await ids(auth_headers) == {mine, theirs}
    assert await ids(auth_headers, level="warning") == {theirs}
    assert await ids(member_headers) == {mine}
    assert await ids(loner_headers) == set()
    assert (await client.get(path)).status_code == 401


async def test_event_payload_bytes_round_trip_through_the_api(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """Unusual but valid JSON (unicode, big numbers, nesting) comes back equal to what was sent."""
    payload = {
        "message": "naïve 🐍 \u2028 text",
        "level": "info",
        "extra": {"big": 2**53 + 1, "float": 1.5e300, "nested": [[[{"a": None}]]], "empty": {}},
    }
    event_id = uuid.uuid4().hex
    await ingest(
        client, project, f.envelope([f.item("event", orjson.dumps(payload))], event_id=event_id)
    )
    detail = await get_json(client, events_url(project, event_id), auth_headers)
    assert detail["payload"] == payload


async def test_walk_is_stable_while_events_arrive(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """Events arriving during a walk neither shift it nor repeat items: it ends on the oldest."""
    sent = [await send_error(client, project) for _ in range(6)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await get_json(client, events_url(project), auth_headers, params)
        seen += [e["event_id"] for e in page["items"]]
        await send_error(client, project)  # newer than everything: lands before the walk
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sent[::-1]
