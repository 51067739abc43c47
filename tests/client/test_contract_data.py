"""Both clients against the real app: events, downloads, issues and the other kinds of data."""

import gzip
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from resentry_client import (
    CheckIn,
    DiscardCounter,
    Download,
    Event,
    EventDetail,
    Feedback,
    Issue,
    LogRecord,
    Monitor,
    NotFoundError,
    ReleaseHealth,
    StoredItem,
)
from resentry_core._models import Project
from tests import factories as f
from tests.client.conftest import Api
from tests.server.api_helpers import ingest, send_error, send_items

ATTACHMENT = bytes(range(256)) * 5


async def test_events_list_filters_and_detail(
    admin_api: Api, client: httpx.AsyncClient, project: Project
) -> None:
    """Events list newest first with every filter; the detail has payload and attachments."""
    first = await send_error(client, project, release="shop@1.0.0", environment="staging")
    second = await send_error(client, project, exc_type="KeyError", level="warning")
    await send_items(client, project, f.item("transaction", f.transaction_event()))
    pid = project.id
    events = await admin_api.collect(lambda c: c.events.list(pid, limit=1))
    assert all(isinstance(e, Event) for e in events)
    assert [e.event_id for e in events][1:] == [second, first]
    assert events[0].type == "transaction" and events[0].span_count == 3

    async def ids(**filters: object) -> list[str]:
        found = await admin_api.collect(lambda c: c.events.list(pid, **filters))
        return [e.event_id for e in found]

    assert await ids(level="warning") == [second]
    assert await ids(environment="staging") == [first]
    assert await ids(release="shop@1.0.0", type="error") == [second, first]
    assert await ids(issue_id=events[1].issue_id) == [second]
    assert await ids(since=datetime.now(UTC) + timedelta(hours=1)) == []
    assert len(await ids(until=datetime.now(UTC) + timedelta(hours=1))) == 3
    assert await ids(since=datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)) != []
    everywhere = await admin_api.collect(lambda c: c.events.list_all(type="error"))
    assert [e.event_id for e in everywhere] == [second, first]

    detail = await admin_api(lambda c: c.events.get(pid, first))
    assert isinstance(detail, EventDetail)
    assert detail.payload["exception"]["values"][0]["type"] == "ValueError"
    assert detail.environment == "staging"
    assert detail.attachments == []
    assert detail.envelope_url.endswith(f"/envelopes/{detail.envelope_id}")
    dashed = str(uuid.UUID(first)).upper()
    assert (await admin_api(lambda c: c.events.get(pid, dashed))).event_id == first
    with pytest.raises(NotFoundError, match=r"event \w+ not found"):
        await admin_api(lambda c: c.events.get(pid, uuid.uuid4().hex))


async def _event_with_attachment(client: httpx.AsyncClient, project: Project) -> str:
    event_id = uuid.uuid4().hex
    body = f.envelope(
        [
            f.item("event", f.error_event()),
            f.item(
                "attachment",
                ATTACHMENT,
                filename="../dump.bin",
                content_type="application/octet-stream",
            ),
        ],
        event_id=event_id,
    )
    await ingest(client, project, gzip.compress(body), {"Content-Encoding": "gzip"})
    return event_id


