"""Ingest with notifications on versus off: two Resentry servers over HTTP, alternated rounds.

Both run ``resentry serve`` (one uvicorn worker, SQLite in its own temporary directory) with
the same settings, except:

- **off**: ``RESENTRY_WORKER=false`` and no channel or rule: ingestion writes only the outbox
  rows of new issues, and nothing reads them;
- **on**: the worker runs in the server process, and the project has a webhook channel with a
  ``level`` rule at ``info``, so every batch writes a ``level`` notice per issue and the worker
  fans them out, de-duplicates them and sends what remains to a receiver on 127.0.0.1 that
  takes ``--receiver-delay`` seconds to answer each POST (a slow channel).

With ``--separate-worker`` the "on" server runs with ``RESENTRY_WORKER=false`` and the worker
runs beside it as ``resentry worker`` (its CPU is not the server's). ``--issues 0`` makes every
error event a new issue, so the worker has a webhook to send for each.

Both get the same fresh envelopes (``bench.bench_ingest.make_bodies``) from ``--senders``
closed-loop senders, in ``--rounds`` alternated rounds (each server first in every other round);
the medians are compared. The goal:
notifications cost ingestion less than 5% of its throughput.

    uv run python -m bench.http_notify [--senders 32] [--requests 6000] [--rounds 3]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio

from bench.bench_ingest import make_bodies
from bench.http_ingest import ROOT, _free_port, _median, _report, _serve, saturate
from resentry_core import Projects, SqlStorage


@contextmanager
def slow_receiver(delay: float) -> Iterator[tuple[str, list[int]]]:
    """A webhook receiver on 127.0.0.1 answering 200 after ``delay`` seconds; yields its URL
    and a list that counts the POSTs it received."""
    received: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(1)
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    ThreadingHTTPServer.request_queue_size = 128  # the worker sends up to 50 at once
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _worker(env: dict[str, str] | None) -> Iterator[None]:
    """``resentry worker`` with ``env`` while the block runs (nothing when ``env`` is None)."""
    if env is None:
        yield
        return
    argv = [sys.executable, "-m", "resentry_server", "worker"]
    process = subprocess.Popen(argv, env={**env, "RESENTRY_WORKER": "true"}, cwd=ROOT)
    try:
        yield
    finally:
        process.terminate()
        process.wait(60)


async def _prepare(database_url: str, hook: str | None) -> tuple[int, str]:
    """A project (with a webhook channel and a ``level`` rule when ``hook`` is given)."""
    storage = SqlStorage.from_url(database_url)
    try:
        await storage.migrate()
        project = await Projects(storage).create_project("bench")
        if hook is not None:
            channel = await storage.create_channel(
                project.id, name="slow", kind="webhook", target=hook
            )
            await storage.create_rule(
                project.id, channel_id=channel.id, trigger="level", min_level="info"
            )
        return project.id, project.keys[0].public_key
    finally:
        await storage.aclose()


def main() -> None:
    """Run both servers under the same load and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--senders", type=int, default=32)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--receiver-delay", type=float, default=0.5)
    parser.add_argument(
        "--issues",
        type=int,
        default=50,
        help="distinct issues in the envelopes (0: every error event is a new issue, so the "
        "worker has a notification to deliver for each)",
    )
    parser.add_argument(
        "--rule",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="give the 'on' project its webhook channel and level rule (--no-rule: the worker "
        "runs with nothing to do, which isolates its own cost)",
    )
    parser.add_argument(
        "--separate-worker",
        action="store_true",
        help="run the 'on' worker as its own process (resentry worker) instead of in the server",
    )
    args = parser.parse_args()
    warmup = make_bodies(300, seed=1, issues=args.issues)
    rounds = [
        make_bodies(args.requests, seed=100 + index, issues=args.issues)
        for index in range(args.rounds)
    ]
    print(f"{args.rounds} rounds of {args.requests} gzip envelopes; {args.senders} senders")
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RESENTRY_")},
        "PYTHONPATH": str(ROOT),
        "RESENTRY_LOG_LEVEL": "warning",
    }
    argv = [sys.executable, "-m", "resentry_server", "serve", "--host", "127.0.0.1"]
    with (
        tempfile.TemporaryDirectory() as off_dir,
        tempfile.TemporaryDirectory() as on_dir,
        slow_receiver(args.receiver_delay) as (hook, received),
    ):
        off_env = {**base, "RESENTRY_DATA_DIR": off_dir, "RESENTRY_WORKER": "false"}
        on_env = {
            **base,
            "RESENTRY_DATA_DIR": on_dir,
            "RESENTRY_WORKER": "false" if args.separate_worker else "true",
            "RESENTRY_WEBHOOK_ALLOW_PRIVATE": "true",
        }
        off_project = anyio.run(_prepare, f"sqlite:///{Path(off_dir) / 'resentry.db'}", None)
        on_url = f"sqlite:///{Path(on_dir) / 'resentry.db'}"
        on_project = anyio.run(_prepare, on_url, hook if args.rule else None)
        with (
            _serve("off", argv, off_env, _free_port()) as off,
            _serve("on", argv, on_env, _free_port()) as on,
            _worker(on_env if args.separate_worker else None),
        ):
            targets = [
                (off, f"{off.url}/api/{off_project[0]}/envelope/", off_project[1]),
                (on, f"{on.url}/api/{on_project[0]}/envelope/", on_project[1]),
            ]
            load = (args.senders, args.seconds)
            for server, url, key in targets:
                auth = f"Sentry sentry_key={key}, sentry_version=7"
                anyio.run(saturate, server, url, auth, warmup, *load)
            results: dict[str, list[Any]] = {"off": [], "on": []}
            for index, bodies in enumerate(rounds):  # alternated, each first in turn
                for server, url, key in targets if index % 2 == 0 else targets[::-1]:
                    auth = f"Sentry sentry_key={key}, sentry_version=7"
                    result = anyio.run(saturate, server, url, auth, bodies, *load)
                    results[server.name].append(result)
                    _report(f"notifications {server.name}", result)
    print()
    off_median, on_median = _median(results["off"]), _median(results["on"])
    _report("notifications off (median)", off_median)
    _report("notifications on (median)", on_median)
    pairs = list(zip(results["off"], results["on"], strict=True))  # adjacent in time
    ratios = sorted(on_r.rate / off_r.rate for off_r, on_r in pairs)
    cpu = statistics.median(on_r.cpu_ms_per_event / off_r.cpu_ms_per_event for off_r, on_r in pairs)
    print(
        f"With notifications on, ingestion runs at {on_median.rate / off_median.rate:.1%} of "
        f"its rate with them off (medians; per round {', '.join(f'{r:.1%}' for r in ratios)}; "
        f"goal >= 95%); server CPU per event {cpu:.1%} of off's (median of the rounds' ratios); "
        f"the slow receiver got {len(received)} webhooks"
    )


if __name__ == "__main__":
    main()
