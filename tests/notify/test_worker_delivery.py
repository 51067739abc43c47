"""The worker end to end on SQLite and PostgreSQL: who is told, once, and what survives failures.

Storage is real, the Bot API and the webhook receiver are real HTTP servers on 127.0.0.1
(``fakes``), the clock is set by hand so windows and backoffs need no sleeping.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from resentry_core import (
    Channel,
    DeliveryError,
    Notifications,
    Projects,
    SqlStorage,
    open_worker,
)
from resentry_core._notify._worker import PACED_BATCH
from tests.core.records import error_envelope
from tests.notify.fakes import FakeTelegram, Reply, WebhookReceiver
from tests.notify.worker_helpers import TOKEN, Clock, Recorder, config, drain, worker_on

MEMBER_CHAT = "1001"
ADMIN_CHAT = "2002"
SCRIPT_TITLE = "<script>alert(1)</script> & <b>bold</b>"


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    """The Bot API, knowing the member's and the admin's chats."""
    with FakeTelegram(TOKEN, {MEMBER_CHAT, ADMIN_CHAT}) as server:
        yield server


async def _project_with_member(sql: SqlStorage) -> int:
    """A project with one member (Telegram chat) and an admin who is not a member."""
    project = await Projects(sql).create_project("Shop")
    member = await sql.create_user("ann", "x", telegram_chat_id=MEMBER_CHAT)
    await sql.create_user("root", "x", is_admin=True, telegram_chat_id=ADMIN_CHAT)
    await sql.add_member(project.id, member.id)
    return project.id


async def _webhook(sql: SqlStorage, project_id: int, url: str) -> tuple[Channel, str]:
    """A webhook channel to the receiver at ``url``, with its signing secret."""
    service = Notifications(sql, allow_private=True)
    channel, secret = await service.create_channel(
        project_id, name="ops", kind="webhook", target=url
    )
    assert secret is not None
    return channel, secret


async def test_new_issue_tells_each_member_and_channel_once_escaped(
    sql: SqlStorage, sql_url: str, telegram: FakeTelegram
) -> None:
    """A new issue: one message per subscribed member and channel, the title escaped; an admin
    who is not a member hears nothing; the delivery log says delivered."""
    project_id = await _project_with_member(sql)
    quiet = await sql.create_user("quiet", "x", email="quiet@example.com")
    await sql.add_member(project_id, quiet.id, min_level="fatal")
    with WebhookReceiver("unused") as receiver:
        channel, receiver.secret = await _webhook(sql, project_id, receiver.url + "/hook")
        app = Recorder()
        clock = Clock()
        async with worker_on(sql, config(sql_url, telegram_url=telegram.url), clock, [app]) as w:
            await sql.record([error_envelope(project_id, title=SCRIPT_TITLE)])
            await drain(w)
            await drain(w)
        [message] = telegram.messages
        assert message["chat_id"] == MEMBER_CHAT
        assert (
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in message["text"]
        )
        assert "<script>" not in message["text"]
        [hook] = receiver.requests
        assert receiver.verified == [True]
        assert hook.json()["issue"]["title"] == SCRIPT_TITLE
        assert app.reasons() == ["new_issue"]
        assert app.received[0].issue_url == (
            f"http://errors.example.com/projects/{project_id}/issues/"
            f"{app.received[0].issue.id if app.received[0].issue else 0}/"
        )
    log = (await sql.list_deliveries(project_id)).items
    assert sorted(entry.destination for entry in log) == sorted(
        ["app:0", f"channel:{channel.id}", "user:1:telegram"]
    )
    assert {(entry.status, entry.attempts, entry.reason) for entry in log} == {
        ("delivered", 1, "new_issue")
    }


async def test_regression_after_resolve_is_one_message(
    sql: SqlStorage, sql_url: str, telegram: FakeTelegram
) -> None:
    """Resolving an issue and seeing it again is one ``regression`` message."""
    project_id = await _project_with_member(sql)
    clock = Clock()
    async with worker_on(sql, config(sql_url, telegram_url=telegram.url), clock) as worker:
        await sql.record([error_envelope(project_id)])
        await drain(worker)
        [issue] = (await sql.list_issues(project_id)).items
        await sql.set_issue_status(project_id, issue.id, "resolved")
        clock.advance(minutes=11)  # past the first message's window
        await sql.record([error_envelope(project_id)])
        await drain(worker)
        clock.advance(minutes=11)
        await drain(worker)
    assert len(telegram.messages) == 2
    assert "Regression" in telegram.messages[1]["text"]
    assert [entry.reason for entry in (await sql.list_deliveries(project_id)).items] == [
        "regression",
        "new_issue",
    ]


async def test_below_the_threshold_nobody_is_told(
    sql: SqlStorage, sql_url: str, telegram: FakeTelegram
) -> None:
    """A warning is below the default ``error`` threshold of members and app notifiers."""
    project_id = await _project_with_member(sql)
    app = Recorder()
    async with worker_on(sql, config(sql_url, telegram_url=telegram.url), Clock(), [app]) as worker:
        await sql.record([error_envelope(project_id, level="warning")])
        await drain(worker)
    assert telegram.messages == []
    assert app.received == []
    assert (await sql.list_deliveries(project_id)).items == ()


async def test_a_burst_is_one_message_and_one_digest(sql: SqlStorage, sql_url: str) -> None:
    """1,000 events of one issue within the window: one message, then one digest of the rest
    when the window ends, and nothing more once the issue is quiet."""
    project = await Projects(sql).create_project("Shop")
    app = Recorder()
    clock = Clock()
    async with worker_on(sql, config(sql_url), clock, [app]) as worker:
        await sql.record([error_envelope(project.id)])
        await drain(worker)
        for _ in range(9):
            await sql.record([error_envelope(project.id) for _ in range(111)])
            await drain(worker)
            clock.advance(seconds=30)
        assert app.reasons() == ["new_issue"]
        clock.advance(minutes=10)
        await drain(worker)
        clock.advance(minutes=11)
        await drain(worker)
    assert app.reasons() == ["new_issue", "digest"]
    assert app.received[1].count == 999
    assert app.received[1].key != app.received[0].key


async def test_retry_after_is_honoured(
    sql: SqlStorage, sql_url: str, telegram: FakeTelegram
) -> None:
    """Telegram's 429 with ``retry_after`` delays the next attempt by that long, then 200."""
    project_id = await _project_with_member(sql)
    telegram.replies.append(FakeTelegram.error(429, "Too Many Requests", retry_after=7))
    clock = Clock()
    async with worker_on(sql, config(sql_url, telegram_url=telegram.url), clock) as worker:
        await sql.record([error_envelope(project_id)])
        await drain(worker)
        [entry] = (await sql.list_deliveries(project_id)).items
        assert (entry.status, entry.attempts) == ("retrying", 1)
        assert entry.last_error is not None and "429" in entry.last_error
        assert TOKEN not in entry.last_error
        clock.advance(seconds=6)
        await drain(worker)
        assert telegram.messages == []
        clock.advance(seconds=1)
        await drain(worker)
    assert len(telegram.messages) == 1
    [entry] = (await sql.list_deliveries(project_id)).items
    assert (entry.status, entry.attempts, entry.last_error) == ("delivered", 2, None)


