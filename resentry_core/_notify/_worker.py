"""The background worker: notification delivery, digests, cron-monitor deadlines, retention.

Each round it (1) writes the notices that cron monitors' states call for, (2) expands outbox
notices into one delivery per destination, (3) queues digests for ended de-duplication
windows, (4) sends the due deliveries concurrently, each with a timeout, and (5) sweeps
retention when it is due: projects' envelopes past their ``retention_days``, and finished
deliveries past ``CoreConfig.delivery_retention``. Each step is a short transaction on the
shared database, so several workers (PostgreSQL) share the work without sending anything
twice at once; on SQLite run one. In a process that also ingests, the worker yields while
ingestion is busy: one round a second with a few deliveries, so that sending (its main cost)
does not take ingestion's CPU.

Delivery is at least once: a delivery is claimed as a lease and marked after the send, so a
crash between the two sends it again after the lease (with the same idempotency key), and a
worker that is stopped or cancelled gives back what it has not sent.
"""

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Final

import anyio

from resentry_core._config import CoreConfig
from resentry_core._errors import ResentryError
from resentry_core._notify._build import build_notification
from resentry_core._notify._models import DeliveryJob
from resentry_core._notify._notifier import DeliveryError, Notifier
from resentry_core._notify._schedule import monitor_notice
from resentry_core._notify._store import NotificationStore
from resentry_core._storage._sql_notify_work import Outcome

logger = logging.getLogger(__name__)

BATCH: Final = 50  # deliveries sent at once
# While ingestion in the same process is busy, the worker sends at most PACED_BATCH
# deliveries per round and starts a busy round only PACE seconds after the last: sending costs
# CPU (httpx, rendering, 1-3 ms a message), which the process's ingestion would miss.
PACED_BATCH: Final = 5
PACE: Final = 1.0
FAN_OUT_BATCH: Final = 500  # notices expanded in one transaction
SEND_TIMEOUT: Final = 30.0
MAX_BACKOFF: Final = timedelta(hours=1)
# The notifier that delivers a job (channels and members); app notifiers are looked up apart.
Resolver = Callable[[DeliveryJob], Awaitable[Notifier]]


