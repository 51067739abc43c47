"""Background WAL checkpoints for a SQLite database file.

In WAL mode every commit appends to the ``-wal`` file, and a checkpoint copies those pages back
into the database file (and syncs it). Left to SQLite, the checkpoint runs inside whichever
commit crosses ``wal_autocheckpoint``, so one ingest batch in a few hundred waits for tens of
megabytes to be copied: that batch's callers see a latency spike. Here a thread of its own
checkpoints the file a few times a second while it is being written: ``PASSIVE`` first, which
copies the bulk without blocking writers or readers, then ``RESTART``, which copies the few
frames committed meanwhile under the write lock, so that the next commit starts the log over
from its beginning. Without the second step, commits that never pause (an ingest load) always
leave frames the passive checkpoint has not copied, the log is never restarted, and it grows
until a commit's own autocheckpoint restarts it: at 1,000 events/s that stalled the event loop
for 10-20 ms every half second. ``RESTART`` waits only briefly for the writer and readers of
the moment and otherwise tries again at the next look; writers that find the write lock taken
wait for it off the event loop (``Database.write``). The writers' autocheckpoint stays as the
fallback should this thread fall behind. Other processes on the same file need nothing:
whichever checkpoints first wins, and a checkpoint of a WAL already copied costs nothing.
"""

import logging
import os
import sqlite3
import threading
from typing import Final

logger = logging.getLogger(__name__)

# How often the thread looks for new commits (a ``stat`` of the WAL file).
CHECKPOINT_INTERVAL_SECONDS: Final = 0.25
# How long ``RESTART`` waits for the current writer and readers. It holds the write lock
# meanwhile, so this bounds how long it can hold up writers.
RESTART_WAIT_MS: Final = 20


class WalCheckpointer:
    """Checkpoints ``path`` (``PASSIVE``, then ``RESTART``) whenever its WAL changed since the
    last look, every ``interval`` seconds."""

    def __init__(self, path: str, *, interval: float = CHECKPOINT_INTERVAL_SECONDS) -> None:
        self._path = path
        self._wal = f"{path}-wal"
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread unless it runs already (any thread may call this)."""
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="resentry-wal-checkpoint", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it; a checkpoint under way finishes first."""
        self._stop.set()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute(f"PRAGMA busy_timeout = {RESTART_WAIT_MS}")
            seen: tuple[int, int] | None = None
            while not self._stop.wait(self._interval):
                try:
                    stat = os.stat(self._wal)
                except FileNotFoundError:
                    continue
                if (stat.st_mtime_ns, stat.st_size) == seen:
                    continue
                seen = (stat.st_mtime_ns, stat.st_size)
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    # Busy (a writer or reader did not finish in time) is a result, not an error.
                    connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
                except sqlite3.Error as exc:  # e.g. busy: the writers' fallback still runs
                    logger.warning("background WAL checkpoint of %s failed: %s", self._path, exc)
        finally:
            connection.close()
