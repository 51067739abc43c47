"""Notifications across real processes: a server that leaves the work to ``resentry worker``,
a worker killed with SIGKILL mid-delivery, and everything over HTTP on 127.0.0.1."""

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx

from resentry_core import Dsn
from tests.core.records import error_envelope as stored_envelope
from tests.factories import error_envelope
from tests.notify.fakes import LOOPBACK, Reply, SmtpServer, WebhookReceiver, message_parts
from tests.server.conftest import ROOT, LiveServer, StartLiveServer

PASSWORD = "a perfectly fine password"
WAIT_SECONDS = 90.0


def wait_for(check: Callable[[], bool], what: str) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``WAIT_SECONDS``."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.1)


@contextmanager
def worker_process(server: LiveServer, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m resentry_server worker`` with the server's settings; SIGKILLed on exit
    if it is still running."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "resentry_server", "worker"],
            env={**server.env, **env},
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "worker started" in log.read_text(errors="replace"), "the worker")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _setup(server: LiveServer, receiver: WebhookReceiver) -> tuple[int, str, dict[str, str]]:
    """An admin, a project, and a webhook channel to ``receiver``; returns the project id,
    its DSN's key and the admin's headers."""
    server.create_user("admin", PASSWORD, admin=True)
    project_id, dsn = server.create_project("Shop")
    headers = server.login("admin", PASSWORD)
    response = httpx.post(
        f"{server.base_url}/api/v1/projects/{project_id}/channels/",
        json={"name": "ops", "kind": "webhook", "target": receiver.url + "/hook"},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    receiver.secret = response.json()["secret"]
    return project_id, Dsn.parse(dsn).public_key, headers


def _send(server: LiveServer, project_id: int, key: str, **fields: str) -> None:
    response = httpx.post(
        f"{server.base_url}/api/{project_id}/envelope/",
        content=error_envelope(**fields),
        headers={"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def _deliveries(
    server: LiveServer, project_id: int, headers: dict[str, str]
) -> list[dict[str, object]]:
    response = httpx.get(
        f"{server.base_url}/api/v1/projects/{project_id}/deliveries/",
        headers=headers,
        timeout=30,
    )
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_api_processes_leave_delivery_and_retention_to_the_worker_process(
    start_live_server: StartLiveServer, tmp_path: Path
) -> None:
    """With ``RESENTRY_WORKER=false`` the server stores events but neither delivers nor
    prunes; ``resentry worker`` then does both, and stops cleanly on SIGTERM."""
    with WebhookReceiver("unset") as receiver:
        server = start_live_server(RESENTRY_WORKER="false", RESENTRY_WEBHOOK_ALLOW_PRIVATE="true")
        project_id, key, headers = _setup(server, receiver)
        async with server.open_core() as core:
            await core.storage.update_project(project_id, retention_days=1)
            old = datetime.now(UTC) - timedelta(days=3)
            await core.storage.record(
                [stored_envelope(project_id, fingerprint="old", received_at=old)]
            )
        _send(server, project_id, key, exc_type="KeyError")
        await anyio.sleep(4)  # several rounds of a worker, had the server run one
        assert receiver.requests == []
        assert _deliveries(server, project_id, headers) == []
        async with server.open_core() as core:
            assert len((await core.storage.list_issues(project_id)).items) == 2
        log = tmp_path / "worker.log"
        with worker_process(server, log) as worker:
            wait_for(
                lambda: any("KeyError" in r.json()["issue"]["title"] for r in receiver.requests),
                "the webhook",
            )

            async def pruned() -> bool:
                async with server.open_core() as core:
                    return len((await core.storage.list_issues(project_id)).items) == 1

            deadline = time.monotonic() + WAIT_SECONDS
            while not await pruned():
                assert time.monotonic() < deadline, "the retention sweep"
                await anyio.sleep(0.2)
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(60) == 0
        # The old issue's notice may or may not go out before the sweep deletes the issue.
        assert all(receiver.verified)
        assert "worker stopped" in log.read_text()
        assert {d["status"] for d in _deliveries(server, project_id, headers)} == {"delivered"}


async def test_a_worker_killed_mid_delivery_loses_nothing(
    start_live_server: StartLiveServer, tmp_path: Path
) -> None:
    """SIGKILL while the receiver holds a delivery's request open: after a restart every
    notification arrives, each at most twice, with the same idempotency key."""
    issues = 5
    with WebhookReceiver("unset") as receiver:
        server = start_live_server(RESENTRY_WORKER="false", RESENTRY_WEBHOOK_ALLOW_PRIVATE="true")
        project_id, key, headers = _setup(server, receiver)
        for n in range(issues):
            _send(server, project_id, key, exc_type=f"Error{n}")
        receiver.replies.extend(Reply(200, delay=30.0) for _ in range(issues))
        env = {"RESENTRY_NOTIFY_LEASE_SECONDS": "2"}
        with worker_process(server, tmp_path / "first.log", **env) as first:
            wait_for(lambda: len(receiver.requests) >= 1, "a delivery in flight")
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        in_flight = len(receiver.requests)
        receiver.replies.clear()
        with worker_process(server, tmp_path / "second.log", **env) as second:
            wait_for(
                lambda: (
                    all(
                        d["status"] == "delivered" for d in _deliveries(server, project_id, headers)
                    )
                    and len(_deliveries(server, project_id, headers)) == issues
                ),
                "every delivery",
            )
            second.send_signal(signal.SIGTERM)
            assert second.wait(60) == 0
        keys = Counter(request.headers["idempotency-key"] for request in receiver.requests)
        assert len(keys) == issues
        assert max(keys.values()) <= 2
        assert sum(keys.values()) <= issues + in_flight
        assert all(receiver.verified)


def test_a_member_gets_a_new_issue_by_email_from_the_worker(
    start_live_server: StartLiveServer,
) -> None:
    """A member with an ``email`` (set through the API) and a new issue sent over HTTP: the
    server's own worker writes one message to the SMTP server (aiosmtpd on 127.0.0.1), with
    the title in the subject, escaped in the HTML part and as is in the plain-text part; the
    delivery log says delivered."""
    title_value = "<script>alert(1)</script> & <b>bold</b>"
    with SmtpServer() as smtp:
        server = start_live_server(
            RESENTRY_SMTP_HOST=LOOPBACK,
            RESENTRY_SMTP_PORT=str(smtp.port),
            RESENTRY_SMTP_SECURITY="none",
            RESENTRY_EMAIL_FROM="Resentry <resentry@example.com>",
            RESENTRY_PUBLIC_URL="https://errors.example.com",
        )
        server.create_user("admin", PASSWORD, admin=True)
        project_id, dsn = server.create_project("Shop")
        headers = server.login("admin", PASSWORD)
        api = f"{server.base_url}/api/v1"
        user = httpx.post(
            f"{api}/users/",
            json={"username": "eve", "password": PASSWORD, "email": "eve@example.com"},
            headers=headers,
            timeout=30,
        )
        assert user.status_code == 201, user.text
        member = httpx.post(
            f"{api}/projects/{project_id}/members/",
            json={"user_id": user.json()["id"]},
            headers=headers,
            timeout=30,
        )
        assert member.status_code == 201, member.text
        _send(server, project_id, Dsn.parse(dsn).public_key, value=title_value)
        wait_for(lambda: len(smtp.messages()) >= 1, "the e-mail")
        wait_for(
            lambda: (
                [d["status"] for d in _deliveries(server, project_id, headers)] == ["delivered"]
            ),
            "the delivery log",
        )
        [message] = smtp.messages()
        assert smtp.recipients() == [["eve@example.com"]]
        [delivery] = _deliveries(server, project_id, headers)
    title = f"ValueError: {title_value}"
    assert message["To"] == "eve@example.com"
    assert message["From"] == "Resentry <resentry@example.com>"
    unfolded = "".join(message["Subject"].splitlines())  # RFC 5322 unfolding
    assert unfolded == f"[Resentry] New issue in Shop: {title}"
    body = message_parts(message)
    assert set(body) == {"text/plain", "text/html"}
    assert title in body["text/plain"]
    assert "<script>" not in body["text/html"]
    assert (
        "ValueError: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
        in body["text/html"]
    )
    issue_page = f"https://errors.example.com/projects/{project_id}/issues/{delivery['issue_id']}/"
    assert f"Issue: {issue_page}" in body["text/plain"]
    assert f'<a href="{issue_page}">' in body["text/html"]
    assert (delivery["destination"], delivery["reason"], delivery["attempts"]) == (
        f"user:{user.json()['id']}:email",
        "new_issue",
        1,
    )
