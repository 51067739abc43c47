"""The app ``resentry serve`` runs: ``create_app`` plus process tuning after startup."""

import gc
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from starlette.types import Message
from uvicorn.importer import import_from_string

from resentry_server._cli import serving_app
from tests.server.conftest import settings_for


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Leave the test process's collector as it was found."""
    gc.unfreeze()
    yield
    gc.unfreeze()


async def test_startup_freezes_what_lives_as_long_as_the_process(
    tmp_path: Path, unfrozen: None
) -> None:
    """After the lifespan's startup the objects alive then are frozen; requests still work."""
    app = serving_app(settings_for(tmp_path, secret_key="s" * 48))
    inbox: list[Message] = [{"type": "lifespan.startup"}]
    outbox: list[Message] = []
    started, stop = anyio.Event(), anyio.Event()

    async def receive() -> Message:
        if inbox:
            return inbox.pop(0)
        await stop.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: Message) -> None:
        outbox.append(message)
        if message["type"] == "lifespan.startup.complete":
            started.set()

    async def lifespan() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    assert gc.get_freeze_count() == 0
    async with anyio.create_task_group() as group:
        group.start_soon(lifespan)
        await started.wait()
        assert gc.get_freeze_count() > 10_000  # modules, FastAPI, SQLAlchemy, the core
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/health/")).status_code == 200
        stop.set()
    assert [m["type"] for m in outbox] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


def test_worker_processes_import_the_same_factory() -> None:
    """``--workers``/``--reload`` name the factory by string; it must resolve to it."""
    assert import_from_string("resentry_server._cli:serving_app") is serving_app
