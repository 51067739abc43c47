"""``IdleTrimmer``: after activity and a quiet spell, the C heap is trimmed once."""

import sys
from collections.abc import Callable

import anyio
import pytest

from resentry_server._idle import IdleTrimmer, malloc_trim

QUIET = 0.2  # long next to the 10 ms between requests below, so a busy test machine is fine


class Counter:
    """A trim function that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


async def eventually(check: Callable[[], bool]) -> None:
    """Wait until ``check()`` holds; fail after 10 seconds."""
    for _ in range(1000):
        if check():
            return
        await anyio.sleep(0.01)
    raise AssertionError("still not the case after 10 s")


async def busy(trimmer: IdleTrimmer, seconds: float) -> None:
    """Requests every 10 ms for ``seconds``."""
    deadline = anyio.current_time() + seconds
    while anyio.current_time() < deadline:
        trimmer.touch()
        await anyio.sleep(0.01)


async def test_trims_once_after_activity_and_a_quiet_spell() -> None:
    """Never while requests keep coming, once when they stop, not again until more come."""
    trim = Counter()
    trimmer = IdleTrimmer(trim, quiet=QUIET)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(trimmer.run)
        await anyio.sleep(QUIET * 2)
        assert trim.calls == 0  # no activity yet: nothing to give back
        await busy(trimmer, QUIET * 3)
        assert trim.calls == 0
        await eventually(lambda: trim.calls == 1)
        await anyio.sleep(QUIET * 3)
        assert trim.calls == 1  # still idle: nothing new to trim
        trimmer.touch()
        await eventually(lambda: trim.calls == 2)
        tasks.cancel_scope.cancel()
    assert trim.calls == 2  # and none more while the task was being cancelled


@pytest.mark.skipif(sys.platform != "linux", reason="malloc_trim is glibc's")
def test_malloc_trim_is_the_c_library_s_on_linux() -> None:
    """On glibc the trim is found and runs (it answers 1 if memory was released, else 0)."""
    trim = malloc_trim()
    assert trim is not None
    assert trim() in (0, 1)