async def test_attachment_and_envelope_downloads(
    admin_api: Api, client: httpx.AsyncClient, project: Project, tmp_path: Path
) -> None:
    """Attachments and envelopes stream byte-exact to a directory (under the server's safe file
    name), a file or a stream; ``raw`` keeps the SDK's compression; a failed download leaves
    no file."""
    event_id = await _event_with_attachment(client, project)
    pid = project.id
    detail = await admin_api(lambda c: c.events.get(pid, event_id))
    [attachment] = detail.attachments
    assert (attachment.filename, attachment.size) == ("../dump.bin", len(ATTACHMENT))
    tmp_path = tmp_path / "downloads"
    tmp_path.mkdir()

    into_dir = await admin_api(lambda c: c.attachments.download(pid, attachment.id, tmp_path))
    assert into_dir == Download(
        filename="dump.bin",
        content_type="application/octet-stream",
        size=len(ATTACHMENT),
        path=str(tmp_path / "dump.bin"),
    )
    assert (tmp_path / "dump.bin").read_bytes() == ATTACHMENT
    named = tmp_path / "copy.bin"
    await admin_api(lambda c: c.attachments.download(pid, attachment.id, str(named)))
    assert named.read_bytes() == ATTACHMENT
    stream = io.BytesIO()
    streamed = await admin_api(lambda c: c.attachments.download(pid, attachment.id, stream))
    assert (stream.getvalue(), streamed.path) == (ATTACHMENT, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.bin", "dump.bin"]

    decoded = io.BytesIO()
    await admin_api(lambda c: c.envelopes.download(pid, detail.envelope_id, decoded))
    assert decoded.getvalue().startswith(b'{"event_id":"' + event_id.encode())
    raw = io.BytesIO()
    await admin_api(lambda c: c.envelopes.download(pid, detail.envelope_id, raw, raw=True))
    assert gzip.decompress(raw.getvalue()) == decoded.getvalue()

    missing = tmp_path / "missing.bin"
    with pytest.raises(NotFoundError):
        await admin_api(lambda c: c.attachments.download(pid, attachment.id + 99, missing))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.bin", "dump.bin"]


async def test_issues(admin_api: Api, client: httpx.AsyncClient, project: Project) -> None:
    """Issues list (by status and sort), read, resolve, ignore, reopen, and list their events."""
    one = await send_error(client, project)
    two = await send_error(client, project)
    other = await send_error(client, project, exc_type="KeyError", function="other")
    pid = project.id
    issues = await admin_api.collect(lambda c: c.issues.list(pid, sort="times_seen"))
    assert all(isinstance(i, Issue) for i in issues)
    assert [i.times_seen for i in issues] == [2, 1]
    busy, quiet = issues
    assert quiet.last_event_id == other
    assert await admin_api(lambda c: c.issues.get(pid, busy.id)) == busy

    resolved = await admin_api(lambda c: c.issues.resolve(pid, busy.id))
    assert resolved.status == "resolved"
    assert [
        i.id for i in await admin_api.collect(lambda c: c.issues.list(pid, status="resolved"))
    ] == [busy.id]
    assert (await admin_api(lambda c: c.issues.ignore(pid, busy.id))).status == "ignored"
    assert (await admin_api(lambda c: c.issues.reopen(pid, busy.id))).status == "unresolved"
    assert (await admin_api(lambda c: c.issues.set_status(pid, quiet.id, "ignored"))).status == (
        "ignored"
    )
    events = await admin_api.collect(lambda c: c.issues.events(pid, busy.id, limit=1))
    assert [e.event_id for e in events] == [two, one]
    with pytest.raises(NotFoundError):
        await admin_api(lambda c: c.issues.get(pid, busy.id + 100))


async def test_other_data(admin_api: Api, client: httpx.AsyncClient, project: Project) -> None:
    """Release health, monitors and check-ins, logs, feedback, client reports and raw items."""
    started = "2026-11-26T03:00:00Z"
    session = {
        "sid": uuid.uuid4().hex,
        "started": started,
        "status": "crashed",
        "errors": 1,
        "init": True,
        "attrs": {"release": "shop@1.0.0", "environment": "production"},
    }
    check_in = {"check_in_id": uuid.uuid4().hex, "monitor_slug": "nightly", "status": "ok"}
    logs = {"items": [{"timestamp": 1764126000.0, "level": "error", "body": "failed"}]}
    feedback = {"contexts": {"feedback": {"message": "broken", "name": "Jane"}}}
    report = {
        "discarded_events": [{"reason": "queue_overflow", "category": "error", "quantity": 3}]
    }
    await send_items(client, project, f.item("session", session))
    await send_items(client, project, f.item("check_in", check_in))
    await send_items(
        client,
        project,
        f.item("log", logs, item_count=1, content_type="application/vnd.sentry.items.log+json"),
    )
    await send_items(client, project, f.item("feedback", feedback), event_id=uuid.uuid4().hex)
    await send_items(client, project, f.item("client_report", report))
    await send_items(client, project, f.item("statsd", b"metric:1|c", content_type="text/plain"))
    pid = project.id

    [health] = await admin_api.collect(lambda c: c.sessions.list(pid))
    assert health == ReleaseHealth(
        release="shop@1.0.0",
        environment="production",
        started=1,
        errored=1,
        crashed=1,
        abnormal=0,
        exited=0,
    )
    [monitor] = await admin_api.collect(lambda c: c.monitors.list(pid))
    assert isinstance(monitor, Monitor) and (monitor.slug, monitor.last_status) == ("nightly", "ok")
    [check] = await admin_api.collect(lambda c: c.monitors.check_ins(pid, "nightly"))
    assert isinstance(check, CheckIn) and check.check_in_id == check_in["check_in_id"]
    with pytest.raises(NotFoundError):
        await admin_api.collect(lambda c: c.monitors.check_ins(pid, "no such/monitor"))
    [log] = await admin_api.collect(lambda c: c.logs.list(pid, level="error"))
    assert isinstance(log, LogRecord) and log.body == "failed"
    assert await admin_api.collect(lambda c: c.logs.list(pid, trace_id="0" * 32)) == []
    [said] = await admin_api.collect(lambda c: c.feedback.list(pid))
    assert isinstance(said, Feedback) and (said.message, said.name) == ("broken", "Jane")
    assert await admin_api.collect(lambda c: c.client_reports.list(pid)) == [
        DiscardCounter(reason="queue_overflow", category="error", quantity=3)
    ]
    [statsd] = await admin_api.collect(lambda c: c.items.list(pid, type="statsd"))
    assert isinstance(statsd, StoredItem) and statsd.size == len(b"metric:1|c")
    payload = io.BytesIO()
    download = await admin_api(lambda c: c.items.download(pid, statsd.id, payload))
    assert (payload.getvalue(), download.content_type) == (
        b"metric:1|c",
        "text/plain",
    )
    assert len(await admin_api.collect(lambda c: c.items.list(pid))) == 6
