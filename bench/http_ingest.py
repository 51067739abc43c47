"""HTTP ingest benchmark: Resentry under uvicorn versus a trivial FastAPI endpoint.

Starts ``python -m resentry_server`` (one uvicorn worker, SQLite in a temporary directory) and,
under the same uvicorn settings, a FastAPI app whose envelope route only reads the body and
answers ``{"id": ...}``: the ceiling of the stack (uvicorn, Starlette, the client) on this
machine. Both get the same realistic gzip envelopes (``bench.bench_ingest.make_bodies``: 80%
errors over 50 issues, 15% transactions, 5% with a 100 KB attachment) from 127.0.0.1 only.

1. Saturation: ``--senders`` concurrent senders (closed loop), ``--requests`` requests or
   ``--seconds`` seconds, whichever comes first: events/s and latency for each server, in
   ``--rounds`` alternating rounds (both servers run throughout); medians are compared.
2. Duplicates: the first round's envelopes once more, all already stored, so Resentry answers
   each after the lookup that finds it: the cost of everything but the inserts.
3. Fixed load: Resentry at ``--load-fraction`` of the ceiling's median rate (open loop, for
   ``--load-seconds``): accepted events/s and p50/p99 latency at that load.
4. Capacity: the highest open-loop rate at which Resentry answers every request with a p99
   under 50 ms, found by bisection between 0 and its saturated rate (``--capacity-steps``
   runs of ``--capacity-seconds``): the load it sustains within the latency target.

Apart from step 2, every envelope is sent once (fresh event ids per round): a resent event is a
duplicate, which Resentry answers without storing it again.

It also reports Resentry's idle RSS (after start, and after the load) and its peak RSS.
Targets: throughput >= 50% of the ceiling, p99 < 50 ms at that load, idle RSS < 100 MiB.

With ``--header-cap`` it measures instead what the request-head cap costs: two Resentry
servers under ``uvicorn --factory``, one with uvicorn's own httptools protocol and one with
``--http resentry_server:HttpProtocol`` (431 past ``RESENTRY_MAX_REQUEST_HEADER_BYTES``),
each on its own SQLite database, saturated in ``--rounds`` alternated rounds.

    uv run python -m bench.http_ingest [--senders 32] [--requests 12000] [--rounds 3]
    uv run python -m bench.http_ingest --header-cap [--rounds 5]
"""

import argparse
import contextlib
import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import anyio.abc
import httpx
import psutil
from fastapi import FastAPI, Request

from bench.bench_ingest import make_bodies
from resentry_core import Dsn

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
UVICORN_OPTIONS = ["--host", "127.0.0.1", "--log-level", "warning", "--no-server-header"]


def trivial_app() -> FastAPI:
    """The ceiling: read the body, answer a fixed id. Run with ``uvicorn --factory``."""
    app = FastAPI()

    @app.post("/api/{project_id}/envelope/")
    async def envelope(project_id: int, request: Request) -> dict[str, str]:
        await request.body()
        return {"id": "fc6d8c0c43fc4630ad850ee518f1b9d0"}

    return app


@dataclass(frozen=True)
class Server:
    """A server process under test."""

    name: str
    url: str
    process: subprocess.Popen[bytes]

    def rss(self) -> int:
        """Resident memory of the process, in bytes."""
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def cpu_seconds(self) -> float:
        """CPU time the process used so far (user + system, all its threads)."""
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)


