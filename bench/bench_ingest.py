"""In-process ingest throughput: group commit vs one transaction per envelope.

Runs the same realistic mix through ``resentry_core.Ingestor`` on SQLite (file, WAL) and, when
``RESENTRY_TEST_POSTGRES_URL`` is set, PostgreSQL: 80% error events over 50 distinct issues,
15% transactions, 5% error events with a 100 KB attachment, gzip-compressed as SDKs send them,
from several concurrent producers. The baseline is the same ingestor with one storage
transaction per envelope (what Bugsink does), measured in the same run.

    uv run python -m bench.bench_ingest [--envelopes 6000] [--producers 256]
"""

import argparse
import gzip
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from contextlib import AsyncExitStack

import anyio
import psutil

from resentry_core import Ingestor, IngestRequest, Projects
from resentry_core._storage._sql import SqlStorage
from tests import factories as f
from tests.core.postgres_admin import scratch_database


def make_bodies(count: int, seed: int = 7, issues: int = 50) -> list[bytes]:
    """The realistic mix over ``issues`` distinct issues (0: each error event its own),
    gzip-compressed."""
    rng = random.Random(seed)
    attachment = rng.randbytes(100 * 1024)
    bodies = []
    for _ in range(count):
        roll = rng.random()
        event_id = uuid.UUID(int=rng.getrandbits(128)).hex
        if roll < 0.15:
            body = f.envelope(
                [f.item("transaction", f.transaction_event(f"/page/{rng.randrange(20)}"))],
                event_id=event_id,
            )
        else:
            issue = rng.randrange(issues) if issues else rng.getrandbits(64)
            event = f.error_event(exc_type=f"Error{issue}", function=f"handler_{issue}")
            items = [f.item("event", event)]
            if roll > 0.95:
                items.append(f.item("attachment", attachment, filename="dump.bin"))
            body = f.envelope(items, event_id=event_id)
        bodies.append(gzip.compress(body, compresslevel=6))
    return bodies


async def run_postgres(
    base_url: str, bodies: Sequence[bytes], producers: int, *, group_commit: bool
) -> dict[str, float]:
    """:func:`run` in a scratch database on the server of ``base_url``, dropped afterwards."""
    async with scratch_database(base_url, "resentry_bench") as url:
        return await run(url, bodies, producers, group_commit=group_commit)


async def run(
    url: str, bodies: Sequence[bytes], producers: int, *, group_commit: bool
) -> dict[str, float]:
    """Ingest every body once; return events/s, latency percentiles and peak RSS."""
    storage = SqlStorage.from_url(url)
    await storage.migrate()
    project = await Projects(storage).create_project(f"bench-{uuid.uuid4().hex[:8]}")
    auth = f"Sentry sentry_key={project.keys[0].public_key}, sentry_version=7"
    ingestor = Ingestor(storage)
    latencies: list[float] = []
    queue = list(reversed(bodies))
    process = psutil.Process()
    peak = [process.memory_info().rss]

    async def produce() -> None:
        while queue:
            body = queue.pop()
            started = time.perf_counter()
            await ingestor.ingest(
                IngestRequest(
                    project_id=project.id, body=body, content_encoding="gzip", x_sentry_auth=auth
                )
            )
            latencies.append(time.perf_counter() - started)

    async def sample_rss(stop: anyio.Event) -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            with anyio.move_on_after(0.05):
                await stop.wait()

    stop = anyio.Event()
    started = time.perf_counter()
    async with AsyncExitStack() as stack:
        if group_commit:
            await stack.enter_async_context(ingestor.group_commit())
        async with anyio.create_task_group() as tg:
            tg.start_soon(sample_rss, stop)
            async with anyio.create_task_group() as producers_tg:
                for _ in range(producers):
                    producers_tg.start_soon(produce)
            stop.set()
    elapsed = time.perf_counter() - started
    await storage.aclose()
    latencies.sort()
    return {
        "events_per_s": len(bodies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "peak_rss_mib": peak[0] / 2**20,
    }


def report(label: str, fast: dict[str, float], base: dict[str, float]) -> None:
    """Print one backend's figures side by side."""
    print(f"\n{label}")
    print(f"  {'':28}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'peak RSS MiB':>14}")
    for name, row in (("group commit", fast), ("one transaction/envelope", base)):
        print(
            f"  {name:28}{row['events_per_s']:>10.0f}{row['p50_ms']:>9.2f}"
            f"{row['p99_ms']:>9.2f}{row['peak_rss_mib']:>14.0f}"
        )
    print(f"  ratio group commit / baseline: {fast['events_per_s'] / base['events_per_s']:.1f}x")


async def main() -> None:
    """Run every backend, baseline and group commit, in one process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--envelopes", type=int, default=6000)
    parser.add_argument("--producers", type=int, default=256)
    parser.add_argument("--baseline-envelopes", type=int, default=1500)
    args = parser.parse_args()
    bodies = make_bodies(args.envelopes)
    baseline_bodies = make_bodies(args.baseline_envelopes, seed=8)
    print(
        f"{args.envelopes} envelopes (baseline {args.baseline_envelopes}), "
        f"{args.producers} producers"
    )
    with tempfile.TemporaryDirectory() as tmp:
        fast = await run(f"sqlite:///{tmp}/fast.db", bodies, args.producers, group_commit=True)
        base = await run(
            f"sqlite:///{tmp}/base.db",
            baseline_bodies,
            args.producers,
            group_commit=False,
        )
        report("SQLite (file, WAL)", fast, base)
    pg_url = os.environ.get("RESENTRY_TEST_POSTGRES_URL")
    if pg_url:
        fast = await run_postgres(pg_url, bodies, args.producers, group_commit=True)
        base = await run_postgres(pg_url, baseline_bodies, args.producers, group_commit=False)
        report("PostgreSQL", fast, base)
    else:
        print("\nPostgreSQL: skipped (set RESENTRY_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    anyio.run(main)
