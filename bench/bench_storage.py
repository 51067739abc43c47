"""``SqlStorage.record`` throughput, alone: prepared envelopes in, stored events per second out.

The envelopes are built, gzip-compressed, parsed and prepared with the real pipeline before
the clock starts, so the figure is the storage layer only: 80% error events over 50 distinct
issues, 15% transactions, 5% error events with a 100 KB attachment. Batches are recorded one
after another (as the ingestor's group-commit writer does) into a fresh SQLite file (WAL) and,
when ``RESENTRY_TEST_POSTGRES_URL`` is set, a fresh PostgreSQL database.

    uv run python -m bench.bench_storage [--envelopes 10000] [--batch 250] [--rounds 3]
"""

import argparse
import gzip
import os
import random
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import anyio
import psutil

from resentry_core._parser import parse_envelope
from resentry_core._prepare import prepare_envelope
from resentry_core._projects import Projects
from resentry_core._records import PreparedEnvelope
from resentry_core._storage._sql import SqlStorage
from tests import factories as f
from tests.core.postgres_admin import scratch_database


def make_envelopes(project_id: int, count: int, seed: int = 7) -> list[PreparedEnvelope]:
    """The realistic mix, as ingestion would hand it to storage."""
    rng = random.Random(seed)
    attachment = rng.randbytes(100 * 1024)
    prepared = []
    for _ in range(count):
        roll = rng.random()
        event_id = uuid.UUID(int=rng.getrandbits(128)).hex
        if roll < 0.15:
            items = [f.item("transaction", f.transaction_event(f"/page/{rng.randrange(20)}"))]
        else:
            issue = rng.randrange(50)
            event = f.error_event(exc_type=f"Error{issue}", function=f"handler_{issue}")
            items = [f.item("event", event)]
            if roll > 0.95:
                items.append(f.item("attachment", attachment, filename="dump.bin"))
        body = f.envelope(items, event_id=event_id)
        prepared.append(
            prepare_envelope(
                parse_envelope(body),
                project_id=project_id,
                received_at=datetime.now(UTC),
                raw=gzip.compress(body, compresslevel=6),
                raw_encoding="gzip",
            )
        )
    return prepared


def _cpu_seconds(processes: Sequence[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _database_servers() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("postgres",)]


async def measure(url: str, envelopes: int, batch_size: int) -> tuple[float, float, float]:
    """Record every batch.

    Returns stored events per wall-clock second, per CPU second (this process plus the
    database server's processes; what an idle machine would reach), and the median batch
    time in milliseconds.
    """
    storage = SqlStorage.from_url(url)
    try:
        await storage.migrate()
        project = await Projects(storage).create_project(f"bench-{secrets.token_hex(4)}")
        prepared = make_envelopes(project.id, envelopes)
        batches = [prepared[i : i + batch_size] for i in range(0, len(prepared), batch_size)]
        timings = []
        stored = 0
        watched = [psutil.Process(), *_database_servers()]
        cpu_started = _cpu_seconds(watched)
        started = time.perf_counter()
        for batch in batches:
            began = time.perf_counter()
            stored += sum(not result.duplicate for result in await storage.record(batch))
            timings.append(time.perf_counter() - began)
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds(watched) - cpu_started
    finally:
        await storage.aclose()
    return stored / elapsed, stored / cpu, statistics.median(timings) * 1000


Measurement = tuple[float, float, float]


def _report(label: str, rounds: list[Measurement]) -> None:
    rates = sorted(per_second for per_second, _, _ in rounds)
    per_cpu = statistics.median(per_cpu for _, per_cpu, _ in rounds)
    batch_ms = statistics.median(batch for _, _, batch in rounds)
    print(
        f"  {label:20}{statistics.median(rates):8.0f} events/s (range {rates[0]:.0f}-"
        f"{rates[-1]:.0f})  {per_cpu:8.0f} events/CPU-s  median batch {batch_ms:6.1f} ms"
    )


async def _sqlite_round(envelopes: int, batch: int) -> Measurement:
    with tempfile.TemporaryDirectory() as tmp:
        return await measure(f"sqlite:///{tmp}/bench.db", envelopes, batch)


async def _postgres_round(base_url: str, envelopes: int, batch: int) -> Measurement:
    async with scratch_database(base_url, "resentry_bench") as url:
        return await measure(url, envelopes, batch)


async def main(argv: Sequence[str] | None = None) -> None:
    """Measure SQLite, then PostgreSQL when configured; each in fresh databases, ``--rounds``
    times (the median is reported: the machine may be shared)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--envelopes", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{args.envelopes} envelopes in batches of {args.batch}, {args.rounds} rounds")
    sizes = (args.envelopes, args.batch)
    _report("SQLite (file, WAL)", [await _sqlite_round(*sizes) for _ in range(args.rounds)])
    pg_url = os.environ.get("RESENTRY_TEST_POSTGRES_URL")
    if not pg_url:
        print("  PostgreSQL: skipped (set RESENTRY_TEST_POSTGRES_URL)")
        return
    _report("PostgreSQL", [await _postgres_round(pg_url, *sizes) for _ in range(args.rounds)])


if __name__ == "__main__":
    anyio.run(main)
