"""Retention: projects with ``retention_days`` lose their older envelopes, now and then.

The notification worker (``_notify/_worker.py``) calls :func:`sweep` every
``CoreConfig.retention_interval``; on a storage other than ``SqlStorage``, which keeps no
notifications, :meth:`Resentry.open <resentry_core.Resentry.open>` runs
:func:`enforce_retention` instead. Each
sweep prunes every project that sets ``retention_days`` (``Storage.prune``:
its envelopes received before the cutoff, with all their data; issue counters stay exact).
Several processes on one database may sweep at once: pruning is idempotent.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import anyio

from resentry_core._errors import ResentryError
from resentry_core._storage._protocol import Storage

logger = logging.getLogger(__name__)


async def sweep(storage: Storage, now: datetime) -> int:
    """Prune every project that sets ``retention_days``; return the envelopes deleted.

    A project whose prune fails is logged and skipped; the others are still pruned.
    """
    deleted = 0
    for project in await storage.list_projects():
        if project.retention_days is None:
            continue
        cutoff = now - timedelta(days=project.retention_days)
        try:
            deleted += await storage.prune(project.id, cutoff)
        except ResentryError as exc:
            logger.warning("retention: pruning project %s failed: %s", project.id, exc)
    return deleted


async def enforce_retention(
    storage: Storage, every: timedelta, *, clock: Callable[[], datetime]
) -> None:
    """Sweep at once, then every ``every``, until cancelled. Failures are logged, not raised."""
    while True:
        try:
            deleted = await sweep(storage, clock())
        except ResentryError as exc:  # e.g. the database is unreachable: try again later
            logger.warning("retention: the sweep failed: %s", exc)
        else:
            if deleted:
                logger.info("retention: deleted %d envelopes past their retention", deleted)
        await anyio.sleep(every.total_seconds())
