"""The group-commit writer: concurrent ingests share storage transactions.

Concurrent ingests queue their prepared envelopes, a single writer task stores whatever is
queued in one transaction, and every caller is answered only after its own envelope is durable.
A batch that fails is retried envelope by envelope, so one bad envelope never fails its
neighbours.
"""

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel

from resentry_core._errors import ResentryError, StorageError
from resentry_core._records import PreparedEnvelope, Recorded
from resentry_core._storage._protocol import IngestStore


async def record_batch(store: IngestStore, batch: Sequence[PreparedEnvelope]) -> list[Recorded]:
    """Store ``batch`` in one transaction; any backend failure is a :class:`StorageError`."""
    try:
        return await store.record(batch)
    except ResentryError:
        raise
    except Exception as exc:  # any backend failure is a StorageError to callers
        raise StorageError(f"could not store the envelope: {type(exc).__name__}") from exc


@dataclass(slots=True, eq=False)
class _Batch:
    """Envelopes stored in one transaction, and their outcomes; their callers share one event."""

    envelopes: list[PreparedEnvelope] = field(default_factory=list)
    outcomes: list[Recorded | ResentryError] = field(default_factory=list)
    done: anyio.Event = field(default_factory=anyio.Event)

    def settle(self, outcomes: list[Recorded | ResentryError]) -> None:
        self.outcomes = outcomes
        self.done.set()


class GroupCommit:
    """One writer task storing queued envelopes in batched storage transactions.

    Callers append to the newest open batch; the writer takes the oldest one whole. At most
    ``4 * max_batch`` envelopes wait besides the batch being written: callers beyond that wait
    for room.
    """

    def __init__(self, store: IngestStore, *, max_batch: int) -> None:
        self._store = store
        self._max_batch = max_batch
        self._max_queued = max_batch * 4
        self._batches: deque[_Batch] = deque()
        self._queued = 0
        self._closed = False
        self._work = anyio.Event()  # set when a batch is queued or the writer must stop
        self._room = anyio.Event()  # set when the writer takes a batch

    async def submit(self, envelope: PreparedEnvelope) -> Recorded:
        """Queue ``envelope``; answer once the batch holding it is stored."""
        while self._queued >= self._max_queued and not self._closed:
            await self._room.wait()
        if self._closed:
            raise StorageError("the ingestor is shutting down")
        if not self._batches or len(self._batches[-1].envelopes) == self._max_batch:
            self._batches.append(_Batch())
        batch = self._batches[-1]
        index = len(batch.envelopes)
        batch.envelopes.append(envelope)
        self._queued += 1
        self._work.set()
        await batch.done.wait()
        outcome = batch.outcomes[index]
        if isinstance(outcome, ResentryError):
            raise outcome
        return outcome

    def close(self) -> None:
        """Refuse new envelopes; the writer stops once the queued ones are stored."""
        self._closed = True
        self._work.set()
        self._room.set()

    async def run(self) -> None:
        """Write the queued batches, oldest first, until closed and drained."""
        try:
            while self._batches or not self._closed:
                if not self._batches:
                    await self._work.wait()
                    self._work = anyio.Event()
                    continue
                # Let callers that are ready join the batch before it is taken.
                await anyio.lowlevel.checkpoint()
                batch = self._batches.popleft()
                self._queued -= len(batch.envelopes)
                self._room.set()
                self._room = anyio.Event()
                with anyio.CancelScope(shield=True):
                    batch.settle(await self._write(batch.envelopes))
        finally:
            self._closed = True
            for batch in self._batches:  # only when the writer was cancelled
                batch.settle(
                    [StorageError("the envelope was not written") for _ in batch.envelopes]
                )

    async def _write(self, envelopes: list[PreparedEnvelope]) -> list[Recorded | ResentryError]:
        try:
            return list(await record_batch(self._store, envelopes))
        except ResentryError as exc:
            if len(envelopes) == 1:
                return [exc]
        outcomes: list[Recorded | ResentryError] = []
        for envelope in envelopes:  # isolate the envelope that failed the batch
            outcomes += await self._write([envelope])
        return outcomes
