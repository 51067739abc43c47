"""The I/O-free part of sending a call, shared by ``Client`` and ``AsyncClient``.

:func:`exchange` is a generator in the manner of httpx's ``Auth.auth_flow``: it yields
:class:`Send` and :class:`Sleep` steps, receives each answer (or transport error), and
decides about token refresh, retries, backoff and errors. The sync and async clients only
drive it, each with its own I/O.
"""

import os
import random
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import unquote

import httpx

from resentry_client._calls import Call, Destination, ListCall
from resentry_client._calls import refresh as refresh_call
from resentry_client._errors import (
    APIResponseValidationError,
    ResentryClientError,
    error_for_response,
    error_for_transport,
    parse_retry_after,
)
from resentry_client._models import Download, Page, Tokens

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_PAGE_LIMIT = 500  # the API's largest ?limit=


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """When and how long to wait before sending a request again.

    Connection failures (the request never reached the server) are retried for every method;
    other transport errors and 502/503/504 only for idempotent methods; 429 for every method
    (the server did nothing). ``Retry-After`` on 429 and 503 sets the wait; an answer asking
    for more than ``max_retry_after_seconds`` is raised at once.

    Attributes:
        max_retries: retries after the first attempt (0: none).
        backoff_seconds: the first backoff; it doubles with each retry, with jitter.
        max_backoff_seconds: the longest backoff.
        max_retry_after_seconds: the longest ``Retry-After`` worth waiting for.
    """

    max_retries: int = 2
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0
    max_retry_after_seconds: float = 60.0

    def backoff(self, attempt: int) -> float:
        """The wait before retry number ``attempt + 1``: half fixed, half random."""
        ceiling = min(self.max_backoff_seconds, self.backoff_seconds * 2.0**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not secrecy

    def after_error(self, call: Call[Any], exc: httpx.TransportError, attempt: int) -> float | None:
        """The wait before retrying after a transport error, or None to give up."""
        never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        if attempt >= self.max_retries or not (call.idempotent or never_sent):
            return None
        return self.backoff(attempt)

    def after_response(
        self, call: Call[Any], response: httpx.Response, attempt: int
    ) -> float | None:
        """The wait before retrying after an answer, or None to keep the answer."""
        status = response.status_code
        if attempt >= self.max_retries:
            return None
        if status == 429 or (status == 503 and call.idempotent):
            wait = parse_retry_after(response.headers.get("retry-after"))
            if wait is None:
                return self.backoff(attempt)
            return wait if wait <= self.max_retry_after_seconds else None
        if status in (502, 504) and call.idempotent:
            return self.backoff(attempt)
        return None


class Session:
    """The state of one client: where the server is, its tokens, timeouts and retries.

    ``timeout`` None leaves the HTTP client's own timeout. ``on_tokens`` is called with the new
    pair after a login or refresh, and with None after a logout (the CLI's stored login uses
    it to stay current).
    """

    def __init__(
        self,
        base_url: str,
        *,
        access_token: str | None,
        refresh_token: str | None,
        timeout: httpx.Timeout | None,
        retry: RetryPolicy,
        on_tokens: Callable[[Tokens | None], None] | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ResentryClientError(
                f"the server URL must start with http:// or https://: {base_url!r}"
            )
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.timeout = timeout
        self.retry = retry
        self.on_tokens = on_tokens

    def store(self, tokens: Tokens) -> None:
        """Keep a new token pair."""
        self.access_token, self.refresh_token = tokens.access_token, tokens.refresh_token
        if self.on_tokens is not None:
            self.on_tokens(tokens)

    def forget(self) -> None:
        """Drop the tokens."""
        self.access_token = self.refresh_token = None
        if self.on_tokens is not None:
            self.on_tokens(None)


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``request``; with ``stream`` leave a successful answer's body unread."""

    request: httpx.Request
    stream: bool


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait ``seconds`` before going on."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Refresh:
    """Renew the tokens, unless another request already did since ``stale_token`` was sent.

    Drivers do this under a lock, so concurrent 401s spend the (single-use) refresh token
    once; they answer True when the session has a fresh access token.
    """

    stale_token: str | None


Outcome = httpx.Response | httpx.TransportError | bool | None
Step = Send | Sleep | Refresh
Flow = Generator[Step, Outcome, httpx.Response]
BuildRequest = Callable[..., httpx.Request]


def _user_agent() -> str:
    try:
        return f"resentry-client/{version('resentry')}"
    except PackageNotFoundError:  # a source tree that is not installed
        return "resentry-client"


USER_AGENT = _user_agent()


def build_request(build: BuildRequest, call: Call[Any], session: Session) -> httpx.Request:
    """The request of ``call``, with the session's URL, token and timeout.

    Args:
        build: the HTTP client's ``build_request`` (so its own headers and cookies apply).
    """
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if call.authenticated:
        if session.access_token is None and session.refresh_token is None:
            raise ResentryClientError(
                "not logged in: call login(), pass token=, set RESENTRY_TOKEN "
                "or run `resentry-client login`"
            )
        if session.access_token is not None:
            headers["Authorization"] = f"Bearer {session.access_token}"
    body = call.json
    if call.uses_refresh_token:
        if session.refresh_token is None:
            raise ResentryClientError("no refresh token: log in first")
        body = {"refresh_token": session.refresh_token}
    params = {name: value for name, value in call.params.items() if value is not None}
    return build(
        call.method,
        session.base_url + call.path,
        params=params,
        json=body,
        headers=headers,
        timeout=httpx.USE_CLIENT_DEFAULT if session.timeout is None else session.timeout,
    )


def exchange(call: Call[Any], session: Session, build: BuildRequest) -> Flow:
    """Send ``call`` until it has its answer: refresh the token once on 401, retry per the
    session's policy, and raise the error an answer or a transport failure means.

    Returns (as the generator's value) the successful response; its body is read unless
    the call streams to a destination.
    """
    attempt = 0
    refreshed = False
    while True:
        token = session.access_token
        request = build_request(build, call, session)
        outcome = yield Send(request, stream=call.destination is not None)
        if isinstance(outcome, httpx.TransportError):
            wait = session.retry.after_error(call, outcome, attempt)
            if wait is None:
                raise error_for_transport(outcome, request) from outcome
        else:
            if not isinstance(outcome, httpx.Response):
                raise TypeError(f"a Send is answered with a response, not {outcome!r}")
            if outcome.status_code == 401 and call.authenticated and not refreshed:
                refreshed = True
                if session.refresh_token is not None and (yield Refresh(token)):
                    continue
            wait = session.retry.after_response(call, outcome, attempt)
            if wait is None:
                if outcome.is_error:
                    raise error_for_response(outcome)
                return outcome
        attempt += 1
        yield Sleep(wait)


def needs_refresh(step: Refresh, session: Session) -> bool:
    """Whether the tokens are still the ones that were refused (else another request has
    already renewed them)."""
    return session.access_token == step.stale_token and session.refresh_token is not None


REFRESH = refresh_call()
"""The call that renews the tokens with the session's refresh token."""


def finish(call: Call[T], response: httpx.Response, session: Session) -> T:
    """Parse a successful, read response into the call's result, and apply its token effect.

    Raises:
        APIResponseValidationError: the body is not JSON, or not of the documented shape.
    """
    try:
        body = response.json() if response.content else None
        result = call.parse(body)
    except ValueError as exc:
        raise APIResponseValidationError(
            f"{call.method} {response.request.url}: unexpected answer: {exc}",
            method=call.method,
            url=str(response.request.url),
        ) from None
    if call.tokens == "store" and isinstance(result, Tokens):
        session.store(result)
    elif call.tokens == "forget":
        session.forget()
    return result


class PageWalk:
    """Where a walk through a :class:`ListCall` stands: the next page's call, and which of a
    page's items to hand out (all of them, up to ``max_items`` in all)."""

    def __init__(self, list_call: ListCall[Any]) -> None:
        self._list = list_call
        self._cursor: str | None = None
        self._seen = 0
        self._done = list_call.max_items == 0

    def next_call(self) -> Call[Page[Any]] | None:
        """The call of the next page, or None when the walk is over."""
        if self._done:
            return None
        call = self._list.page(self._cursor)
        if self._list.max_items is not None:
            remaining = self._list.max_items - self._seen
            limit = call.params.get("limit") or MAX_PAGE_LIMIT
            call = _with_limit(call, min(limit, remaining, MAX_PAGE_LIMIT))
        return call

    def take(self, page: Page[T]) -> list[T]:
        """The items of ``page`` to hand out; moves on to the next page."""
        items = page.items
        if self._list.max_items is not None:
            items = items[: self._list.max_items - self._seen]
        self._seen += len(items)
        self._cursor = page.next_cursor
        self._done = self._cursor is None or (
            self._list.max_items is not None and self._seen >= self._list.max_items
        )
        return items


def _with_limit(call: Call[Page[Any]], limit: int) -> Call[Page[Any]]:
    return replace(call, params={**call.params, "limit": limit})


# --- downloads ----------------------------------------------------------------------------------

_FILENAME_STAR = re.compile(r"filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)")
_FILENAME = re.compile(r'filename\s*=\s*"((?:[^"\\]|\\.)*)"|filename\s*=\s*([^;\s]+)')


def disposition_filename(header: str | None) -> str | None:
    """The file name of a ``Content-Disposition`` header (RFC 6266), without directories."""
    if not header:
        return None
    name: str | None = None
    if match := _FILENAME_STAR.search(header):
        name = unquote(match.group(1).strip())
    elif match := _FILENAME.search(header):
        name = match.group(1) if match.group(1) is not None else match.group(2)
    if name is None:
        return None
    name = os.path.basename(name.replace("\\", "/")).strip()
    return name if name not in ("", ".", "..") else None


class Sink:
    """Where a download's bytes go. A path is written to ``<name>.part`` and renamed when
    complete, so a failed download leaves no partial file under the real name."""

    def __init__(self, destination: Destination, response: httpx.Response) -> None:
        self.filename = disposition_filename(response.headers.get("content-disposition")) or (
            "download"
        )
        self.content_type = response.headers.get("content-type", "application/octet-stream")
        self.size = 0
        self.path: Path | None = None
        self._part: Path | None = None
        if isinstance(destination, str | os.PathLike):
            path = Path(destination)
            self.path = path / self.filename if path.is_dir() else path
            self._part = self.path.with_name(self.path.name + ".part")
            self.stream: IO[bytes] = self._part.open("wb")
        else:
            self.stream = destination

    def wrote(self, count: int) -> None:
        """Count bytes written."""
        self.size += count

    def close(self, *, ok: bool) -> Download:
        """Finish: rename the part file into place (``ok``) or remove it."""
        if self._part is not None:
            self.stream.close()
            if ok and self.path is not None:
                os.replace(self._part, self.path)
            else:
                self._part.unlink(missing_ok=True)
        return Download(
            filename=self.filename,
            content_type=self.content_type,
            size=self.size,
            path=None if self.path is None else str(self.path),
        )
