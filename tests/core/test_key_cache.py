"""The ``project_for_key`` cache: expiry, invalidation, and one read for concurrent misses."""

import anyio
import pytest

from resentry_core._models import Project
from resentry_core._storage._key_cache import KeyCache
from tests.core.records import T0

PROJECT = Project(id=1, name="Shop", slug="shop", created_at=T0)
KEY = (1, "a" * 32)


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Reads:
    """A read that counts its calls and can be held open or made to fail."""

    def __init__(self, answer: Project | None = PROJECT) -> None:
        self.answer = answer
        self.calls = 0
        self.release = anyio.Event()
        self.hold = False
        self.failures = 0  # this many calls fail

    async def __call__(self) -> Project | None:
        self.calls += 1
        if self.hold:
            await self.release.wait()
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database down")
        return self.answer


async def test_answers_are_kept_until_they_expire() -> None:
    """A hit costs no read; after ``seconds`` the key is read again. "No" is cached too."""
    clock, reads = Clock(), Reads(answer=None)
    cache = KeyCache(seconds=1.0, clock=clock)
    assert await cache.get(KEY, reads) is None
    clock.now += 0.9
    assert await cache.get(KEY, reads) is None
    assert reads.calls == 1
    clock.now += 0.2
    await cache.get(KEY, reads)
    assert reads.calls == 2


async def test_concurrent_misses_share_one_read() -> None:
    """Fifty requests missing the same key at once cause one database read."""
    cache, reads = KeyCache(), Reads()
    reads.hold = True
    answers: list[Project | None] = []

    async def ask() -> None:
        answers.append(await cache.get(KEY, reads))

    async with anyio.create_task_group() as group:
        for _ in range(50):
            group.start_soon(ask)
        await anyio.wait_all_tasks_blocked()
        reads.release.set()
    assert reads.calls == 1
    assert answers == [PROJECT] * 50


async def test_a_failed_read_fails_its_caller_and_the_waiters_read_again() -> None:
    """The reader gets the error; the callers waiting on it try for themselves."""
    cache, reads = KeyCache(), Reads()
    reads.hold, reads.failures = True, 1
    outcomes: list[object] = []

    async def ask() -> None:
        try:
            outcomes.append(await cache.get(KEY, reads))
        except RuntimeError as exc:
            outcomes.append(exc)

    async with anyio.create_task_group() as group:
        group.start_soon(ask)
        await anyio.wait_all_tasks_blocked()
        group.start_soon(ask)
        await anyio.wait_all_tasks_blocked()
        reads.release.set()
    assert isinstance(outcomes[0], RuntimeError)
    assert outcomes[1:] == [PROJECT]
    assert reads.calls == 2


async def test_forget_during_a_read_keeps_its_answer_out_of_the_cache() -> None:
    """A key change racing with a read: that read's answer is returned but not kept."""
    cache, reads = KeyCache(), Reads()
    reads.hold = True
    async with anyio.create_task_group() as group:
        group.start_soon(cache.get, KEY, reads)
        await anyio.wait_all_tasks_blocked()
        cache.forget()
        reads.release.set()
    reads.hold = False
    await cache.get(KEY, reads)
    assert reads.calls == 2


@pytest.mark.parametrize("entries", [1, 3])
async def test_the_cache_is_bounded(entries: int) -> None:
    """Never more than ``entries`` keys are kept."""
    cache, reads = KeyCache(entries=entries), Reads()
    for public_key in range(10):
        await cache.get((1, str(public_key)), reads)
    assert len(cache._answers) <= entries
