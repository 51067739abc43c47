"""The client's own cost per call: ``Client`` against hand-written ``httpx`` calls.

Run with ``uv run python bench/bench_client.py``. Both sides send through the same
``httpx.MockTransport``, which answers at once with a canned page of 50 events (about 60 KB
of JSON), so the network and the server cost nothing and what is left is each side's work:
building the request, and decoding the answer. The baseline does ``client.get(url,
params=...)`` and ``response.json()`` (dicts); ``Client`` also checks every field against
its model and builds frozen dataclasses (``datetime``s included). Rounds alternate the two
sides; the figures are medians, and the ratio is taken within the same run.
"""

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable

import httpx

from resentry_client import Client

URL = "http://bench.invalid"


def _page(size: int) -> bytes:
    event = {
        "project_id": 1,
        "issue_id": 7,
        "type": "error",
        "level": "error",
        "timestamp": "2026-11-26T03:00:00.123456+00:00",
        "received_at": "2026-11-26T03:00:00.223456+00:00",
        "title": "ValueError: invalid literal for int() with base 10: 'abc'",
        "culprit": "shop.checkout in apply_coupon",
        "message": "",
        "platform": "python",
        "release": "shop@1.0.0",
        "environment": "production",
        "tags": {"browser": "Firefox", "os": "Linux", "server_name": "web-1"},
        "user": {"id": "42", "email": "jane@example.com"},
        "sdk": {"name": "sentry.python", "version": "2.75.0"},
        "transaction": None,
        "op": None,
        "duration_ms": None,
        "status": None,
        "span_count": None,
    }
    items = [{**event, "event_id": uuid.uuid4().hex} for _ in range(size)]
    return json.dumps({"items": items, "next_cursor": "abc"}).encode()


def main() -> None:
    """Alternate rounds of both sides; print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300, help="calls per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    body = _page(50)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = Client(URL, token="bench-token", http_client=http)  # noqa: S106 - no server

    def raw() -> None:
        response = http.get(f"{URL}/api/v1/projects/1/events/", params={"limit": 50})
        response.raise_for_status()
        if len(response.json()["items"]) != 50:
            raise RuntimeError("the page lost items")

    def typed() -> None:
        page = next(iter(client.events.list(1, limit=50).pages()))
        if len(page.items) != 50:
            raise RuntimeError("the page lost items")

    sides: dict[str, Callable[[], None]] = {"httpx + json": raw, "Client (typed)": typed}
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, call in sides.items():
            started = time.perf_counter()
            for _ in range(args.calls):
                call()
            times[name].append((time.perf_counter() - started) / args.calls)
    medians = {name: statistics.median(values) for name, values in times.items()}
    size = f"{len(body) / 1000:.0f} KB"
    print(f"one call returning a page of 50 events ({size}), median of {args.rounds} rounds:")
    for name, seconds in medians.items():
        print(f"  {name:15} {seconds * 1e6:8.0f} µs")
    ratio = medians["Client (typed)"] / medians["httpx + json"]
    print(f"  ratio: {ratio:.2f}x the plain httpx call")


if __name__ == "__main__":
    main()
