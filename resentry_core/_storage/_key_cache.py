"""The short-lived cache of ``project_for_key`` answers that every ingest request consults.

Answers, "no" included, live for about a second. Concurrent misses of one key share a single
read: after an expiry, or when a server starts under load, every in-flight request asks for the
same key at once, and without this each would queue its own database read behind the others.
"""

import time
from collections.abc import Awaitable, Callable
from typing import Final

import anyio

from resentry_core._models import Project

KEY_CACHE_SECONDS: Final = 1.0
KEY_CACHE_ENTRIES: Final = 10_000

Key = tuple[int, str]  # (project id, public key)


class KeyCache:
    """``(project id, public key) -> Project | None`` for ``seconds``, at most ``entries`` keys.

    :meth:`forget` drops every answer at once, including a read under way when it is called
    (its answer is returned to its callers but not kept).
    """

    def __init__(
        self,
        *,
        seconds: float = KEY_CACHE_SECONDS,
        entries: int = KEY_CACHE_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._entries = entries
        self._clock = clock
        self._answers: dict[Key, tuple[float, Project | None]] = {}  # key -> (expiry, answer)
        self._reads: dict[Key, anyio.Event] = {}
        self._generation = 0

    def forget(self) -> None:
        """Drop every answer (projects or keys changed)."""
        self._answers.clear()
        self._generation += 1

    async def get(self, key: Key, read: Callable[[], Awaitable[Project | None]]) -> Project | None:
        """The cached answer for ``key``, else ``await read()`` (once for concurrent callers).

        A caller that waited for another's read which failed, or was forgotten meanwhile,
        reads again itself; the failure is raised to the caller whose read failed.
        """
        while True:
            cached = self._answers.get(key)
            if cached is not None and cached[0] > self._clock():
                return cached[1]
            reading = self._reads.get(key)
            if reading is None:
                break
            await reading.wait()
        reading = self._reads[key] = anyio.Event()
        generation = self._generation
        try:
            answer = await read()
            if generation == self._generation:  # no change raced with the read
                self._keep(key, answer)
            return answer
        finally:
            del self._reads[key]
            reading.set()

    def _keep(self, key: Key, answer: Project | None) -> None:
        now = self._clock()
        if len(self._answers) >= self._entries:
            self._answers = {k: hit for k, hit in self._answers.items() if hit[0] > now}
            if len(self._answers) >= self._entries:
                self._answers.clear()
        self._answers[key] = (now + self._seconds, answer)
