"""Web UI page times on a large SQLite data set: 10,000 issues and 1,000,000 events.

The data set is built once with bulk inserts straight into the migrated schema (the events
of each issue spread over 30 days, issue sizes skewed like real projects: a few issues hold
most events; the hourly counts ``record`` would keep) and cached on disk; later runs reuse
it. Each issue's latest event carries a realistic sentry-python payload (stack trace with
context lines and variables, breadcrumbs, request, contexts); older events carry an empty
object, since pages only render one event.

Pages are requested in-process through the ASGI app (``httpx.ASGITransport``), signed in
as an admin, so the time is the server's: routing, session check, queries and rendering.
Rounds alternate over the pages; the report gives each page's first view (nothing cached)
and, after it, the median and p95 over the rounds, and the median CPU time the process spent
(all threads): on a shared machine the wall-clock figures include waiting for a CPU.

    uv run python -m bench.bench_ui [--data /tmp/resentry-bench-ui] [--rounds 30]
"""

import argparse
import os
import random
import secrets
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx
import orjson

from resentry_core import CoreConfig, Resentry, SqlStorage
from resentry_server import create_app
from resentry_server._settings import Settings
from tests import factories as f
from tests.server.ui.helpers import sign_in

ISSUES = 10_000
EVENTS = 1_000_000
DAYS = 30
DATASET_VERSION = 2
CHUNK = 20_000


def _text_time(moment: datetime) -> str:
    return moment.isoformat(" ", "microseconds")[:26]  # SqlStorage's SQLite format


def _issue_sizes(rng: random.Random) -> list[int]:
    """Events per issue, skewed (Zipf-like), at least one each, summing to EVENTS."""
    weights = [1 / (rank + 1) ** 1.1 for rank in range(ISSUES)]
    scale = (EVENTS - ISSUES) / sum(weights)
    sizes = [1 + int(weight * scale) for weight in weights]
    sizes[0] += EVENTS - sum(sizes)
    rng.shuffle(sizes)
    return sizes


def _rows(rng: random.Random, now: datetime) -> Iterator[tuple[tuple[object, ...], ...]]:
    """(envelope, item, event) rows in received order, and the issues' rows at the end."""
    sizes = _issue_sizes(rng)
    owner = [issue for issue, size in enumerate(sizes) for _ in range(size)]
    rng.shuffle(owner)
    start = now - timedelta(days=DAYS)
    step = timedelta(days=DAYS) / EVENTS
    remaining = list(sizes)
    sdk = orjson.dumps({"name": "sentry.python", "version": "2.19.0"}).decode()
    for index, issue in enumerate(owner):
        row_id = index + 1
        received = _text_time(start + step * index)
        event_id = uuid.UUID(int=rng.getrandbits(128)).hex
        remaining[issue] -= 1
        last = remaining[issue] == 0
        payload = (
            orjson.dumps({"event_id": event_id, **f.error_event(exc_type=f"Error{issue}")})
            if last
            else b"{}"
        )
        environment = "production" if index % 4 else "staging"
        release = f"shop@1.{issue % 7}.0"
        tags = orjson.dumps({"browser": f"Chrome {110 + index % 9}", "os": "Linux"}).decode()
        yield (
            (row_id, 1, received, event_id, "{}", b"", None, 0),
            (row_id, row_id, 1, received, 0, "event", '{"type":"event"}', payload, len(payload)),
            (
                row_id,
                row_id,
                row_id,
                1,
                event_id,
                issue + 1,
                "error",
                "error" if issue % 5 else "warning",
                received,
                received,
                "python",
                f"Error{issue}: something failed in step {issue % 97}",
                f"shop.module{issue % 50} in handler{issue % 13}",
                "",
                release,
                environment,
                tags,
                None,
                sdk,
            ),
        )