@dataclass(frozen=True)
class Result:
    """One load run."""

    accepted: int
    refused: int
    seconds: float
    latencies: Sequence[float]
    peak_rss: int
    server_cpu_seconds: float

    @property
    def rate(self) -> float:
        """Accepted events per second."""
        return self.accepted / self.seconds

    @property
    def cpu_ms_per_event(self) -> float:
        """Server CPU time per accepted event, in milliseconds (independent of the client)."""
        return 1000 * self.server_cpu_seconds / max(1, self.accepted)

    def percentile(self, p: float) -> float:
        """Latency percentile ``p`` (0..100), in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _serve(name: str, argv: Sequence[str], env: dict[str, str], port: int) -> Iterator[Server]:
    process = subprocess.Popen([*argv, "--port", str(port)], env=env, cwd=ROOT)
    server = Server(name=name, url=f"http://127.0.0.1:{port}", process=process)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{server.url}/health/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{name} did not start") from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(60)


async def _sample_peak(server: Server, peak: list[int], stop: anyio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], server.rss())
        await anyio.sleep(0.05)


class _Connection:
    """One keep-alive HTTP/1.1 connection, written and read by hand.

    The load generator shares the server's two cores, so it must cost far less per request
    than the server does; httpx costs about as much as the trivial endpoint itself.
    """

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self.stream = stream
        self.buffer = b""

    async def request(self, head: bytes, body: bytes) -> int:
        """Send one request and read its response; return the status code."""
        await self.stream.send(head + body)
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += await self.stream.receive()
        header, _, rest = self.buffer.partition(b"\r\n\r\n")
        length = 0
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            rest += await self.stream.receive()
        self.buffer = rest[length:]
        return int(header[9:12])


@dataclass
class _Sender:
    """Posts envelopes over pooled connections and records the latency of each accepted one."""

    url: str
    auth: str
    latencies: list[float]
    refused: int = 0
    idle: list[_Connection] = field(default_factory=list)
    # At most this many connections (requests beyond wait), as an HTTP client pool would.
    slots: anyio.Semaphore = field(default_factory=lambda: anyio.Semaphore(256))

    async def post(self, body: bytes) -> None:
        async with self.slots:
            await self._post(body)

    async def _post(self, body: bytes) -> None:
        started = time.perf_counter()
        parts = urlsplit(self.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        head = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            + (f"X-Sentry-Auth: {self.auth}\r\n" if self.auth else "")
            + "Content-Encoding: gzip\r\nContent-Type: application/x-sentry-envelope\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        while True:
            pooled = bool(self.idle)
            connection = self.idle.pop() if pooled else None
            if connection is None:
                connection = _Connection(await anyio.connect_tcp(host, port))
            try:
                status = await connection.request(head, body)
            except (anyio.BrokenResourceError, anyio.EndOfStream, OSError):
                await connection.stream.aclose()
                if pooled:  # the server closed an idle keep-alive connection: reconnect
                    continue
                raise
            break
        self.idle.append(connection)
        if status == 200:
            self.latencies.append(time.perf_counter() - started)
        else:
            self.refused += 1

    async def aclose(self) -> None:
        for connection in self.idle:
            await connection.stream.aclose()


@contextmanager
def _client_gc_paused() -> Iterator[None]:
    """No garbage collection in the load generator while it measures.

    Its collections (of the tasks and buffers of thousands of requests) pause it for
    milliseconds, and every response it reads late counts as server latency. At 1,000
    requests/s, six paired runs of 5 s had a median of 50 requests over 20 ms with the
    collector off and 68 with it on (fewer in five pairs of six).
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _measure(
    server: Server,
    url: str,
    auth: str,
    drive: Callable[[_Sender], Awaitable[None]],
) -> Result:
    peak = [server.rss()]
    stop = anyio.Event()
    sender = _Sender(url=url, auth=auth, latencies=[])
    with _client_gc_paused():
        cpu_before = server.cpu_seconds()
        started = time.perf_counter()
        async with anyio.create_task_group() as sampler:
            sampler.start_soon(_sample_peak, server, peak, stop)
            try:
                await drive(sender)
            finally:
                await sender.aclose()
            stop.set()
        elapsed = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu_before
    return Result(len(sender.latencies), sender.refused, elapsed, sender.latencies, peak[0], cpu)


async def saturate(
    server: Server, url: str, auth: str, bodies: Sequence[bytes], senders: int, seconds: float
) -> Result:
    """Closed loop: ``senders`` concurrent senders until the bodies or the time run out."""
    queue = list(reversed(bodies))
    deadline = time.perf_counter() + seconds

    async def loop(sender: _Sender) -> None:
        while queue and time.perf_counter() < deadline:
            await sender.post(queue.pop())

    async def drive(sender: _Sender) -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(senders):
                tg.start_soon(loop, sender)

    return await _measure(server, url, auth, drive)


async def fixed_rate(
    server: Server, url: str, auth: str, bodies: Sequence[bytes], rate: float, seconds: float
) -> Result:
    """Open loop: start one request every ``1/rate`` seconds for ``seconds``, whatever answers."""

    async def drive(sender: _Sender) -> None:
        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for index in range(int(rate * seconds)):
                await anyio.sleep(max(0.0, started + index / rate - time.perf_counter()))
                tg.start_soon(sender.post, bodies[index % len(bodies)])

    return await _measure(server, url, auth, drive)


P99_TARGET_MS = 50.0


def capacity(
    server: Server, url: str, auth: str, ceiling: float, steps: int, seconds: float
) -> tuple[float, list[tuple[float, Result]]]:
    """The highest rate (of ``steps`` bisection runs below ``ceiling``) that ``server`` answers
    in full with a p99 under the target, or 0; and every run, with its offered rate."""
    low, high, runs = 0.0, ceiling, []
    for step in range(steps):
        rate = (low + high) / 2
        count = max(1, int(rate * seconds))
        bodies = make_bodies(count, seed=1000 + step)
        result = anyio.run(fixed_rate, server, url, auth, bodies, count / seconds, seconds)
        runs.append((rate, result))
        held = result.accepted == count and result.percentile(99) < P99_TARGET_MS
        low, high = (rate, high) if held else (low, rate)
        time.sleep(1)  # let the previous run's backlog drain
    return low, runs


