"""Background WAL checkpoints for a SQLite database file.

In WAL mode every commit appends to the ``-wal`` file, and a checkpoint copies those pages back
into the database file (and syncs it). Left to SQLite, the checkpoint runs inside whichever
commit crosses ``wal_autocheckpoint``, so one ingest batch in a few hundred waits for tens of
megabytes to be copied: that batch's callers see a latency spike. Here a thread of its own
checkpoints the file a few times a second while it is being written, without blocking writers
or readers (``PASSIVE``); the writers' autocheckpoint stays as the fallback should it fall
behind. Other processes on the same file need nothing: whichever checkpoints first wins, and a
checkpoint of a WAL already copied costs nothing.
"""

import logging
import os
import sqlite3
import threading
from typing import Final

logger = logging.getLogger(__name__)

# How often the thread looks for new commits (a ``stat`` of the WAL file).
CHECKPOINT_INTERVAL_SECONDS: Final = 0.25


class WalCheckpointer:
    """Checkpoints ``path`` with ``PASSIVE`` whenever its WAL changed since the last look.

    Args:
        path: the database file.
        busy_timeout_ms: how long a checkpoint may wait for another process's checkpoint.
        interval: seconds between looks.
    """

    def __init__(
        self, path: str, *, busy_timeout_ms: int, interval: float = CHECKPOINT_INTERVAL_SECONDS
    ) -> None:
        self._path = path
        self._wal = f"{path}-wal"
        self._busy_timeout_ms = busy_timeout_ms
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
            connection.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
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
                except sqlite3.Error as exc:  # e.g. busy: the writers' fallback still runs
                    logger.warning("background WAL checkpoint of %s failed: %s", self._path, exc)
        finally:
            connection.close()
