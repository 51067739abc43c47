"""The app ``resentry serve`` runs: ``create_app`` plus process tuning (GC, idle trimming)."""

import functools
import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pytest
from starlette.types import ASGIApp, Message
from uvicorn.importer import import_from_string

from resentry_server import _cli
from resentry_server._cli import serving_app
from resentry_server._idle import IdleTrimmer
from tests.server.conftest import settings_for
from tests.server.test_idle import QUIET, Counter, eventually


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Leave the test process's collector as it was found."""
    gc.unfreeze()
    yield
    gc.unfreeze()


@asynccontextmanager
async def started(app: ASGIApp) -> AsyncIterator[list[Message]]:
    """Run ``app``'s lifespan: yields once started, shuts it down on exit; what it sent."""
    inbox: list[Message] = [{"type": "lifespan.startup"}]
    outbox: list[Message] = []
    up, stop = anyio.Event(), anyio.Event()

    async def receive() -> Message:
        if inbox:
            return inbox.pop(0)
        await stop.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: Message) -> None:
        outbox.append(message)
        if message["type"] == "lifespan.startup.complete":
            up.set()

    async def lifespan() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    async with anyio.create_task_group() as group:
        group.start_soon(lifespan)
        await up.wait()
        yield outbox
        stop.set()


async def get_health(app: ASGIApp) -> int:
    """The status of ``GET /health/``."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return (await client.get("/health/")).status_code


async def test_startup_freezes_what_lives_as_long_as_the_process(
    tmp_path: Path, unfrozen: None
) -> None:
    """After the lifespan's startup the objects alive then are frozen; requests still work."""
    app = serving_app(settings_for(tmp_path, secret_key="s" * 48))
    assert gc.get_freeze_count() == 0
    async with started(app) as outbox:
        assert gc.get_freeze_count() > 10_000  # modules, FastAPI, SQLAlchemy, the core
        assert await get_health(app) == 200
    assert [m["type"] for m in outbox] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


async def test_memory_is_trimmed_once_requests_stop(
    tmp_path: Path, unfrozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app counts requests and runs an ``IdleTrimmer`` for as long as its lifespan."""
    trim = Counter()
    monkeypatch.setattr(_cli, "malloc_trim", lambda: trim)
    monkeypatch.setattr(_cli, "IdleTrimmer", functools.partial(IdleTrimmer, quiet=QUIET))
    app = serving_app(settings_for(tmp_path, secret_key="s" * 48))
    async with started(app):
        await anyio.sleep(QUIET * 2)
        assert trim.calls == 0  # no request yet
        assert await get_health(app) == 200
        await eventually(lambda: trim.calls == 1)


def test_worker_processes_import_the_same_factory() -> None:
    """``--workers``/``--reload`` name the factory by string; it must resolve to it."""
    assert import_from_string("resentry_server._cli:serving_app") is serving_app
