"""Storage contract: sessions, cron check-ins, logs, feedback and client reports."""

import pytest

from resentry_core._errors import NotFoundError
from resentry_core._models import ReleaseHealth
from resentry_core._projects import Projects
from resentry_core._records import SessionAggregate
from resentry_core._storage._protocol import EventFilter, Storage
from tests.core.records import (
    T0,
    at,
    check_in,
    check_in_envelope,
    client_report_envelope,
    feedback_envelope,
    log_envelope,
    log_record,
    new_id,
    session_envelope,
    session_update,
    sessions_envelope,
)


def _health(
    release: str = "app@1.0.0",
    environment: str | None = "production",
    *,
    started: int = 0,
    errored: int = 0,
    crashed: int = 0,
    abnormal: int = 0,
    exited: int = 0,
) -> ReleaseHealth:
    return ReleaseHealth(
        release=release,
        environment=environment,
        started=started,
        errored=errored,
        crashed=crashed,
        abnormal=abnormal,
        exited=exited,
    )


async def test_session_ok_then_exited(storage: Storage) -> None:
    """A session that starts ok and exits counts once in started and once in exited."""
    project_id = (await Projects(storage).create_project("App")).id
    await storage.record(
        [
            session_envelope(project_id, session_update("s1", seq=1, init=True)),
            session_envelope(project_id, session_update("s1", seq=2, status="exited")),
        ]
    )
    assert await storage.release_health(project_id) == [_health(started=1, exited=1)]


async def test_session_crashed(storage: Storage) -> None:
    """A crashed session counts in started, errored and crashed."""
    project_id = (await Projects(storage).create_project("App")).id
    await storage.record([session_envelope(project_id, session_update("s1", seq=1, init=True))])
    await storage.record(
        [session_envelope(project_id, session_update("s1", seq=5, status="crashed", errors=1))]
    )
    assert await storage.release_health(project_id) == [_health(started=1, errored=1, crashed=1)]


async def test_session_with_errors_is_errored(storage: Storage) -> None:
    """A session that reported errors counts as errored, and also in its terminal status."""
    project_id = (await Projects(storage).create_project("App")).id
    await storage.record(
        [
            session_envelope(
                project_id,
                session_update("s1", seq=1, init=True),
                session_update("s1", seq=2, errors=2),
                session_update("s1", seq=3, status="exited", errors=2),
            ),
            session_envelope(project_id, session_update("s2", seq=1, status="abnormal")),
            session_envelope(project_id, session_update("s3", seq=1, init=True, errors=1)),
        ]
    )
    assert await storage.release_health(project_id) == [
        _health(started=3, errored=3, exited=1, abnormal=1)
    ]


async def test_late_lower_seq_does_not_override(storage: Storage) -> None:
    """An update with a lower seq arriving late leaves the session's status alone."""
    project_id = (await Projects(storage).create_project("App")).id
    await storage.record(
        [session_envelope(project_id, session_update("s1", seq=3, status="exited"))]
    )
    await storage.record([session_envelope(project_id, session_update("s1", seq=1, init=True))])
    assert await storage.release_health(project_id) == [_health(started=1, exited=1)]
    await storage.record([session_envelope(project_id, session_update("s1", seq=2, errors=1))])
    assert await storage.release_health(project_id) == [_health(started=1, errored=1, exited=1)]


async def test_release_health_per_release_and_environment(storage: Storage) -> None:
    """Counts are kept per release and environment, ordered, and per project."""
    project_id = (await Projects(storage).create_project("App")).id
    other = (await Projects(storage).create_project("Other")).id
    await storage.record(
        [
            session_envelope(
                project_id,
                session_update("a", seq=1, status="exited", release="app@2.0.0"),
                session_update("b", seq=1, status="crashed", release="app@1.0.0"),
                session_update("c", seq=1, status="exited", environment="staging"),
                session_update("d", seq=1, init=True, environment=None),
            ),
            session_envelope(other, session_update("a", seq=1, status="exited")),
        ]
    )
    assert await storage.release_health(project_id) == [
        _health(environment=None, started=1),
        _health(started=1, errored=1, crashed=1),
        _health(environment="staging", started=1, exited=1),
        _health("app@2.0.0", started=1, exited=1),
    ]
    assert await storage.release_health(other) == [_health(started=1, exited=1)]


