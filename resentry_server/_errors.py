"""The one place where errors become HTTP answers: every error body is ``{"detail": ...}``.

``status_for`` maps the core's error tree (``resentry_core/_errors.py``) to statuses by MRO
lookup, so a subclass inherits its parent's status unless it has its own row.
"""

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from math import ceil
from typing import Final

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from resentry_core import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DeliveryError,
    EnvelopeError,
    InvalidAuthError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimit,
    RateLimitedError,
    ResentryError,
    StorageError,
    UnsupportedEncodingError,
    format_rate_limits,
)
from resentry_server._paths import is_ingest_path

logger = logging.getLogger("resentry_server")

_STATUS: Final[Mapping[type[ResentryError], int]] = {
    BadRequestError: 400,
    EnvelopeError: 400,
    InvalidAuthError: 400,
    PayloadTooLargeError: 413,
    UnsupportedEncodingError: 415,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    InvalidInputError: 422,
    RateLimitedError: 429,
    StorageError: 503,
    DeliveryError: 502,
}
# A 415 lists the codings the server does decode (as tower-http's decompression does for Relay).
SUPPORTED_ENCODINGS: Final = "gzip, deflate, br, zstd"
BAD_PROJECT_PATH: Final = "bad project path parameter"


def status_for(exc: ResentryError) -> int:
    """The HTTP status for a core error (500 for one without a row in the table)."""
    return next((_STATUS[cls] for cls in type(exc).__mro__ if cls in _STATUS), 500)


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """An error answer, whatever sends it (a FastAPI handler or the ingestion routes)."""

    status: int
    headers: dict[str, str]
    """Headers besides ``Content-Type`` (always ``application/json``) and ``Content-Length``."""
    body: bytes
    """``{"detail": ...}`` as JSON."""


def error_answer(
    status: int, detail: object, headers: Mapping[str, str] | None = None, *, ingest: bool = False
) -> ErrorAnswer:
    """``{"detail": ...}`` with ``status``; on ingestion routes also ``X-Sentry-Error``."""
    all_headers = dict(headers or {})
    if ingest and isinstance(detail, str):
        all_headers["X-Sentry-Error"] = _header_safe(detail)
    return ErrorAnswer(status, all_headers, orjson.dumps({"detail": _jsonable(detail)}))


def retry_after(exc: RateLimitedError) -> str:
    """The ``Retry-After`` value of a 429: whole seconds, at least one."""
    return str(max(1, ceil(exc.retry_after)))


def core_error_answer(exc: ResentryError, *, ingest: bool, method: str, path: str) -> ErrorAnswer:
    """The answer to a core error: its status, its detail, and the headers its status calls for.

    A 429 says when to retry (``Retry-After``, and Sentry's ``X-Sentry-Rate-Limits`` on
    ingestion routes), a 415 which codings are decoded, a 401 of the management API which
    scheme to use. A 5xx is logged with ``method`` and ``path``.
    """
    status = status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = retry_after(exc)
        if ingest:
            limit = RateLimit(retry_after=exc.retry_after, categories=exc.categories)
            headers["X-Sentry-Rate-Limits"] = format_rate_limits([limit])
    elif isinstance(exc, UnsupportedEncodingError):
        headers["Accept-Encoding"] = SUPPORTED_ENCODINGS
    elif isinstance(exc, AuthenticationError) and not ingest:
        headers["WWW-Authenticate"] = "Bearer"
    if status >= 500:
        logger.error("%s %s failed: %s", method, path, exc)
    return error_answer(status, str(exc), headers, ingest=ingest)


def _response(answer: ErrorAnswer) -> Response:
    return Response(answer.body, answer.status, answer.headers, media_type="application/json")


# FastAPI's handlers. Its routes are never ingestion routes (those answer before FastAPI
# sees the request); only _unexpected_error also sees exceptions escaping ingestion routes.


async def _resentry_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ResentryError)  # noqa: S101 - registered for ResentryError only
    return _response(
        core_error_answer(exc, ingest=False, method=request.method, path=request.url.path)
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    return _response(error_answer(422, exc.errors()))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    return _response(error_answer(exc.status_code, exc.detail, exc.headers))


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.exception("%s %s raised", request.method, request.url.path, exc_info=exc)
    return _response(
        error_answer(500, "internal server error", ingest=is_ingest_path(request.scope))
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers: core errors, validation errors, HTTP errors and the rest (500)."""
    app.add_exception_handler(ResentryError, _resentry_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


def _header_safe(text: str) -> str:
    cleaned = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
    return cleaned[:200]


def _jsonable(value: object) -> object:
    """Make a detail encodable whatever it echoes (validation errors echo the input): orjson
    refuses integers beyond 64 bits and lone surrogates, JSON has no NaN, and inputs may be
    bytes or exceptions."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
