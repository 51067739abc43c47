"""Helpers of the worker tests: a settable clock, a recording notifier, a worker on a storage."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import anyio

from resentry_core import (
    CoreConfig,
    DeliveryError,
    Notification,
    Notifier,
    SqlStorage,
    TelegramConfig,
    Worker,
    open_worker,
)

SECRET = "s" * 40
TOKEN = "123456:test-token"


@dataclass
class Clock:
    """A clock the test moves by hand, from a second after the real time (ingest stamps
    notices with the real time)."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC) + timedelta(seconds=1))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


@dataclass
class Recorder:
    """An application notifier that records what it receives (or fails as told)."""

    received: list[Notification] = field(default_factory=list)
    failures: list[DeliveryError] = field(default_factory=list)
    delay: float = 0.0

    async def send(self, notification: Notification) -> None:
        """Record ``notification`` after ``delay`` seconds, or raise the next scripted failure."""
        await anyio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        self.received.append(notification)

    def reasons(self) -> list[str]:
        """The reasons received, in order."""
        return [notification.reason for notification in self.received]


def config(url: str, *, telegram_url: str | None = None, **changes: object) -> CoreConfig:
    """A core config for worker tests: short windows off, Telegram at ``telegram_url``."""
    base = CoreConfig(
        database_url=url,
        secret_key=SECRET,
        bcrypt_rounds=4,
        retention_interval=None,
        webhook_allow_private=True,
        public_url="http://errors.example.com",
        telegram=None
        if telegram_url is None
        else TelegramConfig(bot_token=TOKEN, api_url=telegram_url),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@asynccontextmanager
async def worker_on(
    storage: SqlStorage,
    core: CoreConfig,
    clock: Clock,
    notifiers: Sequence[Notifier] = (),
) -> AsyncIterator[Worker]:
    """A worker on ``storage`` with ``clock``."""
    async with open_worker(core, storage=storage, notifiers=notifiers, clock=clock) as worker:
        yield worker


async def drain(worker: Worker, rounds: int = 10) -> None:
    """Run rounds until one finds no work (at most ``rounds``)."""
    for _ in range(rounds):
        if not await worker.run_once():
            return
