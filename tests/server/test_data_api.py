"""Release health, monitors, logs, feedback, client reports and raw items, over HTTP."""

import uuid
from typing import Any

import httpx
import pytest

from resentry_core._models import Project
from resentry_core._resentry import Resentry
from tests import factories as f
from tests.server.api_helpers import Headers, add_user, get_json, send_items, walk

STARTED = "2026-11-26T03:00:00Z"
TRACE_ID = "a" * 32


def data_url(project: Project, rest: str) -> str:
    """A URL below the project."""
    return f"/api/v1/projects/{project.id}/{rest}"


def session(status: str, *, errors: int = 0, release: str = "shop@1.0.0") -> dict[str, Any]:
    """A ``session`` item payload: one whole session in one update."""
    return {
        "sid": uuid.uuid4().hex,
        "started": STARTED,
        "status": status,
        "errors": errors,
        "init": True,
        "attrs": {"release": release, "environment": "production"},
    }


def check_in(slug: str, status: str, **fields: Any) -> dict[str, Any]:
    """A ``check_in`` item payload."""
    return {"check_in_id": uuid.uuid4().hex, "monitor_slug": slug, "status": status, **fields}


async def test_release_health_counts_sessions(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """Session updates and aggregates add up per release and environment."""
    await send_items(
        client,
        project,
        f.item("session", session("exited")),
        f.item("session", session("crashed")),
        f.item("session", session("exited", errors=2)),
        f.item("session", session("exited", release="shop@2.0.0")),
    )
    aggregate = {
        "attrs": {"release": "shop@2.0.0", "environment": "production"},
        "aggregates": [{"started": STARTED, "exited": 4, "abnormal": 1}],
    }
    await send_items(client, project, f.item("sessions", aggregate))
    page = await get_json(client, data_url(project, "sessions/"), auth_headers)
    assert page == {
        "items": [
            {
                "release": "shop@1.0.0",
                "environment": "production",
                "started": 3,
                "errored": 2,
                "crashed": 1,
                "abnormal": 0,
                "exited": 2,
            },
            {
                "release": "shop@2.0.0",
                "environment": "production",
                "started": 6,
                "errored": 1,
                "crashed": 0,
                "abnormal": 1,
                "exited": 5,
            },
        ],
        "next_cursor": None,
    }
    second, pages = await walk(client, data_url(project, "sessions/"), auth_headers, limit=1)
    assert (second, pages) == (page["items"], 2)


async def test_monitors_and_check_ins(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """A check-in creates its monitor (with its config); check-ins list newest first."""
    config = {"schedule": {"type": "crontab", "value": "0 * * * *"}}
    await send_items(
        client,
        project,
        f.item("check_in", check_in("nightly-job", "in_progress", monitor_config=config)),
    )
    await send_items(
        client,
        project,
        f.item(
            "check_in",
            check_in(
                "nightly-job",
                "error",
                duration=2.5,
                environment="production",
                contexts={"trace": {"trace_id": TRACE_ID}},
            ),
        ),
    )
    await send_items(client, project, f.item("check_in", check_in("backup", "ok")))
    monitors = await get_json(client, data_url(project, "monitors/"), auth_headers)
    assert [m["slug"] for m in monitors["items"]] == ["backup", "nightly-job"]
    nightly = monitors["items"][1]
    assert set(nightly) == {"id", "slug", "config", "created_at", "last_check_in", "last_status"}
    assert (nightly["config"], nightly["last_status"]) == (config, "error")
    check_ins = await get_json(
        client, data_url(project, "monitors/nightly-job/check-ins/"), auth_headers
    )
    latest, first = check_ins["items"]
    assert set(latest) == {
        "id",
        "check_in_id",
        "status",
        "duration",
        "environment",
        "release",
        "timestamp",
        "trace_id",
    }
    assert (latest["status"], latest["duration"], latest["environment"]) == (
        "error",
        2.5,
        "production",
    )
    assert latest["trace_id"] == TRACE_ID
    assert first["status"] == "in_progress"
    walked, _ = await walk(
        client, data_url(project, "monitors/nightly-job/check-ins/"), auth_headers, limit=1
    )
    assert walked == check_ins["items"]
    unknown = await client.get(data_url(project, "monitors/nope/check-ins/"), headers=auth_headers)
    assert unknown.status_code == 404


async def test_logs_list_and_filter(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """Log records list newest first and filter by level and trace id."""
    records = {
        "items": [
            {
                "timestamp": 1764126000.0,
                "level": "info",
                "body": "started",
                "trace_id": TRACE_ID,
                "attributes": {"job": {"type": "string", "value": "sync"}},
            },
            {"timestamp": 1764126001.0, "level": "error", "body": "failed", "trace_id": "b" * 32},
        ]
    }
    await send_items(
        client,
        project,
        f.item("log", records, item_count=2, content_type="application/vnd.sentry.items.log+json"),
    )
    url = data_url(project, "logs/")
    page = await get_json(client, url, auth_headers)
    assert [r["body"] for r in page["items"]] == ["failed", "started"]
    started = page["items"][1]
    assert set(started) == {
        "id",
        "timestamp",
        "level",
        "body",
        "attributes",
        "trace_id",
        "span_id",
        "severity_number",
    }
    assert started["attributes"] == {"job": {"type": "string", "value": "sync"}}
    assert started["timestamp"] == "2025-11-26T03:00:00+00:00"

    async def bodies(**params: str) -> list[str]:
        return [r["body"] for r in (await get_json(client, url, auth_headers, params))["items"]]

    assert await bodies(level="error") == ["failed"]
    assert await bodies(trace_id=TRACE_ID) == ["started"]
    assert await bodies(level="debug") == []


async def test_feedback_is_listed(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """User feedback items are listed with the event they are about."""
    about = uuid.uuid4().hex
    feedback_id = uuid.uuid4().hex
    payload = {
        "contexts": {
            "feedback": {
                "message": "The checkout button does nothing",
                "contact_email": "jane@example.com",
                "name": "Jane",
                "url": "https://shop.example.com/cart",
                "associated_event_id": about,
            }
        },
        "platform": "javascript",
    }
    await send_items(client, project, f.item("feedback", payload), event_id=feedback_id)
    page = await get_json(client, data_url(project, "feedback/"), auth_headers)
    [feedback] = page["items"]
    assert {k: v for k, v in feedback.items() if k not in ("id", "received_at")} == {
        "event_id": feedback_id,
        "associated_event_id": about,
        "name": "Jane",
        "email": "jane@example.com",
        "message": "The checkout button does nothing",
        "url": "https://shop.example.com/cart",
        "source": "feedback",
    }
    event = await get_json(
        client, f"/api/v1/projects/{project.id}/events/{feedback_id}", auth_headers
    )
    assert (event["type"], event["issue_id"]) == ("feedback", None)


async def test_client_reports_are_summed(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """Discarded-event counts of client reports add up per reason and category."""
    report = {
        "timestamp": 1764126000.0,
        "discarded_events": [
            {"reason": "queue_overflow", "category": "error", "quantity": 3},
            {"reason": "sample_rate", "category": "transaction", "quantity": 10},
        ],
    }
    await send_items(client, project, f.item("client_report", report))
    await send_items(client, project, f.item("client_report", report))
    page = await get_json(client, data_url(project, "client-reports/"), auth_headers)
    assert page["items"] == [
        {"reason": "queue_overflow", "category": "error", "quantity": 6},
        {"reason": "sample_rate", "category": "transaction", "quantity": 20},
    ]


async def test_raw_items_by_type_and_payload_download(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """Any item, even of an unknown type, is listed and its payload downloads byte for byte."""
    blob = bytes(range(256)) * 3
    await send_items(
        client,
        project,
        f.item("profile_chunk", blob, content_type="application/octet-stream"),
        f.item("statsd", b"metric:1|c", content_type="text/plain"),
    )
    url = data_url(project, "items/")
    everything = await get_json(client, url, auth_headers)
    assert {i["type"] for i in everything["items"]} == {"profile_chunk", "statsd"}
    page = await get_json(client, url, auth_headers, {"type": "profile_chunk"})
    [item] = page["items"]
    assert set(item) == {
        "id",
        "envelope_id",
        "position",
        "type",
        "headers",
        "size",
        "received_at",
        "payload_url",
    }
    assert (item["position"], item["size"]) == (0, len(blob))
    assert item["headers"] == {
        "type": "profile_chunk",
        "length": len(blob),
        "content_type": "application/octet-stream",
    }
    assert item["payload_url"] == f"http://testserver{url}{item['id']}/payload"
    response = await client.get(item["payload_url"], headers=auth_headers)
    assert response.status_code == 200
    assert response.content == blob
    assert response.headers["content-type"] == "application/octet-stream"
    statsd = (await get_json(client, url, auth_headers, {"type": "statsd"}))["items"][0]
    text = await client.get(statsd["payload_url"], headers=auth_headers)
    assert (text.content, text.headers["content-type"]) == (b"metric:1|c", "text/plain")
    walked, pages = await walk(client, url, auth_headers, limit=1)
    assert (len({i["id"] for i in walked}), pages) == (2, 2)
    missing = await client.get(f"{url}999999/payload", headers=auth_headers)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "rest",
    [
        "sessions/",
        "monitors/",
        "monitors/x/check-ins/",
        "logs/",
        "feedback/",
        "client-reports/",
        "items/",
        "items/{item_id}/payload",
    ],
)
async def test_non_members_get_404(
    client: httpx.AsyncClient, core: Resentry, project: Project, rest: str
) -> None:
    """Every data route of a project the caller cannot see answers 404; members get through."""
    await send_items(client, project, f.item("check_in", check_in("x", "ok")))
    [item] = (await core.storage.list_items(project.id)).items
    rest = rest.format(item_id=item.id)
    _, outsider = await add_user(core, client, "outsider")
    _, member = await add_user(core, client, "member", projects=[project])
    assert (await client.get(data_url(project, rest), headers=outsider)).status_code == 404
    assert (await client.get(data_url(project, rest), headers=member)).status_code == 200