class Worker:
    """Runs the periodic jobs against a :class:`NotificationStore` (build it with
    :func:`~resentry_core.open_worker`).

    ``notifiers`` are the embedding application's own; they receive new issues, regressions
    (at ``error`` or above) and monitor notices of every project. ``resolve`` gives the
    built-in notifier for a member's or a channel's delivery; ``sweep`` applies retention at
    a time and answers the envelopes it deleted. ``paced`` tells whether the worker should
    yield to ingestion in its process (:meth:`Ingestor.busy`): it then works at a bounded
    pace (at most ``PACED_BATCH`` deliveries every ``PACE`` seconds).
    """

    def __init__(
        self,
        store: NotificationStore,
        config: CoreConfig,
        *,
        resolve: Resolver,
        notifiers: Sequence[Notifier] = (),
        clock: Callable[[], datetime],
        sweep: Callable[[datetime], Awaitable[int]],
        paced: Callable[[], bool] = lambda: False,
    ) -> None:
        self._store = store
        self._paced = paced
        self._sweep = sweep
        self._config = config
        self._resolve = resolve
        self._notifiers = tuple(notifiers)
        self._clock = clock
        self._stop = anyio.Event()
        self._next_sweep: datetime | None = None

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current round (what it claimed is finished)."""
        self._stop.set()

    async def run(self) -> None:
        """Run rounds until :meth:`stop` or cancellation; a failed round is logged, not raised."""
        idle = self._config.worker_interval.total_seconds()
        while not self._stop.is_set():
            try:
                busy = await self.run_once()
            except ResentryError as exc:  # e.g. the database is unreachable: try again later
                logger.warning("worker: the round failed: %s", exc)
                busy = False
            pause = PACE if busy and self._paced() else 0.0 if busy else idle
            if pause:
                with anyio.move_on_after(pause):
                    await self._stop.wait()

    async def run_once(self) -> bool:
        """One round of every job; True when there was work (so the next round starts now)."""
        now, window, apps = self._clock(), self._config.notify_window, len(self._notifiers)
        store = self._store
        due = await store.pending_work(now=now, judge=monitor_notice, app_notifiers=apps)
        work = 0
        if due.monitors:
            work += await store.check_monitors(due.monitors, now=now, judge=monitor_notice)
        if due.notices or due.monitors:
            work += await store.fan_out(FAN_OUT_BATCH, now=now, window=window, app_notifiers=apps)
        if due.windows:
            work += await store.close_windows(BATCH, now=now, window=window)
        if work or due.deliveries:
            work += await self._deliver()
        await self._sweep_retention()
        return work > 0

    async def _deliver(self) -> int:
        jobs = await self._store.claim_deliveries(
            PACED_BATCH if self._paced() else BATCH,
            now=self._clock(),
            lease=self._config.notify_lease,
            app_notifiers=len(self._notifiers),
        )
        outcomes: dict[int, Outcome] = {}
        try:
            async with anyio.create_task_group() as group:
                for job in jobs:
                    group.start_soon(self._send, job, outcomes)
        finally:
            # One transaction for the round's outcomes, not one per delivery: the worker
            # takes the database's write lock (which ingestion waits for) twice per round.
            unsent = [job.delivery.id for job in jobs if job.delivery.id not in outcomes]
            with anyio.CancelScope(shield=True):
                if outcomes:
                    await self._store.settle_deliveries(list(outcomes.values()))
                if unsent:
                    await self._store.release_deliveries(unsent, now=self._clock())
        return len(jobs)

    async def _send(self, job: DeliveryJob, outcomes: dict[int, Outcome]) -> None:
        delivery = job.delivery
        error: DeliveryError | None = None
        try:
            notifier = await self._notifier(job)
            notification = build_notification(
                job, public_url=self._config.public_url, now=self._clock()
            )
            with anyio.fail_after(SEND_TIMEOUT):
                await notifier.send(notification)
        except DeliveryError as exc:
            error = exc
        except TimeoutError:
            error = DeliveryError(f"no answer within {SEND_TIMEOUT:g} seconds")
        except Exception as exc:  # noqa: BLE001  # a notifier's bug must not stop the worker
            error = DeliveryError(f"{type(exc).__name__}: {exc}")
        now = self._clock()
        if error is None:
            outcomes[delivery.id] = Outcome(delivery.id, now)
            return
        retry_at = self._retry_at(error, delivery.attempts, now)
        logger.warning(
            "worker: delivery %s to %s failed (attempt %d%s): %s",
            delivery.id,
            delivery.destination,
            delivery.attempts,
            "" if retry_at else ", giving up",
            error,
        )
        outcomes[delivery.id] = Outcome(delivery.id, now, str(error), retry_at)

    async def _notifier(self, job: DeliveryJob) -> Notifier:
        destination = job.delivery.destination
        if destination.startswith("app:"):
            index = int(destination.removeprefix("app:"))
            if index >= len(self._notifiers):
                raise DeliveryError("the application's notifier is gone", permanent=True)
            return self._notifiers[index]
        return await self._resolve(job)

    def _retry_at(self, error: DeliveryError, attempts: int, now: datetime) -> datetime | None:
        if error.permanent or attempts >= self._config.notify_max_attempts:
            return None
        if error.retry_after is not None:
            return now + timedelta(seconds=max(0.0, error.retry_after))
        backoff: timedelta = self._config.notify_backoff * (1 << min(attempts - 1, 20))
        return now + min(backoff, MAX_BACKOFF)

    async def _sweep_retention(self) -> None:
        every = self._config.retention_interval
        now = self._clock()
        if every is None or (self._next_sweep is not None and now < self._next_sweep):
            return
        self._next_sweep = now + every
        deleted = await self._sweep(now)
        if deleted:
            logger.info("retention: deleted %d envelopes past their retention", deleted)
        keep = self._config.delivery_retention
        if keep is not None and (pruned := await self._store.prune_deliveries(now - keep)):
            logger.info("retention: deleted %d finished deliveries older than %s", pruned, keep)