async def test_a_blocked_bot_fails_once_and_is_not_retried(
    sql: SqlStorage, sql_url: str, telegram: FakeTelegram
) -> None:
    """403 (bot blocked by the user) is permanent: failed after one attempt, never retried."""
    project_id = await _project_with_member(sql)
    telegram.replies.append(FakeTelegram.error(403, "Forbidden: bot was blocked by the user"))
    clock = Clock()
    async with worker_on(sql, config(sql_url, telegram_url=telegram.url), clock) as worker:
        await sql.record([error_envelope(project_id)])
        for _ in range(5):
            await drain(worker)
            clock.advance(hours=2)
    assert len(telegram.requests) == 1
    [entry] = (await sql.list_deliveries(project_id)).items
    assert (entry.status, entry.attempts) == ("failed", 1)
    assert entry.last_error is not None and "blocked" in entry.last_error


async def test_a_receiver_that_is_down_gets_it_when_back(sql: SqlStorage, sql_url: str) -> None:
    """Connection refused, then a 500: retried with backoff, delivered once it answers."""
    project = await Projects(sql).create_project("Shop")
    receiver = WebhookReceiver("unused")
    receiver.start()
    _, receiver.secret = await _webhook(sql, project.id, receiver.url)
    receiver.stop()
    clock = Clock()
    try:
        async with worker_on(sql, config(sql_url), clock) as worker:
            await sql.record([error_envelope(project.id)])
            await drain(worker)
            [entry] = (await sql.list_deliveries(project.id)).items
            assert (entry.status, entry.attempts) == ("retrying", 1)
            receiver.start()
            receiver.replies.append(Reply(500, b"busy"))
            clock.advance(seconds=10)  # the first backoff
            await drain(worker)
            clock.advance(seconds=20)  # doubled
            await drain(worker)
    finally:
        receiver.stop()
    assert len(receiver.requests) == 2
    assert receiver.verified == [True, True]
    assert (
        receiver.requests[0].headers["idempotency-key"]
        == (receiver.requests[1].headers["idempotency-key"])
    )
    [entry] = (await sql.list_deliveries(project.id)).items
    assert (entry.status, entry.attempts) == ("delivered", 3)


