"""Sentry ingestion routes (design.md §3): thin HTTP shells around the core's ``Ingestor``.

The route reads the body with a cap, hands the raw request to the core, and answers
``{"id": ...}`` once the envelope is stored. Every check and every error (see
``docs/ingest_routes.md``) comes from the core and is mapped to a status in ``_errors.py``.
"""

import base64
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from resentry_core import IngestRequest, IngestResult, format_rate_limits
from resentry_server._body import read_body
from resentry_server._cors import ingest_preflight_headers
from resentry_server._deps import ResentryDep
from resentry_server._errors import error_response, json_response

router = APIRouter(tags=["ingestion"])

ProjectId = Annotated[
    int, Path(ge=0, le=2**63 - 1, description="The project id, the last segment of the DSN.")
]
# A transparent 1x1 GIF, what Relay answers to GET /store/ (protocol.md §4.2).
_PIXEL: Final = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_BINARY_BODY: Final[dict[str, Any]] = {"schema": {"type": "string", "format": "binary"}}
_ANSWERS: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "description": "Stored. `{}` when the envelope has no event id.",
        "content": {"application/json": {"example": {"id": "fc6d8c0c43fc4630ad850ee518f1b9d0"}}},
    },
    400: {"description": "Malformed envelope, JSON, encoding, key or project id."},
    401: {"description": "No key, or different keys from different sources."},
    403: {"description": "Unknown project, or not an active key of this project."},
    413: {"description": "Body, decompressed body, item or envelope over its limit."},
    415: {"description": "Unsupported Content-Encoding."},
    429: {"description": "Rate limited; see Retry-After and X-Sentry-Rate-Limits."},
}
_ENVELOPE_DOC: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {"application/x-sentry-envelope": _BINARY_BODY},
    }
}
_STORE_DOC: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": _BINARY_BODY, "application/octet-stream": _BINARY_BODY},
    }
}

Ingest = Callable[[IngestRequest], Awaitable[IngestResult]]


@router.post(
    "/api/{project_id}/envelope/",
    summary="Submit an envelope",
    responses=_ANSWERS,
    openapi_extra=_ENVELOPE_DOC,
)
@router.post(
    "/api/v1/{project_id}/envelope/",
    summary="Submit an envelope (alias)",
    responses=_ANSWERS,
    openapi_extra=_ENVELOPE_DOC,
)
async def post_envelope(project_id: ProjectId, request: Request, resentry: ResentryDep) -> Response:
    """Accept a Sentry envelope (every item type)."""
    return await _ingest(request, project_id, resentry.ingestor.ingest, resentry)


@router.post(
    "/api/{project_id}/store/",
    summary="Submit a legacy event",
    responses=_ANSWERS,
    openapi_extra=_STORE_DOC,
)
async def post_store(project_id: ProjectId, request: Request, resentry: ResentryDep) -> Response:
    """Accept one legacy event: JSON, base64(JSON) or base64(zlib(JSON)), or an envelope."""
    return await _ingest(request, project_id, resentry.ingestor.ingest_store, resentry)


@router.get(
    "/api/{project_id}/store/",
    summary="Submit a legacy event as a query parameter",
    response_class=Response,
    responses={**_ANSWERS, 200: {"description": "Stored.", "content": {"image/gif": {}}}},
)
async def get_store(
    project_id: ProjectId,
    request: Request,
    resentry: ResentryDep,
    sentry_data: Annotated[str, Query(description="The event: JSON or base64.")],
) -> Response:
    """Accept one legacy event sent in the query string; answers a 1x1 GIF."""
    await resentry.ingestor.ingest_store(
        _ingest_request(request, project_id, sentry_data.encode("utf-8"))
    )
    return Response(_PIXEL, media_type="image/gif")


@router.options("/api/{project_id}/envelope/", include_in_schema=False)
@router.options("/api/v1/{project_id}/envelope/", include_in_schema=False)
@router.options("/api/{project_id}/store/", include_in_schema=False)
async def preflight(request: Request) -> Response:
    """Answer a CORS preflight: POST with Sentry's headers, from any origin (protocol.md §5.4)."""
    method = request.headers.get("access-control-request-method")
    if method is not None and method.strip().upper() != "POST":
        return error_response(request, 400, f"CORS preflight: method {method!r} is not allowed")
    headers = ingest_preflight_headers(request.headers.get("origin"))
    return Response(status_code=200, headers={**headers, "Allow": "POST, OPTIONS"})


async def _ingest(
    request: Request, project_id: int, ingest: Ingest, resentry: ResentryDep
) -> Response:
    body = await read_body(request, resentry.ingestor.limits.max_request_bytes)
    result = await ingest(_ingest_request(request, project_id, body))
    headers = (
        {"X-Sentry-Rate-Limits": format_rate_limits(result.rate_limits)}
        if result.rate_limits
        else None
    )
    return json_response({"id": result.event_id} if result.event_id else {}, headers=headers)


def _ingest_request(request: Request, project_id: int, body: bytes) -> IngestRequest:
    headers = request.headers
    return IngestRequest(
        project_id=project_id,
        body=body,
        content_encoding=headers.get("content-encoding"),
        content_type=headers.get("content-type"),
        x_sentry_auth=headers.get("x-sentry-auth"),
        authorization=headers.get("authorization"),
        query=request.scope.get("query_string", b"").decode("latin-1"),
        origin=headers.get("origin") or _referer_origin(headers.get("referer")),
    )


def _referer_origin(referer: str | None) -> str | None:
    # Relay falls back to the Referer's origin when a browser sends no Origin header.
    if not referer:
        return None
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
