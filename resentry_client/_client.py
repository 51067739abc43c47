"""``Client``: the blocking client. It only drives ``_flow.exchange`` with httpx's sync I/O."""

import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Self, TypeVar, cast

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
from resentry_client._resources import Api, SyncRunner

T = TypeVar("T")


class _Runner:
    is_async = False

    def __init__(self, session: Session, http: httpx.Client) -> None:
        self.session = session
        self.http = http
        self._refresh_lock = threading.Lock()

    def run(self, call: Call[T]) -> T:
        flow = exchange(call, self.session, self.http.build_request)
        step = next(flow)
        while True:
            outcome: Outcome = None
            if isinstance(step, Send):
                outcome = self._send(step)
            elif isinstance(step, Refresh):
                outcome = self._refresh(step)
            else:
                time.sleep(step.seconds)
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                response: httpx.Response = done.value
                break
        if call.destination is None:
            return finish(call, response, self.session)
        sink = Sink(call.destination, response)
        ok = False
        try:
            iterate = response.iter_raw() if call.raw else response.iter_bytes()
            for chunk in iterate:
                sink.stream.write(chunk)
                sink.wrote(len(chunk))
            ok = True
        finally:
            response.close()
            download = sink.close(ok=ok)
        return cast(T, download)

    def _refresh(self, step: Refresh) -> bool:
        with self._refresh_lock:
            if not needs_refresh(step, self.session):
                return self.session.access_token is not None
            try:
                self.run(REFRESH)
            except APIStatusError:
                return False
            return True

    def _send(self, step: Send) -> httpx.Response | httpx.TransportError:
        try:
            response = self.http.send(step.request, stream=step.stream)
        except httpx.TransportError as exc:
            return exc
        if step.stream and response.is_error:
            response.read()
        return response

    def pages(self, list_call: ListCall[T]) -> Iterator[Page[T]]:
        walk = PageWalk(list_call)
        while (call := walk.next_call()) is not None:
            page = self.run(call)
            yield Page(items=walk.take(page), next_cursor=page.next_cursor)


class Client(Api[SyncRunner]):
    """The Resentry management API, blocking.

    Args:
        base_url: the server (with its mount prefix, if any), e.g. ``http://127.0.0.1:8000``;
            default ``RESENTRY_URL``, then the CLI's stored login.
        token: an access token; default ``RESENTRY_TOKEN``, then the stored login (only for
            its own server). ``login()`` sets one.
        refresh_token: a refresh token, used once when the server refuses the access token.
        timeout: seconds (or an ``httpx.Timeout``) per request; default 30 s (10 s to
            connect), or the injected client's own.
        max_retries: retries of failed idempotent requests (see :class:`RetryPolicy`).
        retry: the full retry policy, instead of ``max_retries``.
        http_client: an ``httpx.Client`` to send with (its transport, proxies, headers);
            the caller closes it.

    Raises:
        ResentryClientError: no server URL anywhere.

    Example::

        with Client("http://127.0.0.1:8000") as client:
            client.login("admin", password)
            for project in client.projects.list():
                print(project.id, project.name, project.dsns)
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
        http_client: httpx.Client | None = None,
    ) -> None:
        session = make_session(
            base_url,
            token=token,
            refresh_token=refresh_token,
            timeout=timeout if http_client is not None else None,
            retry=retry or RetryPolicy(max_retries=max_retries),
        )
        self._owns_http = http_client is None
        http = http_client or httpx.Client(timeout=timeout or DEFAULT_TIMEOUT)
        super().__init__(_Runner(session, http), session)
        self._http = http

    def close(self) -> None:
        """Close the HTTP client, unless it was passed in."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