async def test_too_many_failures_end_as_failed(sql: SqlStorage, sql_url: str) -> None:
    """After ``notify_max_attempts`` failed attempts a delivery is failed, with its last error."""
    project = await Projects(sql).create_project("Shop")
    app = Recorder(failures=[DeliveryError(f"down {n}") for n in range(3)])
    clock = Clock()
    core = config(sql_url, notify_max_attempts=3)
    async with worker_on(sql, core, clock, [app]) as worker:
        await sql.record([error_envelope(project.id)])
        for _ in range(6):
            await drain(worker)
            clock.advance(hours=1)
    [entry] = (await sql.list_deliveries(project.id)).items
    assert (entry.status, entry.attempts, entry.last_error) == ("failed", 3, "down 2")
    assert app.received == []


async def test_level_rule_with_environment_filter(sql: SqlStorage, sql_url: str) -> None:
    """A ``level`` rule tells its channel about events at or above its level in its
    environment only, once per window; a rule-less default would not take warnings."""
    project = await Projects(sql).create_project("Shop")
    with WebhookReceiver("unused") as receiver:
        channel, receiver.secret = await _webhook(sql, project.id, receiver.url)
        await Notifications(sql, allow_private=True).create_rule(
            project.id,
            channel_id=channel.id,
            trigger="level",
            min_level="warning",
            environment="production",
        )
        async with worker_on(sql, config(sql_url), Clock()) as worker:
            await sql.record([error_envelope(project.id, level="info", fingerprint="a")])
            await sql.record(
                [error_envelope(project.id, level="warning", fingerprint="b", environment="dev")]
            )
            await sql.record([error_envelope(project.id, level="warning", fingerprint="c")])
            await sql.record([error_envelope(project.id, level="error", fingerprint="c")])
            await drain(worker)
            # Within the channel's window, ingestion writes no notice at all for the issue.
            await sql.record([error_envelope(project.id, level="fatal", fingerprint="c")])
            window = timedelta(minutes=10)
            assert await sql.fan_out(10, now=datetime.now(UTC), window=window) == 0
        titles = [request.json()["reason"] for request in receiver.requests]
    assert titles == ["level"]


async def test_a_paced_worker_sends_a_few_per_round(sql: SqlStorage, sql_url: str) -> None:
    """While its process ingests (``paced``), a round sends at most ``PACED_BATCH``
    deliveries; the others wait for the next rounds, none is lost or sent twice."""
    project = await Projects(sql).create_project("Shop")
    app = Recorder()
    issues = PACED_BATCH + 3
    envelopes = [error_envelope(project.id, fingerprint=f"fp{n}") for n in range(issues)]
    await sql.record(envelopes)
    clock = Clock()
    async with open_worker(
        config(sql_url), storage=sql, notifiers=[app], clock=clock, paced=lambda: True
    ) as worker:
        assert await worker.run_once()
        assert len(app.received) == PACED_BATCH
        await drain(worker)
    assert len({n.issue.id for n in app.received if n.issue}) == len(app.received) == issues