def build(path: Path) -> None:
    """Create the data set at ``path`` (a new SQLite file)."""
    rng = random.Random(15)
    now = datetime.now(UTC).replace(microsecond=0)

    async def schema() -> None:
        storage = SqlStorage.from_url(f"sqlite:///{path}")
        await storage.migrate()
        await storage.create_project("Bench shop", slug="bench-shop")
        await storage.aclose()

    anyio.run(schema)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous = OFF")
    firsts: dict[int, str] = {}
    lasts: dict[int, tuple[str, str]] = {}
    counts: dict[int, int] = {}
    hours: Counter[tuple[int, str]] = Counter()  # (issue id, or 0 for the project; hour)
    buffers: tuple[list[tuple[object, ...]], ...] = ([], [], [])
    statements = (
        "INSERT INTO envelopes (id, project_id, received_at, event_id, headers, raw, "
        "raw_encoding, size) VALUES (?,?,?,?,?,?,?,?)",
        "INSERT INTO envelope_items (id, envelope_id, project_id, received_at, position, type, "
        "headers, payload, size) VALUES (?,?,?,?,?,?,?,?,?)",
        "INSERT INTO events (id, item_id, envelope_id, project_id, event_id, issue_id, type, "
        "level, timestamp, received_at, platform, title, culprit, message, release, "
        "environment, tags, user_data, sdk) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    )

    def flush() -> None:
        for statement, rows in zip(statements, buffers, strict=True):
            db.executemany(statement, rows)
            rows.clear()

    issue_rows: dict[int, tuple[object, ...]] = {}
    for rows in _rows(rng, now):
        for buffer, row in zip(buffers, rows, strict=True):
            buffer.append(row)
        event = rows[2]
        issue, received, event_id = int(str(event[5])), str(event[9]), str(event[4])
        firsts.setdefault(issue, received)
        lasts[issue] = (received, event_id)
        counts[issue] = counts.get(issue, 0) + 1
        hour = received[:13] + ":00:00.000000"
        hours[issue, hour] += 1
        hours[0, hour] += 1
        issue_rows.setdefault(issue, (event[11], event[12], event[7]))
        if len(buffers[0]) >= CHUNK:
            flush()
    flush()
    db.executemany(
        "INSERT INTO issues (id, project_id, fingerprint, title, culprit, level, status, "
        "first_seen, last_seen, times_seen, last_event_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                issue,
                1,
                f"fp{issue}",
                *issue_rows[issue],
                "unresolved",
                firsts[issue],
                lasts[issue][0],
                counts[issue],
                lasts[issue][1],
            )
            for issue in sorted(counts)
        ],
    )
    db.executemany(
        "INSERT INTO event_hours (project_id, issue_id, hour, count) VALUES (1, ?, ?, ?)",
        [(issue, hour, count) for (issue, hour), count in sorted(hours.items())],
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def _check(name: str, response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(
    path: Path, rounds: int
) -> tuple[dict[str, float], dict[str, list[float]], dict[str, list[float]]]:
    """Server time of each page's first view; then over ``rounds`` alternated rounds, the
    server time and the CPU time of the process (all threads), in milliseconds."""
    config = CoreConfig(
        database_url=f"sqlite:///{path}",
        secret_key=secrets.token_urlsafe(48),
        bcrypt_rounds=4,
        retention_interval=None,
    )
    async with Resentry.open(config) as core:
        password = secrets.token_urlsafe(16)
        credentials = await core.storage.get_credentials("bench")
        if credentials is None:
            await core.accounts.create_user("bench", password, is_admin=True)
        else:
            await core.accounts.update_user(credentials[0].id, password=password)
        issues = await core.storage.list_issues(1, sort="times_seen", limit=500)
        biggest, typical = issues.items[0], issues.items[len(issues.items) // 2]
        app = create_app(Settings(_env_file=None, data_dir=path.parent), core=core)  # type: ignore[call-arg]
        pages = {
            "projects": "/",
            "issue list": "/projects/1/",
            "issue list, by events": "/projects/1/?sort=times_seen",
            "issue list, search": "/projects/1/?q=step+42",
            "issue list, environment": "/projects/1/?environment=staging",
            f"issue detail ({biggest.times_seen:,} events)": f"/projects/1/issues/{biggest.id}/",
            f"issue detail ({typical.times_seen:,} events)": f"/projects/1/issues/{typical.id}/",
        }
        times: dict[str, list[float]] = {name: [] for name in pages}
        cold: dict[str, float] = {}
        cpu_times: dict[str, list[float]] = {name: [] for name in pages}
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
        ):
            await sign_in(client, "bench", password)
            for name, url in pages.items():  # the first view: nothing cached yet
                began = time.perf_counter()
                _check(name, await client.get(url))
                cold[name] = (time.perf_counter() - began) * 1000
            for _ in range(rounds):
                for name, url in pages.items():
                    began, cpu = time.perf_counter(), time.process_time()
                    response = await client.get(url)
                    times[name].append((time.perf_counter() - began) * 1000)
                    cpu_times[name].append((time.process_time() - cpu) * 1000)
                    _check(name, response)
        return cold, times, cpu_times


def main() -> None:
    """Build the data set if needed, then report each page's median and p95."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=Path(tempfile.gettempdir()) / "resentry-bench-ui"
    )
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    path = args.data / f"ui-v{DATASET_VERSION}-{ISSUES}-{EVENTS}.db"
    if not path.exists():
        began = time.perf_counter()
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        build(partial)
        partial.rename(path)
        print(f"built {path} in {time.perf_counter() - began:.0f} s")
    cold, times, cpu_times = anyio.run(measure, path, args.rounds)
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'page':40} {'first view':>10} {'median':>8} {'p95':>8} {'CPU median':>10}  (ms)")
    for name, values in times.items():
        median, p95 = statistics.median(values), percentile(values, 0.95)
        cpu = statistics.median(cpu_times[name])
        print(f"{name:40} {cold[name]:10.1f} {median:8.1f} {p95:8.1f} {cpu:10.1f}")


if __name__ == "__main__":
    main()
