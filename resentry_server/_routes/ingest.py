"""Sentry ingestion routes (docs/ingest_routes.md): a thin ASGI shell around ``Ingestor``.

Every SDK request lands here, so these routes are served by :class:`IngestRoutes`, an ASGI
middleware in front of FastAPI's routing: no dependency injection, request or response
objects, or exception middleware run for them. The route reads the body with a cap, hands the
raw request to the core, and answers ``{"id": ...}`` once the envelope is stored. Every check
and every error (see ``docs/ingest_routes.md``) comes from the core and is mapped to a status
in ``_errors.py``. The routes' OpenAPI description is in ``_routes/ingest_openapi.py``.
"""

import base64
from collections.abc import Iterable
from typing import Final, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from resentry_core import BadRequestError, IngestRequest, ResentryError, format_rate_limits
from resentry_server._body import read_body
from resentry_server._cors import INGEST_PREFLIGHT_HEADERS, RawHeaders, ingest_cors_headers
from resentry_server._deps import get_resentry
from resentry_server._errors import (
    BAD_PROJECT_PATH,
    ErrorAnswer,
    core_error_answer,
    error_answer,
)
from resentry_server._paths import IngestRoute, ingest_route, route_path

_MAX_PROJECT_ID: Final = 2**63 - 1
# A transparent 1x1 GIF, what Relay answers to GET /store/ (relay-server/src/endpoints/store.rs).
_PIXEL: Final = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_JSON: Final = (b"content-type", b"application/json")
_GIF: Final = (b"content-type", b"image/gif")
_PREFLIGHT_ALLOW: Final = (b"allow", b"POST, OPTIONS")


class _Answer(NamedTuple):
    status: int
    headers: RawHeaders  # besides Content-Length and the CORS headers
    body: bytes


class IngestRoutes:
    """ASGI middleware: answers the ingestion routes itself, and passes other requests on.

    Sits inside :class:`~resentry_server._paths.NormalizePathMiddleware`, so it sees
    normalized paths. Every answer, errors included, carries the ingestion CORS headers. An
    unexpected exception propagates to Starlette's server-error middleware (a JSON 500).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve an ingestion request; call the app for anything else."""
        route = ingest_route(route_path(scope)) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        headers = _first_values(scope["headers"])
        try:
            answer = await _serve(scope, receive, headers, route)
        except ResentryError as exc:
            method, path = scope["method"], scope["path"]
            answer = _from_error(core_error_answer(exc, ingest=True, method=method, path=path))
        start = [
            (b"content-length", b"%d" % len(answer.body)),
            *answer.headers,
            *ingest_cors_headers(headers.get(b"origin")),
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": start})
        await send({"type": "http.response.body", "body": answer.body})


async def _serve(
    scope: Scope, receive: Receive, headers: dict[bytes, bytes], route: IngestRoute
) -> _Answer:
    method: str = scope["method"]
    if method == "OPTIONS":
        return _preflight(headers)
    if method != "POST" and not (method == "GET" and route.store):
        allow = "GET, POST, OPTIONS" if route.store else "POST, OPTIONS"
        return _from_error(error_answer(405, "Method Not Allowed", {"Allow": allow}, ingest=True))
    resentry = await get_resentry(Request(scope))
    project_id = _project_id(route.project)
    ingestor = resentry.ingestor
    if method == "GET":  # the event is in the query (Relay's endpoints/store.rs)
        request = _ingest_request(scope, headers, project_id, _sentry_data(scope))
        await ingestor.ingest_store(request)
        return _Answer(200, [_GIF], _PIXEL)
    content_length = headers.get(b"content-length")
    body = await read_body(receive, content_length, ingestor.limits.max_request_bytes)
    request = _ingest_request(scope, headers, project_id, body)
    result = await (ingestor.ingest_store(request) if route.store else ingestor.ingest(request))
    answer_headers = [_JSON]
    if result.rate_limits:
        limits = format_rate_limits(result.rate_limits).encode("latin-1")
        answer_headers.append((b"x-sentry-rate-limits", limits))
    return _Answer(
        200, answer_headers, orjson.dumps({"id": result.event_id} if result.event_id else {})
    )


def _preflight(headers: dict[bytes, bytes]) -> _Answer:
    """A CORS preflight: POST with Sentry's headers, from any origin (Relay's cors.rs)."""
    method = headers.get(b"access-control-request-method")
    if method is not None and method.strip().upper() != b"POST":
        detail = f"CORS preflight: method {method.decode('latin-1')!r} is not allowed"
        return _from_error(error_answer(400, detail, ingest=True))
    return _Answer(200, [*INGEST_PREFLIGHT_HEADERS, _PREFLIGHT_ALLOW], b"")


def _from_error(answer: ErrorAnswer) -> _Answer:
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in answer.headers.items()
    ]
    return _Answer(answer.status, [_JSON, *headers], answer.body)


def _first_values(raw: Iterable[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    # The first value of a repeated header wins, as with Starlette's Headers.get().
    found: dict[bytes, bytes] = {}
    for name, value in raw:
        found.setdefault(name, value)
    return found


def _project_id(segment: str) -> int:
    # Refused with 400 and Relay's detail text.
    if segment.isascii() and segment.isdigit() and int(segment) <= _MAX_PROJECT_ID:
        return int(segment)
    raise BadRequestError(BAD_PROJECT_PATH)


def _sentry_data(scope: Scope) -> bytes:
    query: bytes = scope["query_string"]
    values = [
        value
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        if name == "sentry_data"
    ]
    if not values:
        raise BadRequestError("missing or invalid parameter: sentry_data")
    return values[-1].encode("utf-8")


def _ingest_request(
    scope: Scope, headers: dict[bytes, bytes], project_id: int, body: bytes
) -> IngestRequest:
    query: bytes = scope["query_string"]
    return IngestRequest(
        project_id=project_id,
        body=body,
        content_encoding=_text(headers.get(b"content-encoding")),
        content_type=_text(headers.get(b"content-type")),
        x_sentry_auth=_text(headers.get(b"x-sentry-auth")),
        authorization=_text(headers.get(b"authorization")),
        query=query.decode("latin-1"),
        origin=_text(headers.get(b"origin")) or _referer_origin(_text(headers.get(b"referer"))),
    )


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def _referer_origin(referer: str | None) -> str | None:
    # Relay falls back to the Referer's origin when a browser sends no Origin header.
    if not referer:
        return None
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
