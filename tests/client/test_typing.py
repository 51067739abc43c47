"""The clients' static types: the same operations, sync results for ``Client`` and awaitables
and async iterators for ``AsyncClient``. mypy (strict, in CI) checks the ``assert_type``
calls; at run time the test shows that binding the namespaces sends nothing."""

from collections.abc import Awaitable
from typing import assert_type

import httpx

from resentry_client import (
    AsyncClient,
    AsyncPager,
    Client,
    EventDetail,
    Issue,
    Project,
    SyncPager,
)


def _never_sent(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"sent {request.method} {request.url}")


def test_both_clients_have_the_same_typed_surface() -> None:
    """Each operation reads the same on both clients; only the call's result type differs."""
    transport = httpx.MockTransport(_never_sent)
    client = Client("http://x", token="t", http_client=httpx.Client(transport=transport))
    async_client = AsyncClient(
        "http://x", token="t", http_client=httpx.AsyncClient(transport=transport)
    )
    assert_type(client.projects.list(limit=10), SyncPager[Project])
    assert_type(async_client.projects.list(limit=10), AsyncPager[Project])
    assert_type(client.issues.list(1, status="resolved"), SyncPager[Issue])
    assert_type(async_client.issues.list(1, status="resolved"), AsyncPager[Issue])
    get = async_client.events.get(1, "0" * 32)
    assert_type(get, Awaitable[EventDetail])
    get.close()  # type: ignore[attr-defined]  # a coroutine never awaited here
    assert client.attachments.download.__doc__ == async_client.attachments.download.__doc__
    assert client.events.list.__name__ == "list_events"
    for namespace in ("users", "projects", "keys", "members", "events", "issues", "items"):
        assert type(getattr(client, namespace)) is type(getattr(async_client, namespace))
