"""Ingest CPU per envelope before storage: what the event loop spends on one envelope.

The bodies are ``bench.bench_ingest.make_bodies``: gzip-compressed envelopes, 80% error events
over 50 issues, 15% transactions with spans, 5% error events with a 100 KB attachment. Stages:

- ``decompress``, ``parse``, ``prepare``: the pure functions, each over the output of the one
  before it (computed off the clock);
- ``ingest``: ``Ingestor.ingest`` end to end from the gzip bodies (building the requests, as
  the HTTP layer does, then auth, key lookup, all of the above and the result) against a store
  that answers at once and writes nothing, awaited one request at a time;
- ``ingest, group commit``: the same from 64 concurrent producers through the group-commit
  writer, so the queue, the writer task and the per-caller wake-ups are included.

The baseline, measured in the same run, is the unavoidable floor: ``zlib`` inflating the body
and ``orjson.loads`` of every JSON line (envelope header, item headers, JSON payloads), with
the JSON parts located off the clock. The clock is this process's CPU time, so that other
processes on a shared machine weigh less. Each figure is the median of several rounds, with the
garbage collector paused during a round, as ``timeit`` does.

    uv run python -m bench.bench_pipeline [--envelopes 2000] [--rounds 9]
"""

import argparse
import gc
import statistics
import time
import zlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import anyio
import orjson

from bench.bench_ingest import make_bodies
from resentry_core import Ingestor, IngestRequest
from resentry_core._compression import decompress
from resentry_core._envelope import Envelope
from resentry_core._limits import DEFAULT_LIMITS
from resentry_core._models import Project
from resentry_core._parser import parse_envelope
from resentry_core._prepare import JSON_ITEM_TYPES, prepare_envelope
from resentry_core._records import PreparedEnvelope, Recorded

_PUBLIC_KEY = "0123456789abcdef0123456789abcdef"
_AUTH = f"Sentry sentry_key={_PUBLIC_KEY}, sentry_version=7, sentry_client=sentry.python/2.19.0"
_PRODUCERS = 64
_RECEIVED_AT = datetime(2026, 1, 1, tzinfo=UTC)


class NullStore:
    """An ``IngestStore`` that knows one project and stores nothing, instantly."""

    def __init__(self) -> None:
        self._project = Project(id=1, name="bench", slug="bench", created_at=_RECEIVED_AT)

    async def project_for_key(self, project_id: int, public_key: str) -> Project | None:
        """The bench project, for any key."""
        return self._project

    async def record(self, batch: Sequence[PreparedEnvelope]) -> list[Recorded]:
        """Pretend to store ``batch``."""
        return [Recorded(envelope_id=None, event_id=p.event_id) for p in batch]

    async def prune(self, project_id: int, older_than: datetime) -> int:
        """Nothing is stored, so nothing is pruned."""
        return 0


def _json_parts(body: bytes) -> list[tuple[int, int]]:
    """Where the JSON lines of an (inflated) envelope are: headers and JSON payloads."""
    envelope = parse_envelope(body)
    parts = [(0, body.index(b"\n"))]
    position = parts[0][1] + 1
    for item in envelope.items:
        header_end = body.index(b"\n", position)
        parts.append((position, header_end))
        start = header_end + 1
        end = start + len(item.payload)
        if item.type in JSON_ITEM_TYPES:
            parts.append((start, end))
        position = end + 1
    return parts


def _seconds(run: Callable[[], object]) -> float:
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        run()
        return time.process_time() - started
    finally:
        gc.enable()


def _requests(bodies: Sequence[bytes]) -> list[IngestRequest]:
    return [
        IngestRequest(project_id=1, body=body, content_encoding="gzip", x_sentry_auth=_AUTH)
        for body in bodies
    ]


async def _ingest_serially(bodies: Sequence[bytes]) -> None:
    ingestor = Ingestor(NullStore())
    for request in _requests(bodies):
        await ingestor.ingest(request)


async def _ingest_grouped(bodies: Sequence[bytes]) -> None:
    ingestor = Ingestor(NullStore())
    queue = _requests(bodies)
    queue.reverse()

    async def produce() -> None:
        while queue:
            await ingestor.ingest(queue.pop())

    async with ingestor.group_commit(), anyio.create_task_group() as tg:
        for _ in range(_PRODUCERS):
            tg.start_soon(produce)


def _async(run: Callable[[Sequence[bytes]], Awaitable[None]], bodies: Sequence[bytes]) -> None:
    anyio.run(run, bodies)


def stages(bodies: Sequence[bytes]) -> dict[str, Callable[[], object]]:
    """Each stage as a callable over every body; inputs are computed here, off the clock."""
    max_bytes = DEFAULT_LIMITS.max_envelope_bytes
    inflated = [decompress(body, "gzip", max_bytes=max_bytes) for body in bodies]
    parts = [_json_parts(body) for body in inflated]
    envelopes: list[Envelope] = [parse_envelope(body) for body in inflated]

    def floor() -> None:
        for body, spans in zip(bodies, parts, strict=True):
            view = memoryview(zlib.decompress(body, 16 + zlib.MAX_WBITS))
            for start, end in spans:
                orjson.loads(view[start:end])

    def prepare() -> None:
        for envelope, body in zip(envelopes, bodies, strict=True):
            prepare_envelope(
                envelope, project_id=1, received_at=_RECEIVED_AT, raw=body, raw_encoding="gzip"
            )

    return {
        "floor (zlib + orjson)": floor,
        "decompress": lambda: [decompress(body, "gzip", max_bytes=max_bytes) for body in bodies],
        "parse": lambda: [parse_envelope(body) for body in inflated],
        "prepare": prepare,
        "ingest": lambda: _async(_ingest_serially, bodies),
        "ingest, group commit": lambda: _async(_ingest_grouped, bodies),
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Time every stage ``--rounds`` times, interleaved; print medians per envelope."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--envelopes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    bodies = make_bodies(args.envelopes)
    runs = stages(bodies)
    timings: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(args.rounds):
        for label, run in runs.items():
            timings[label].append(_seconds(run) / len(bodies) * 1e6)
    floor = statistics.median(timings["floor (zlib + orjson)"])
    print(
        f"{len(bodies)} envelopes, {sum(map(len, bodies)) / len(bodies) / 1024:.1f} KiB "
        f"gzip on average; median of {args.rounds} rounds"
    )
    print(f"  {'stage':24}{'µs/envelope':>12}{'x floor':>9}")
    for label, micros in timings.items():
        median = statistics.median(micros)
        print(f"  {label:24}{median:12.1f}{median / floor:9.2f}")


if __name__ == "__main__":
    main()
