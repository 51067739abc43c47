"""The delivery log's retention: finished deliveries go after ``delivery_retention``, pending
and retrying ones never (SQLite and PostgreSQL)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from resentry_core import DeliveryError, Notifications, Projects, SqlStorage
from resentry_core._storage._sql_notify_work import Outcome
from resentry_core._storage._tables import notification_outbox
from tests.core.records import error_envelope
from tests.notify.worker_helpers import Clock, Recorder, config, drain, worker_on


async def test_prune_deliveries_takes_only_finished_ones(sql: SqlStorage) -> None:
    """Delivered and failed deliveries last updated before the cutoff go; a delivered one
    updated after it, a retrying one and a pending one stay, however old."""
    project = await Projects(sql).create_project("Shop")
    service = Notifications(sql, allow_private=False)
    channel, _ = await service.create_channel(project.id, name="ops", kind="telegram", target="-1")
    queued = [await service.test_channel(project.id, channel.id) for _ in range(5)]
    delivered, failed, retrying, recent, pending = (delivery.id for delivery in queued)
    now = datetime.now(UTC)
    old = now - timedelta(days=40)
    await sql.settle_deliveries(
        [
            Outcome(delivered, old),
            Outcome(failed, old, "blocked"),
            Outcome(retrying, old, "busy", retry_at=now + timedelta(days=1)),
            Outcome(recent, now - timedelta(days=1)),
        ]
    )
    assert await sql.prune_deliveries(now - timedelta(days=30)) == 2
    log = (await service.list_deliveries(project.id)).items
    assert sorted((entry.id, entry.status) for entry in log) == [
        (retrying, "retrying"),
        (recent, "delivered"),
        (pending, "pending"),
    ]
    assert await sql.prune_deliveries(now + timedelta(days=365)) == 1
    assert {entry.status for entry in (await service.list_deliveries(project.id)).items} == {
        "retrying",
        "pending",
    }


async def test_the_worker_prunes_the_log_in_its_retention_sweep(
    sql: SqlStorage, sql_url: str
) -> None:
    """Past ``delivery_retention``, the sweep deletes the delivered and the failed delivery of
    an old notice; the one still retrying and the new notice's deliveries stay."""
    project = await Projects(sql).create_project("Shop")
    ok = Recorder()
    blocked = Recorder(failures=[DeliveryError("blocked", permanent=True)])
    busy = Recorder(
        failures=[DeliveryError("busy", retry_after=timedelta(days=90).total_seconds())]
    )
    clock = Clock()
    core = config(
        sql_url, retention_interval=timedelta(hours=1), delivery_retention=timedelta(days=30)
    )
    async with worker_on(sql, core, clock, [ok, blocked, busy]) as worker:
        await sql.record([error_envelope(project.id, fingerprint="old")])
        await drain(worker)
        before = {
            entry.destination: entry for entry in (await sql.list_deliveries(project.id)).items
        }
        assert {name: entry.status for name, entry in before.items()} == {
            "app:0": "delivered",
            "app:1": "failed",
            "app:2": "retrying",
        }
        clock.advance(days=29)
        await drain(worker)  # a sweep, inside the retention: nothing goes
        assert len((await sql.list_deliveries(project.id)).items) == 3
        clock.advance(days=2)
        await sql.record([error_envelope(project.id, fingerprint="new")])
        await drain(worker)
    log = (await sql.list_deliveries(project.id)).items
    assert before["app:2"] in log
    assert [
        (entry.destination, entry.status)
        for entry in log
        if entry.issue_id != before["app:2"].issue_id
    ] == [("app:2", "delivered"), ("app:1", "delivered"), ("app:0", "delivered")]
    assert len(log) == 4


async def test_prune_deliveries_takes_the_outbox_notices_fanned_out_before_the_cutoff(
    sql: SqlStorage,
) -> None:
    """Fanned-out outbox notices older than the cutoff go with the log, whatever the project's
    own retention (none here); a notice not yet fanned out stays, however old."""
    project = await Projects(sql).create_project("Shop")
    await sql.record([error_envelope(project.id, fingerprint="old")])
    now = datetime.now(UTC)
    await sql.fan_out(100, now=now, window=timedelta(minutes=10))
    await sql.record([error_envelope(project.id, fingerprint="new")])
    assert await _outbox(sql) == [("new_issue", False), ("new_issue", True)]
    await sql.prune_deliveries(now - timedelta(seconds=1))
    assert await _outbox(sql) == [("new_issue", False), ("new_issue", True)]
    await sql.prune_deliveries(now + timedelta(seconds=1))
    assert await _outbox(sql) == [("new_issue", False)]


async def _outbox(sql: SqlStorage) -> list[tuple[str, bool]]:
    """Each outbox notice's kind, and whether it was fanned out."""
    query = select(notification_outbox.c.kind, notification_outbox.c.delivered_at.is_not(None))
    rows = await sql._read(lambda tx: tx.conn.execute(query).all())
    return sorted((kind, bool(done)) for kind, done in rows)