async def test_session_aggregates_add_up(storage: Storage) -> None:
    """Aggregate buckets count like that many sessions and add to individual sessions."""
    project_id = (await Projects(storage).create_project("App")).id
    bucket = SessionAggregate(
        started=T0, release="app@1.0.0", environment="production", exited=5, errored=2, crashed=1
    )
    abnormal = SessionAggregate(
        started=at(60), release="app@1.0.0", environment="production", abnormal=1
    )
    await storage.record([sessions_envelope(project_id, bucket, abnormal)])
    await storage.record([sessions_envelope(project_id, bucket)])
    await storage.record(
        [session_envelope(project_id, session_update("s1", seq=1, status="exited"))]
    )
    assert await storage.release_health(project_id) == [
        _health(started=8 + 8 + 1 + 1, errored=3 + 3 + 1, crashed=2, abnormal=1, exited=7 + 7 + 1)
    ]


async def test_first_check_in_creates_monitor(storage: Storage) -> None:
    """A check-in for an unknown slug creates its monitor, with no config."""
    project_id = (await Projects(storage).create_project("App")).id
    record = check_in(new_id(), monitor_slug="backup", status="ok", duration=2.5, timestamp=at(10))
    await storage.record([check_in_envelope(project_id, record)])
    [monitor] = await storage.list_monitors(project_id)
    assert (monitor.slug, monitor.project_id, monitor.config) == ("backup", project_id, None)
    assert (monitor.last_check_in, monitor.last_status) == (at(10), "ok")
    [stored] = (await storage.list_check_ins(project_id, "backup")).items
    assert (stored.check_in_id, stored.status, stored.duration) == (record.check_in_id, "ok", 2.5)
    assert (stored.monitor_id, stored.timestamp, stored.environment) == (
        monitor.id,
        at(10),
        "production",
    )
    with pytest.raises(NotFoundError):
        await storage.list_check_ins(project_id, "unknown")
    other = (await Projects(storage).create_project("Other")).id
    with pytest.raises(NotFoundError):
        await storage.list_check_ins(other, "backup")


async def test_monitor_config_upserts_monitor(storage: Storage) -> None:
    """``monitor_config`` sets, then replaces, the monitor's config; others keep it."""
    project_id = (await Projects(storage).create_project("App")).id
    daily = {"schedule": {"type": "crontab", "value": "0 3 * * *"}, "checkin_margin": 5}
    hourly = {"schedule": {"type": "interval", "value": 1, "unit": "hour"}}
    for index, config in enumerate([daily, None, hourly, None]):
        record = check_in(new_id(), monitor_slug="etl", timestamp=at(index), monitor_config=config)
        await storage.record([check_in_envelope(project_id, record)])
    [monitor] = await storage.list_monitors(project_id)
    assert monitor.config == hourly
    record = check_in(new_id(), monitor_slug="aaa-first", timestamp=at(9))
    await storage.record([check_in_envelope(project_id, record)])
    assert [m.slug for m in await storage.list_monitors(project_id)] == ["aaa-first", "etl"]
    assert len((await storage.list_check_ins(project_id, "etl")).items) == 4


async def test_in_progress_then_ok_is_one_check_in(storage: Storage) -> None:
    """An in_progress then ok check-in with one id ends as one ok check-in with a duration.

    Without a duration, the check-in's elapsed time is used; given fields replace old ones.
    """
    project_id = (await Projects(storage).create_project("App")).id
    timed, untimed, trace = new_id(), new_id(), new_id()
    await storage.record(
        [
            check_in_envelope(project_id, check_in(timed, status="in_progress", timestamp=at(0))),
            check_in_envelope(project_id, check_in(untimed, status="in_progress", timestamp=at(5))),
        ]
    )
    await storage.record(
        [
            check_in_envelope(
                project_id, check_in(timed, status="ok", duration=42.0, timestamp=at(42))
            ),
            check_in_envelope(
                project_id,
                check_in(
                    untimed,
                    status="error",
                    timestamp=at(35),
                    environment=None,
                    release="job@2",
                    trace_id=trace,
                ),
            ),
        ]
    )
    page = await storage.list_check_ins(project_id, "nightly-job")
    assert [(c.check_in_id, c.status, c.duration, c.timestamp) for c in page.items] == [
        (untimed, "error", 30.0, at(5)),
        (timed, "ok", 42.0, at(0)),
    ]
    updated = page.items[0]
    assert (updated.environment, updated.release, updated.trace_id) == (
        "production",
        "job@2",
        trace,
    )
    [monitor] = await storage.list_monitors(project_id)
    assert (monitor.last_check_in, monitor.last_status) == (at(42), "ok")


async def test_nil_check_in_id_never_merges(storage: Storage) -> None:
    """Check-ins with the nil id are each their own check-in."""
    project_id = (await Projects(storage).create_project("App")).id
    for index in range(3):
        record = check_in("0" * 32, status="ok", duration=1.0, timestamp=at(index))
        await storage.record([check_in_envelope(project_id, record)])
    page = await storage.list_check_ins(project_id, "nightly-job")
    assert [c.timestamp for c in page.items] == [at(2), at(1), at(0)]


