"""Envelope parsing throughput: resentry_core against sentry_sdk's own parser.

Run with ``uv run python bench/bench_codec.py``. Both parsers read the same bytes, and both
decode the JSON items (``Item.json()`` for ours; sentry_sdk decodes event and transaction
payloads while parsing). Each figure is the median of several repetitions, with the garbage
collector paused during a repetition, as ``timeit`` does.

Workloads:

- ``events``: 2,000 error-event envelopes of about 5 KB, as the Python SDK writes them
  (15-frame stack trace with context lines and local variables, breadcrumbs, tags, contexts).
- ``attachments``: one 10 MB envelope holding ten 1 MB binary attachments (random bytes, so
  they contain newlines, CR and NUL). sentry_sdk returns each payload as ``bytes``, one copy
  of it; the time of those copies alone is printed as the floor of any parser doing so.
  resentry_core returns read-only memoryviews of the body instead: no copy, and usable as
  they are wherever bytes-like objects go (storage drivers, ``orjson``, ``bytes(...)``).
"""

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sentry_sdk.envelope import Envelope as SdkEnvelope
from sentry_sdk.envelope import Item as SdkItem
from sentry_sdk.envelope import PayloadRef

from resentry_core._parser import parse_envelope

_MB = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload:
    """Envelopes parsed together as one repetition."""

    name: str
    bodies: Sequence[bytes]
    repetitions: int

    @property
    def size(self) -> int:
        """Total bytes of all bodies."""
        return sum(len(body) for body in self.bodies)


def _event(rng: random.Random, index: int) -> dict[str, Any]:
    """A realistic Python error event of about 5 KB, deterministic for a given ``rng``."""
    words = ["user", "order", "cart", "invoice", "session", "payment", "item", "queue", "cache"]

    def word() -> str:
        return rng.choice(words)

    def frame(depth: int) -> dict[str, Any]:
        name = f"{word()}/views_{depth}.py"
        return {
            "filename": f"app/{name}",
            "abs_path": f"/srv/app/{name}",
            "module": f"app.{name[:-3].replace('/', '.')}",
            "function": f"handle_{word()}",
            "lineno": rng.randrange(1, 900),
            "pre_context": [f'    {word()} = request.GET["{word()}"]'],
            "context_line": f"    return process({word()}, strict=True)",
            "in_app": depth > 4,
            "vars": {"count": rng.randrange(1000)},
        }

    breadcrumbs = [
        {
            "timestamp": 1_700_000_000.0 + index + n / 10,
            "category": rng.choice(["query", "http"]),
            "level": "info",
            "message": f'SELECT * FROM "{word()}" WHERE id = {rng.randrange(10**6)}',  # noqa: S608
        }
        for n in range(3)
    ]
    return {
        "event_id": f"{rng.getrandbits(128):032x}",
        "timestamp": f"2024-05-01T12:{index % 60:02d}:{rng.randrange(60):02d}.{index:06d}Z",
        "platform": "python",
        "level": "error",
        "logger": "django.request",
        "server_name": f"web-{rng.randrange(8)}",
        "release": "shop@4.2.0",
        "environment": "production",
        "transaction": f"/api/{word()}/{{id}}/",
        "exception": {
            "values": [
                {
                    "type": rng.choice(["KeyError", "ValueError", "TimeoutError"]),
                    "value": f"'{word()}_{rng.randrange(1000)}' \u2014 caf\u00e9",
                    "mechanism": {"type": "django", "handled": False},
                    "stacktrace": {"frames": [frame(depth) for depth in range(15)]},
                }
            ]
        },
        "breadcrumbs": {"values": breadcrumbs},
        "tags": {"browser": "Firefox 125", "customer_tier": rng.choice(["free", "pro"])},
        "user": {"id": str(rng.randrange(10**6)), "ip_address": "{{auto}}"},
        "contexts": {
            "runtime": {"name": "CPython", "version": "3.11.9"},
            "trace": {
                "trace_id": f"{rng.getrandbits(128):032x}",
                "span_id": f"{rng.getrandbits(64):016x}",
            },
        },
        "sdk": {"name": "sentry.python.django", "version": "2.19.0"},
    }


def events_workload(count: int = 2000) -> Workload:
    """``count`` error-event envelopes serialized by sentry_sdk."""
    rng = random.Random(20240501)
    bodies = []
    for index in range(count):
        event = _event(rng, index)
        envelope = SdkEnvelope(
            headers={"event_id": event["event_id"], "sent_at": "2024-05-01T12:00:00.000000Z"}
        )
        envelope.add_item(SdkItem(payload=PayloadRef(json=event), type="event"))
        bodies.append(envelope.serialize())
    return Workload(name="events", bodies=bodies, repetitions=25)


