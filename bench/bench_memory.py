"""``memory://`` per operation, as an embedder calls it, against another checkout side by side.

CPU time per call of the common embedder operations on a ``memory://`` core (``Resentry.open``):
create a project, read it, list projects, ingest an envelope, list and read issues and events,
change an issue's status. Each side runs in a subprocess of its own interpreter: this checkout,
and with ``--base`` another checkout with its own ``.venv`` (such as the commit that still had
the pure-Python ``MemoryStorage``: ``git worktree add /tmp/base edd16fc``, then ``uv sync
--frozen`` there). Rounds alternate between the sides; the table gives medians and ratios.

    uv run python -m bench.bench_memory [--base /tmp/base] [--rounds 5] [--calls 300]
"""

import argparse
import json
import os
import statistics
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
import orjson

OPERATIONS = (
    "create_project",
    "get_project",
    "list_projects",
    "ingest",
    "list_issues",
    "get_issue",
    "list_events",
    "get_event",
    "set_issue_status",
)
_SEED_ISSUES = 20
_SEED_EVENTS = 100


def _envelope(public_key: str, project_id: int, issue: int) -> bytes:
    event = {
        "level": "error",
        "platform": "python",
        "exception": {
            "values": [
                {
                    "type": f"Error{issue}",
                    "value": "division by zero",
                    "stacktrace": {
                        "frames": [{"module": "billing", "function": f"f{issue}", "lineno": 3}]
                    },
                }
            ]
        },
    }
    payload = orjson.dumps(event)
    header = {"event_id": uuid.uuid4().hex, "dsn": f"http://{public_key}@localhost/{project_id}"}
    item = {"type": "event", "length": len(payload)}
    return b"\n".join([orjson.dumps(header), orjson.dumps(item), payload]) + b"\n"


async def _per_call(calls: int, op: Callable[[int], Awaitable[object]]) -> float:
    """CPU microseconds per call of ``op`` (after a few warm-up calls)."""
    for i in range(5):
        await op(i)
    start = time.process_time()
    for i in range(calls):
        await op(i)
    return (time.process_time() - start) / calls * 1e6


async def _measure(calls: int) -> dict[str, float]:
    """One round of every operation on a fresh ``memory://`` core, in this interpreter."""
    from resentry_core import CoreConfig, EventFilter, IngestRequest, IssueStatus, Resentry

    config = CoreConfig(database_url="memory://", secret_key="b" * 64)
    async with Resentry.open(config) as core:
        storage = core.storage
        project = await storage.create_project("bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
        key = project.keys[0].public_key

        async def ingest(i: int) -> object:
            body = _envelope(key, project.id, i % _SEED_ISSUES)
            return await core.ingestor.ingest(IngestRequest(project_id=project.id, body=body))

        for i in range(_SEED_EVENTS):
            await ingest(i)
        issue = (await storage.list_issues(project.id)).items[0]
        issue_id, event_id = issue.id, str(issue.last_event_id)
        where = EventFilter(project_ids=(project.id,))
        statuses: tuple[IssueStatus, IssueStatus] = ("resolved", "unresolved")
        operations: dict[str, Callable[[int], Awaitable[object]]] = {
            "create_project": lambda i: storage.create_project(
                f"p{i}", slug=f"p-{uuid.uuid4().hex[:12]}"
            ),
            "get_project": lambda i: storage.get_project(project.id),
            "list_projects": lambda i: storage.list_projects(),
            "ingest": ingest,
            "list_issues": lambda i: storage.list_issues(project.id),
            "get_issue": lambda i: storage.get_issue(project.id, issue_id),
            "list_events": lambda i: storage.list_events(where, limit=25),
            "get_event": lambda i: storage.get_event(project.id, event_id),
            "set_issue_status": lambda i: storage.set_issue_status(
                project.id, issue_id, statuses[i % 2]
            ),
        }
        # list_projects after create_project sees a growing list: measure the reads first.
        order = [name for name in OPERATIONS if name != "create_project"] + ["create_project"]
        return {name: await _per_call(calls, operations[name]) for name in order}


def _round(python: str, calls: int) -> dict[str, float]:
    environment = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    output = subprocess.run(
        [python, __file__, "--measure", "--calls", str(calls)],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
        cwd="/",  # import resentry_core from the interpreter's environment, not from a cwd
    ).stdout
    result: dict[str, float] = json.loads(output)
    return result


def _python_of(checkout: Path) -> str:
    python = checkout / ".venv" / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"{python} not found: run `uv sync --frozen` in {checkout}")
    return str(python)


def _report(sides: dict[str, list[dict[str, float]]]) -> None:
    names = list(sides)
    medians = {
        side: {op: statistics.median(r[op] for r in rounds) for op in OPERATIONS}
        for side, rounds in sides.items()
    }
    header = f"{'operation':<18}" + "".join(f"{name:>14}" for name in names)
    if len(names) == 2:
        header += f"{'ratio':>9}"
    print(header + "   (CPU µs per call, medians)")
    for op in OPERATIONS:
        line = f"{op:<18}" + "".join(f"{medians[name][op]:>14.1f}" for name in names)
        if len(names) == 2:
            line += f"{medians[names[0]][op] / medians[names[1]][op]:>8.2f}x"
        print(line)


def main(argv: Sequence[str] | None = None) -> None:
    """Alternate rounds between this checkout and ``--base``; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base", type=Path, help="another checkout with a .venv to compare")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(anyio.run(_measure, args.calls)))
        return
    here = Path(__file__).resolve().parent.parent
    pythons = {"this": _python_of(here)}
    if args.base is not None:
        pythons["base"] = _python_of(args.base.resolve())
    sides: dict[str, list[dict[str, Any]]] = {name: [] for name in pythons}
    for _ in range(args.rounds):
        for name, python in pythons.items():
            sides[name].append(_round(python, args.calls))
    print(f"{args.rounds} rounds of {args.calls} calls; load average {os.getloadavg()[0]:.2f}")
    _report(sides)


if __name__ == "__main__":
    main()
