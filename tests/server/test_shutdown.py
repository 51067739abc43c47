"""SIGTERM while envelopes are in flight: what was answered 200 is stored; the exit is clean."""

import signal
import time
import uuid
from dataclasses import dataclass

import anyio
import httpx

from resentry_core import Dsn
from resentry_core._errors import NotFoundError
from tests.factories import envelope, error_event, item
from tests.server.conftest import LiveServer

SENDERS = 16
REQUESTS_BEFORE_SIGTERM = 40
ATTACHMENT_BYTES = 256 * 1024  # makes each request take a little while


@dataclass(frozen=True)
class Answer:
    """One request and when it was sent and answered (monotonic seconds)."""

    event_id: str
    status: int
    sent_at: float
    answered_at: float


async def _send_until_refused(
    client: httpx.AsyncClient, url: str, key: str, answers: list[Answer], enough: anyio.Event
) -> None:
    attachment = bytes(ATTACHMENT_BYTES)
    while True:
        event_id = uuid.uuid4().hex
        body = envelope(
            [item("event", error_event()), item("attachment", attachment, filename="a.bin")],
            event_id=event_id,
        )
        sent_at = time.monotonic()
        try:
            response = await client.post(
                url, content=body, headers={"X-Sentry-Auth": f"Sentry sentry_key={key}"}
            )
        except httpx.TransportError:
            return  # the server stopped accepting: expected once it shuts down
        answers.append(Answer(event_id, response.status_code, sent_at, time.monotonic()))
        if len(answers) >= REQUESTS_BEFORE_SIGTERM:
            enough.set()


async def test_sigterm_stores_every_answered_envelope_and_exits_zero(
    live_server: LiveServer,
) -> None:
    """Requests in flight at SIGTERM are answered, every 200 is in the database, exit status 0."""
    project_id, dsn = live_server.create_project("Shutdown")
    key = Dsn.parse(dsn).public_key
    url = f"{live_server.base_url}/api/{project_id}/envelope/"
    answers: list[Answer] = []
    enough = anyio.Event()
    limits = httpx.Limits(max_connections=SENDERS)
    async with (
        httpx.AsyncClient(limits=limits, timeout=60) as client,
        anyio.create_task_group() as tg,
    ):
        for _ in range(SENDERS):
            tg.start_soon(_send_until_refused, client, url, key, answers, enough)
        with anyio.fail_after(120):
            await enough.wait()
        live_server.process.send_signal(signal.SIGTERM)
        signalled_at = time.monotonic()
        await anyio.to_thread.run_sync(live_server.process.wait, 60)
    assert live_server.process.returncode == 0, live_server.log()
    assert "Traceback" not in live_server.log()
    assert {answer.status for answer in answers} == {200}
    in_flight = [a for a in answers if a.sent_at < signalled_at < a.answered_at]
    assert in_flight, "no request was in flight when SIGTERM arrived"
    async with live_server.open_core() as core:
        missing = []
        for answer in answers:
            try:
                detail = await core.storage.get_event(project_id, answer.event_id)
            except NotFoundError:
                missing.append(answer.event_id)
                continue
            assert [a.size for a in detail.attachments] == [ATTACHMENT_BYTES]
    assert missing == []