def attachments_workload() -> Workload:
    """One envelope with ten 1 MiB random binary attachments, serialized by sentry_sdk."""
    rng = random.Random(7)
    envelope = SdkEnvelope(headers={"event_id": f"{rng.getrandbits(128):032x}"})
    for index in range(10):
        payload = rng.randbytes(1 << 20)
        envelope.add_item(SdkItem(payload=payload, type="attachment", filename=f"dump{index}.bin"))
    return Workload(name="attachments", bodies=[envelope.serialize()], repetitions=25)


def parse_resentry(body: bytes) -> object:
    """Parse with resentry_core and decode every JSON item; return all of it."""
    envelope = parse_envelope(body)
    decoded = [item.json() for item in envelope.items if item.content_type == "application/json"]
    return envelope, decoded


def parse_sentry_sdk(body: bytes) -> object:
    """Parse with sentry_sdk (which decodes event and transaction payloads as it goes)."""
    envelope = SdkEnvelope.deserialize(body)
    decoded = [item.payload.json for item in envelope.items if item.payload.json is not None]
    return envelope, decoded


def payload_copy_seconds(workload: Workload) -> float:
    """The floor for a parser returning ``bytes``: slicing each payload out of its body once.

    Measured like the parsers (same clock, same allocator conditions); the median.
    """
    spans = {id(body): _payload_spans(body) for body in workload.bodies}

    def copy_payloads(body: bytes) -> object:
        return [body[start:end] for start, end in spans[id(body)]]

    runs = [_parse_seconds(copy_payloads, workload.bodies) for _ in range(workload.repetitions)]
    return statistics.median(runs)


def _payload_spans(body: bytes) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for item in parse_envelope(body).items:
        start = body.index(item.payload, start)
        spans.append((start, start + len(item.payload)))
        start += len(item.payload)
    return spans


def _parse_seconds(parse: Callable[[bytes], object], bodies: Sequence[bytes]) -> float:
    """Time spent parsing every body; freeing each result (returned whole) is off the clock.

    Megabyte payloads are copied into memory the C allocator may just have handed back to the
    kernel (glibc trims a free top of heap), so page faults can cost more than the copy itself.
    That cost is real and the same for every parser returning ``bytes``; the copy floor is
    measured in the same conditions.
    """
    gc.collect()
    gc.disable()
    try:
        total = 0.0
        for body in bodies:
            started = time.perf_counter()
            result = parse(body)
            total += time.perf_counter() - started
            del result
        return total
    finally:
        gc.enable()


PARSERS: dict[str, Callable[[bytes], object]] = {
    "resentry_core": parse_resentry,
    "sentry_sdk": parse_sentry_sdk,
}


def report(workload: Workload) -> float:
    """Print throughput of both parsers on ``workload``; return the ratio ours / sentry_sdk.

    The parsers alternate within each repetition, so that load from other processes on the
    machine weighs on both alike; the ratio is the median of the per-repetition ratios.
    """
    print(
        f"\n{workload.name}: {len(workload.bodies)} envelope(s), "
        f"{workload.size / _MB:.2f} MB, median of {workload.repetitions}"
    )
    timings: dict[str, list[float]] = {label: [] for label in PARSERS}
    for _ in range(workload.repetitions):
        for label, parse in PARSERS.items():
            timings[label].append(_parse_seconds(parse, workload.bodies))
    for label, seconds in timings.items():
        elapsed = statistics.median(seconds)
        print(
            f"  {label:14} {workload.size / _MB / elapsed:9.1f} MB/s "
            f"{len(workload.bodies) / elapsed:11.1f} envelopes/s  ({elapsed * 1000:.2f} ms)"
        )
    pairs = zip(timings["sentry_sdk"], timings["resentry_core"], strict=True)
    ratio = statistics.median(theirs / ours for theirs, ours in pairs)
    print(f"  ratio resentry_core / sentry_sdk: {ratio:.2f}x")
    return ratio


def main(argv: Sequence[str] | None = None) -> None:
    """Run both workloads and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=2000, help="error envelopes in workload a")
    args = parser.parse_args(argv)
    report(events_workload(args.events))
    attachments = attachments_workload()
    report(attachments)
    floor = payload_copy_seconds(attachments)
    print(f"  copying the ten payloads once, nothing else: {floor * 1000:.2f} ms")


if __name__ == "__main__":
    main()