def _create_project(env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "resentry_server", "project", "create", "bench"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    dsn = Dsn.parse(done.stdout.strip())
    return dsn.project_id, dsn.public_key


def _report(name: str, result: Result) -> None:
    print(
        f"{name:<34} {result.rate:8.0f} ev/s   p50 {result.percentile(50):6.1f} ms   "
        f"p99 {result.percentile(99):6.1f} ms   server CPU {result.cpu_ms_per_event:5.2f} ms/ev   "
        f"({result.accepted} accepted, "
        f"{result.refused} refused, {result.seconds:.1f} s)"
    )


def main() -> None:
    """Run both servers under the same load and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--senders", type=int, default=32)
    parser.add_argument("--requests", type=int, default=12_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load-fraction", type=float, default=0.5)
    parser.add_argument("--load-seconds", type=float, default=10.0)
    parser.add_argument("--capacity-steps", type=int, default=5)
    parser.add_argument("--capacity-seconds", type=float, default=5.0)
    parser.add_argument("--header-cap", action="store_true", help="measure the head cap's cost")
    args = parser.parse_args()
    if args.header_cap:
        compare_header_cap(args.rounds, args.requests, args.senders, args.seconds)
        return
    # Fresh envelopes everywhere: a resent event id is a duplicate, which costs Resentry less.
    warmup = make_bodies(300, seed=1)
    rounds = [make_bodies(args.requests, seed=100 + index) for index in range(args.rounds)]
    print(
        f"{args.rounds} rounds of {args.requests} gzip envelopes "
        f"({sum(map(len, rounds[0])) / MiB:.1f} MiB each); {args.senders} senders; "
        f"{os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RESENTRY_")},
            "PYTHONPATH": str(ROOT),
            "RESENTRY_DATA_DIR": tmp,
            "RESENTRY_LOG_LEVEL": "warning",
        }
        project_id, key = _create_project(env)
        auth = f"Sentry sentry_key={key}, sentry_version=7"
        python = [sys.executable, "-m"]
        # At warning level nothing is logged per request; `resentry serve` builds no access
        # lines then, so neither does the ceiling.
        ceiling_argv = [*python, "uvicorn", "--factory", "bench.http_ingest:trivial_app"]
        ceiling_argv += [*UVICORN_OPTIONS, "--no-access-log"]
        resentry_argv = [*python, "resentry_server", "serve", "--host", "127.0.0.1"]
        with (
            _serve("trivial", ceiling_argv, env, _free_port()) as trivial,
            _serve("resentry", resentry_argv, env, _free_port()) as resentry,
        ):
            idle_start = resentry.rss()
            trivial_url = f"{trivial.url}/api/1/envelope/"
            url = f"{resentry.url}/api/{project_id}/envelope/"
            anyio.run(saturate, trivial, trivial_url, "", warmup, args.senders, args.seconds)
            anyio.run(saturate, resentry, url, auth, warmup, args.senders, args.seconds)
            ceilings, saturations = [], []
            load = (args.senders, args.seconds)
            for bodies in rounds:  # alternated, so both see the same machine state
                ceilings.append(anyio.run(saturate, trivial, trivial_url, "", bodies, *load))
                saturations.append(anyio.run(saturate, resentry, url, auth, bodies, *load))
            ceiling, saturated = _median(ceilings), _median(saturations)
            # The first round again: every event is now a duplicate, answered after the lookup
            # that finds it stored, so this is the whole path except the inserts.
            duplicates = anyio.run(saturate, resentry, url, auth, rounds[0], *load)
            target_rate = args.load_fraction * ceiling.rate
            load_bodies = make_bodies(int(target_rate * args.load_seconds) + 1, seed=2)
            loaded = anyio.run(
                fixed_rate, resentry, url, auth, load_bodies, target_rate, args.load_seconds
            )
            time.sleep(2)
            idle_after = resentry.rss()
            sustained, probes = capacity(
                resentry, url, auth, saturated.rate, args.capacity_steps, args.capacity_seconds
            )
    print()
    for index, (low, high) in enumerate(zip(ceilings, saturations, strict=True), start=1):
        _report(f"round {index}: trivial endpoint", low)
        _report(f"round {index}: Resentry, saturated", high)
    print()
    _report("trivial FastAPI endpoint (median)", ceiling)
    _report("Resentry, saturated (median)", saturated)
    _report("Resentry, duplicates only", duplicates)
    _report(f"Resentry at {target_rate:.0f} req/s (open loop)", loaded)
    for rate, probe in probes:
        _report(f"capacity probe at {rate:.0f} req/s", probe)
    print()
    pairs = zip(ceilings, saturations, strict=True)
    fractions = sorted(high.rate / low.rate for low, high in pairs)
    print(
        f"Resentry throughput: {saturated.rate / ceiling.rate:.0%} of the ceiling "
        f"(medians; per round {', '.join(f'{f:.0%}' for f in fractions)}; target >= 50%)"
    )
    cpu_fraction = ceiling.cpu_ms_per_event / saturated.cpu_ms_per_event
    print(
        f"Server CPU per event: {saturated.cpu_ms_per_event:.2f} ms vs "
        f"{ceiling.cpu_ms_per_event:.2f} ms for the trivial endpoint, i.e. a CPU-bound "
        f"throughput of {cpu_fraction:.0%} of the ceiling (client-independent)"
    )
    duplicate_cpu = duplicates.cpu_ms_per_event
    print(
        f"Without the inserts (every event a duplicate): {duplicates.rate:.0f} ev/s, "
        f"{duplicates.rate / ceiling.rate:.0%} of the ceiling; server CPU {duplicate_cpu:.2f} "
        f"ms/ev, a CPU-bound {ceiling.cpu_ms_per_event / duplicate_cpu:.0%} of the ceiling"
    )
    print(
        f"p99 at {args.load_fraction:.0%} of the ceiling: {loaded.percentile(99):.1f} ms "
        f"(target < {P99_TARGET_MS:.0f} ms); accepted {loaded.rate:.0f} ev/s of "
        f"{target_rate:.0f} offered"
    )
    print(
        f"Sustained with p99 < {P99_TARGET_MS:.0f} ms: {sustained:.0f} ev/s, "
        f"{sustained / ceiling.rate:.0%} of the ceiling ({len(probes)} bisection runs of "
        f"{args.capacity_seconds:.0f} s)"
    )
    peak = max(*(result.peak_rss for result in saturations), loaded.peak_rss)
    print(
        f"Resentry RSS: idle {idle_start / MiB:.0f} MiB at start, {idle_after / MiB:.0f} MiB "
        f"after the load (target < 100 MiB); peak {peak / MiB:.0f} MiB"
    )


def compare_header_cap(rounds: int, requests: int, senders: int, seconds: float) -> None:
    """Saturate Resentry with and without :class:`resentry_server.HttpProtocol`, alternating."""
    batches = [make_bodies(requests, seed=200 + index) for index in range(rounds)]
    protocols = {"httptools": "httptools", "HttpProtocol": "resentry_server:HttpProtocol"}
    results: dict[str, list[Result]] = {name: [] for name in protocols}
    with (
        tempfile.TemporaryDirectory() as plain_dir,
        tempfile.TemporaryDirectory() as capped_dir,
        contextlib.ExitStack() as stack,
    ):
        targets = {}
        for (name, http), data_dir in zip(protocols.items(), (plain_dir, capped_dir), strict=True):
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("RESENTRY_")},
                "PYTHONPATH": str(ROOT),
                "RESENTRY_DATA_DIR": data_dir,
                "RESENTRY_LOG_LEVEL": "warning",
            }
            project_id, key = _create_project(env)
            argv = [sys.executable, "-m", "uvicorn", "--factory", "resentry_server:create_app"]
            argv += [*UVICORN_OPTIONS, "--no-access-log", "--http", http]
            server = stack.enter_context(_serve(name, argv, env, _free_port()))
            url = f"{server.url}/api/{project_id}/envelope/"
            auth = f"Sentry sentry_key={key}, sentry_version=7"
            targets[name] = (server, url, auth)
            anyio.run(saturate, server, url, auth, make_bodies(300, seed=1), senders, seconds)
        for index, bodies in enumerate(batches):
            order = list(targets) if index % 2 == 0 else list(reversed(targets))
            for name in order:  # alternated, and each goes first every other round
                server, url, auth = targets[name]
                results[name].append(
                    anyio.run(saturate, server, url, auth, bodies, senders, seconds)
                )
    for name, runs in results.items():
        for index, result in enumerate(runs, start=1):
            _report(f"round {index}: {name}", result)
    plain, capped = _median(results["httptools"]), _median(results["HttpProtocol"])
    _report("httptools (median)", plain)
    _report("HttpProtocol (median)", capped)
    ratios = sorted(
        c.rate / p.rate for p, c in zip(results["httptools"], results["HttpProtocol"], strict=True)
    )
    print(
        f"HttpProtocol / httptools: {capped.rate / plain.rate:.1%} of the throughput (medians; "
        f"per round {', '.join(f'{r:.1%}' for r in ratios)}); server CPU per event "
        f"{capped.cpu_ms_per_event:.3f} vs {plain.cpu_ms_per_event:.3f} ms"
    )


def _median(results: Sequence[Result]) -> Result:
    """The run with the median throughput."""
    return sorted(results, key=lambda result: result.rate)[len(results) // 2]


if __name__ == "__main__":
    main()
