"""``AsyncClient``: the async client. It only drives ``_flow.exchange`` with httpx's async I/O."""

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self, TypeVar, cast

import anyio
import httpx

from resentry_client._calls import Call, ListCall
from resentry_client._config import make_session
from resentry_client._errors import APIStatusError
from resentry_client._flow import (
    DEFAULT_TIMEOUT,
    REFRESH,
    Outcome,
    PageWalk,
    Refresh,
    RetryPolicy,
    Send,
    Session,
    Sink,
    exchange,
    finish,
    needs_refresh,
)
from resentry_client._models import Page
from resentry_client._resources import Api, AsyncRunner

T = TypeVar("T")


class _AsyncRunner:
    is_async = True

    def __init__(self, session: Session, http: httpx.AsyncClient) -> None:
        self.session = session
        self.http = http
        self._refresh_lock = anyio.Lock()

    async def run(self, call: Call[T]) -> T:
        flow = exchange(call, self.session, self.http.build_request)
        step = next(flow)
        while True:
            outcome: Outcome = None
            if isinstance(step, Send):
                outcome = await self._send(step)
            elif isinstance(step, Refresh):
                outcome = await self._refresh(step)
            else:
                await anyio.sleep(step.seconds)
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                response: httpx.Response = done.value
                break
        if call.destination is None:
            return finish(call, response, self.session)
        sink = await anyio.to_thread.run_sync(Sink, call.destination, response)
        ok = False
        try:
            iterate = response.aiter_raw() if call.raw else response.aiter_bytes()
            async for chunk in iterate:
                # A file of ours is written from a worker thread; a caller's stream directly.
                if sink.path is not None:
                    await anyio.to_thread.run_sync(sink.stream.write, chunk)
                else:
                    sink.stream.write(chunk)
                sink.wrote(len(chunk))
            ok = True
        finally:
            await response.aclose()
            download = await anyio.to_thread.run_sync(lambda: sink.close(ok=ok))
        return cast(T, download)

    async def _refresh(self, step: Refresh) -> bool:
        async with self._refresh_lock:
            if not needs_refresh(step, self.session):
                return self.session.access_token is not None
            try:
                await self.run(REFRESH)
            except APIStatusError:
                return False
            return True

    async def _send(self, step: Send) -> httpx.Response | httpx.TransportError:
        try:
            response = await self.http.send(step.request, stream=step.stream)
        except httpx.TransportError as exc:
            return exc
        if step.stream and response.is_error:
            await response.aread()
        return response

    async def pages(self, list_call: ListCall[T]) -> AsyncIterator[Page[T]]:
        walk = PageWalk(list_call)
        while (call := walk.next_call()) is not None:
            page = await self.run(call)
            yield Page(items=walk.take(page), next_cursor=page.next_cursor)


class AsyncClient(Api[AsyncRunner]):
    """The Resentry management API, async (asyncio or trio); the same surface as ``Client``.

    Takes the same arguments as :class:`Client`, with an ``httpx.AsyncClient`` as
    ``http_client``. Every operation returns an awaitable; lists are async iterators.

    Example::

        async with AsyncClient("http://127.0.0.1:8000") as client:
            await client.login("admin", password)
            async for event in client.events.list(project_id, level="error", max_items=20):
                print(event.event_id, event.title)
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        refresh_token: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 2,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        session = make_session(
            base_url,
            token=token,
            refresh_token=refresh_token,
            timeout=timeout if http_client is not None else None,
            retry=retry or RetryPolicy(max_retries=max_retries),
        )
        self._owns_http = http_client is None
        http = http_client or httpx.AsyncClient(timeout=timeout or DEFAULT_TIMEOUT)
        super().__init__(_AsyncRunner(session, http), session)
        self._http = http

    async def aclose(self) -> None:
        """Close the HTTP client, unless it was passed in."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
