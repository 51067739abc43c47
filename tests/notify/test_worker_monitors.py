"""Cron-monitor deadlines: a missed, failed or timed-out check-in is one notification."""

from datetime import UTC, datetime, timedelta

from resentry_core import Monitor, Projects, SqlStorage
from resentry_core._notify._schedule import monitor_notice, next_expected
from tests.core.records import check_in, check_in_envelope, new_id
from tests.notify.fakes import FakeTelegram
from tests.notify.worker_helpers import TOKEN, Clock, Recorder, config, drain, worker_on

EVERY_FIVE_MINUTES = {"schedule": {"type": "interval", "value": 5, "unit": "minute"}}


async def _check_in(sql: SqlStorage, project_id: int, when: datetime, **fields: object) -> None:
    record = check_in(new_id(), timestamp=when, **fields)  # type: ignore[arg-type]
    await sql.record([check_in_envelope(project_id, record)])


async def test_a_monitor_that_stops_checking_in_is_one_missed_notification(
    sql: SqlStorage, sql_url: str
) -> None:
    """An interval monitor that stops checking in: one ``monitor_missed`` after the interval
    plus the margin, not one per later round; a new check-in re-arms it."""
    project = await Projects(sql).create_project("Jobs")
    app = Recorder()
    clock = Clock()
    async with worker_on(sql, config(sql_url), clock, [app]) as worker:
        await _check_in(
            sql, project.id, clock.now, monitor_config={**EVERY_FIVE_MINUTES, "checkin_margin": 2}
        )
        clock.advance(minutes=6, seconds=59)
        await drain(worker)
        assert app.received == []
        clock.advance(seconds=2)
        for _ in range(3):
            await drain(worker)
            clock.advance(minutes=10)
        assert app.reasons() == ["monitor_missed"]
        [notification] = app.received
        assert notification.monitor is not None
        assert (notification.monitor.slug, notification.monitor.status) == ("nightly-job", "missed")
        [monitor] = await sql.list_monitors(project.id)
        assert monitor.last_status == "missed"
        await _check_in(sql, project.id, clock.now)
        await drain(worker)
        assert app.reasons() == ["monitor_missed"]
        clock.advance(minutes=8)
        await drain(worker)
    assert app.reasons() == ["monitor_missed", "monitor_missed"]


async def test_failed_and_timed_out_check_ins(sql: SqlStorage, sql_url: str) -> None:
    """An ``error`` check-in is one ``monitor_failed``; an ``in_progress`` one without a
    closing check-in within ``max_runtime`` is one ``monitor_timeout``."""
    project = await Projects(sql).create_project("Jobs")
    app = Recorder()
    clock = Clock()
    async with worker_on(sql, config(sql_url), clock, [app]) as worker:
        await _check_in(sql, project.id, clock.now, status="error", monitor_slug="backup")
        await _check_in(
            sql,
            project.id,
            clock.now,
            status="in_progress",
            monitor_slug="import",
            monitor_config={"max_runtime": 3},
        )
        await drain(worker)
        clock.advance(minutes=3, seconds=1)
        await drain(worker)
        await drain(worker)
    assert app.reasons() == ["monitor_failed", "monitor_timeout"]
    assert [n.monitor.slug if n.monitor else None for n in app.received] == ["backup", "import"]


async def test_members_are_told_about_monitor_alerts(sql: SqlStorage, sql_url: str) -> None:
    """Members with a Telegram chat hear of a failed and a missed monitor, whatever their
    new-issue and regression switches; an alert counts as ``error`` against their
    ``min_level`` (``fatal`` hears nothing); a user who is not a member, admin or not, and a
    member of another project hear nothing."""
    jobs = await Projects(sql).create_project("Jobs")
    other = await Projects(sql).create_project("Other")
    chats = {"1", "2", "3", "4", "5"}
    ann = await sql.create_user("ann", "x", telegram_chat_id="1")
    bob = await sql.create_user("bob", "x", telegram_chat_id="2")
    cid = await sql.create_user("cid", "x", telegram_chat_id="3")
    await sql.create_user("root", "x", is_admin=True, telegram_chat_id="4")
    dan = await sql.create_user("dan", "x", telegram_chat_id="5")
    await sql.add_member(jobs.id, ann.id, min_level="error")
    await sql.add_member(
        jobs.id, bob.id, min_level="info", notify_new_issues=False, notify_regressions=False
    )
    await sql.add_member(jobs.id, cid.id, min_level="fatal")
    await sql.add_member(other.id, dan.id, min_level="debug")
    clock = Clock()
    with FakeTelegram(TOKEN, chats) as telegram:
        core = config(sql_url, telegram_url=telegram.url)
        async with worker_on(sql, core, clock) as worker:
            await _check_in(sql, jobs.id, clock.now, status="error", monitor_slug="backup")
            await _check_in(sql, jobs.id, clock.now, monitor_config=EVERY_FIVE_MINUTES)
            await drain(worker)
            clock.advance(minutes=8)  # past the interval and the default margin
            await drain(worker)
            await drain(worker)
        told = sorted((message["chat_id"], message["text"]) for message in telegram.messages)
    assert [chat for chat, _ in told] == ["1", "1", "2", "2"]
    assert sum("backup" in text for _, text in told) == 2
    log = (await sql.list_deliveries(jobs.id)).items
    assert sorted((entry.destination, entry.reason, entry.status) for entry in log) == [
        (f"user:{ann.id}:telegram", "monitor_failed", "delivered"),
        (f"user:{ann.id}:telegram", "monitor_missed", "delivered"),
        (f"user:{bob.id}:telegram", "monitor_failed", "delivered"),
        (f"user:{bob.id}:telegram", "monitor_missed", "delivered"),
    ]


def _monitor(config: dict[str, object], last: datetime | None, status: str = "ok") -> Monitor:
    return Monitor(
        id=1,
        project_id=1,
        slug="m",
        config=config,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        last_check_in=last,
        last_status=status,
    )


def test_crontab_schedules_follow_their_timezone() -> None:
    """A crontab is read in the monitor's timezone: 09:00 in Berlin is 08:00 UTC in winter."""
    config: dict[str, object] = {
        "schedule": {"type": "crontab", "value": "0 9 * * *"},
        "timezone": "Europe/Berlin",
    }
    last = datetime(2026, 1, 5, 8, 0, 30, tzinfo=UTC)
    assert next_expected(config, last) == datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    monitor = _monitor(config, last)
    assert monitor_notice(monitor, datetime(2026, 1, 6, 8, 1, tzinfo=UTC)) is None
    assert monitor_notice(monitor, datetime(2026, 1, 6, 8, 1, 1, tzinfo=UTC)) == "monitor_missed"


def test_configs_sdks_may_send_that_make_no_sense_give_no_deadline() -> None:
    """Unknown schedule types, bad crontabs, unknown zones or units: no deadline, no error."""
    last = datetime(2026, 1, 5, tzinfo=UTC)
    later = last + timedelta(days=400)
    configs: list[dict[str, object]] = [
        {"schedule": {"type": "crontab", "value": "not a crontab"}},
        {"schedule": {"type": "crontab", "value": "0 9 * * *"}, "timezone": "Mars/Olympus"},
        {"schedule": {"type": "interval", "value": 5, "unit": "fortnight"}},
        {"schedule": {"type": "interval", "value": -5, "unit": "minute"}},
        {"schedule": {"type": "interval", "value": True}},
        {"schedule": "every day"},
        {"schedule": {"type": "solar"}},
    ]
    for monitor_config in configs:
        assert monitor_notice(_monitor(monitor_config, last), later) is None, monitor_config