async def test_check_ins_newest_first_paginated(storage: Storage) -> None:
    """Check-ins are listed newest timestamp first, page by page, without repeats."""
    project_id = (await Projects(storage).create_project("App")).id
    ids = [new_id() for _ in range(5)]
    await storage.record(
        [
            check_in_envelope(project_id, check_in(check_in_id, timestamp=at(index)))
            for index, check_in_id in enumerate(ids)
        ]
    )
    first = await storage.list_check_ins(project_id, "nightly-job", limit=3)
    assert first.next_cursor is not None
    second = await storage.list_check_ins(
        project_id, "nightly-job", cursor=first.next_cursor, limit=3
    )
    assert second.next_cursor is None
    walked = [c.check_in_id for c in [*first.items, *second.items]]
    assert walked == list(reversed(ids))


async def test_logs_newest_first_and_filtered(storage: Storage) -> None:
    """Logs are listed newest timestamp first and filtered by level and trace id."""
    project_id = (await Projects(storage).create_project("App")).id
    trace = new_id()
    await storage.record(
        [
            log_envelope(
                project_id,
                log_record("starting", timestamp=at(1), trace_id=trace),
                log_record("disk low", level="warn", timestamp=at(3)),
                log_record("query failed", level="error", timestamp=at(2), trace_id=trace),
                log_record("attrs", timestamp=at(0), attributes={"user.id": 7, "ok": True}),
            )
        ]
    )
    logs = (await storage.list_logs(project_id)).items
    assert [log.body for log in logs] == ["disk low", "query failed", "starting", "attrs"]
    assert logs[-1].attributes == {"user.id": 7, "ok": True}
    assert (logs[0].level, logs[0].timestamp, logs[0].severity_number) == ("warn", at(3), 9)
    by_level = (await storage.list_logs(project_id, level="error")).items
    assert [log.body for log in by_level] == ["query failed"]
    by_trace = (await storage.list_logs(project_id, trace_id=trace)).items
    assert [log.body for log in by_trace] == ["query failed", "starting"]
    both = (await storage.list_logs(project_id, trace_id=trace, level="info")).items
    assert [log.body for log in both] == ["starting"]
    paged = await storage.list_logs(project_id, limit=3)
    assert paged.next_cursor is not None
    rest = await storage.list_logs(project_id, limit=3, cursor=paged.next_cursor)
    assert ([log.body for log in rest.items], rest.next_cursor) == (["attrs"], None)


async def test_feedback_listed_newest_first(storage: Storage) -> None:
    """Feedback is listed newest first; a feedback event is stored without an issue."""
    project_id = (await Projects(storage).create_project("App")).id
    associated = new_id()
    old = feedback_envelope(project_id, message="slow page", received_at=at(1))
    new = feedback_envelope(
        project_id, message="crash!", associated_event_id=associated, received_at=at(2)
    )
    await storage.record([old, new])
    items = (await storage.list_feedback(project_id)).items
    assert [(f.message, f.event_id) for f in items] == [
        ("crash!", new.event_id),
        ("slow page", old.event_id),
    ]
    newest = items[0]
    assert (newest.associated_event_id, newest.name, newest.email) == (
        associated,
        "Jane",
        "jane@example.com",
    )
    assert (newest.url, newest.source, newest.received_at) == (
        "https://example.com/page",
        "feedback",
        at(2),
    )
    events = (await storage.list_events(EventFilter(type="feedback"))).items
    assert [(e.event_id, e.issue_id) for e in events] == [
        (new.event_id, None),
        (old.event_id, None),
    ]
    assert not (await storage.list_issues(project_id)).items


async def test_discard_counters_add_up(storage: Storage) -> None:
    """Client-report discards are summed per reason and category across envelopes."""
    project_id = (await Projects(storage).create_project("App")).id
    other = (await Projects(storage).create_project("Other")).id
    await storage.record(
        [
            client_report_envelope(
                project_id, ("sample_rate", "transaction", 10), ("queue_overflow", "error", 2)
            ),
            client_report_envelope(project_id, ("sample_rate", "transaction", 5)),
            client_report_envelope(other, ("before_send", "error", 1)),
        ]
    )
    await storage.record(
        [
            client_report_envelope(
                project_id, ("queue_overflow", "error", 1), ("sample_rate", "span", 3)
            )
        ]
    )
    counters = await storage.discard_counters(project_id)
    assert [(c.reason, c.category, c.quantity) for c in counters] == [
        ("queue_overflow", "error", 3),
        ("sample_rate", "span", 3),
        ("sample_rate", "transaction", 15),
    ]
    assert [(c.reason, c.quantity) for c in await storage.discard_counters(other)] == [
        ("before_send", 1)
    ]
