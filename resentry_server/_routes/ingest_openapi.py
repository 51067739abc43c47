"""The OpenAPI description of the ingestion routes, which FastAPI does not see.

The routes are served by ``IngestRoutes`` before FastAPI's router, so FastAPI cannot generate
their schema; ``create_app``'s app adds these path items to the generated one. Operation ids
are the ones FastAPI generated when these were FastAPI routes.
"""

from typing import Any, Final

_PROJECT_ID: Final[dict[str, Any]] = {
    "name": "project_id",
    "in": "path",
    "required": True,
    "description": "The project id, the last segment of the DSN.",
    "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1, "title": "Project Id"},
}
_SENTRY_DATA: Final[dict[str, Any]] = {
    "name": "sentry_data",
    "in": "query",
    "required": True,
    "description": "The event: JSON or base64.",
    "schema": {"type": "string", "title": "Sentry Data"},
}
_BINARY: Final[dict[str, Any]] = {"schema": {"type": "string", "format": "binary"}}
_REFUSALS: Final[dict[str, Any]] = {
    "400": {"description": "Malformed envelope, JSON, encoding, key or project id."},
    "401": {"description": "No key, or different keys from different sources."},
    "403": {"description": "Unknown project, or not an active key of this project."},
    "413": {"description": "Body, decompressed body, item or envelope over its limit."},
    "415": {"description": "Unsupported Content-Encoding."},
    "429": {"description": "Rate limited; see Retry-After and X-Sentry-Rate-Limits."},
}
_STORED: Final[dict[str, Any]] = {
    "description": "Stored. `{}` when the envelope has no event id.",
    "content": {"application/json": {"example": {"id": "fc6d8c0c43fc4630ad850ee518f1b9d0"}}},
}


def _operation(
    operation_id: str,
    summary: str,
    description: str,
    *,
    body_types: tuple[str, ...] = (),
    query: tuple[dict[str, Any], ...] = (),
    stored: dict[str, Any] = _STORED,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "tags": ["ingestion"],
        "summary": summary,
        "description": description,
        "operationId": operation_id,
        "parameters": [_PROJECT_ID, *query],
        "responses": {"200": stored, **_REFUSALS},
    }
    if body_types:
        content = dict.fromkeys(body_types, _BINARY)
        operation["requestBody"] = {"required": True, "content": content}
    return operation


_ENVELOPE: Final = "Accept a Sentry envelope (every item type)."

INGEST_PATHS: Final[dict[str, Any]] = {
    "/api/v1/{project_id}/envelope/": {
        "post": _operation(
            "post_envelope_api_v1__project_id__envelope__post",
            "Submit an envelope (alias)",
            _ENVELOPE,
            body_types=("application/x-sentry-envelope",),
        )
    },
    "/api/{project_id}/envelope/": {
        "post": _operation(
            "post_envelope_api__project_id__envelope__post",
            "Submit an envelope",
            _ENVELOPE,
            body_types=("application/x-sentry-envelope",),
        )
    },
    "/api/{project_id}/store/": {
        "post": _operation(
            "post_store_api__project_id__store__post",
            "Submit a legacy event",
            "Accept one legacy event: JSON, base64(JSON) or base64(zlib(JSON)), or an envelope.",
            body_types=("application/json", "application/octet-stream"),
        ),
        "get": _operation(
            "get_store_api__project_id__store__get",
            "Submit a legacy event as a query parameter",
            "Accept one legacy event sent in the query string; answers a 1x1 GIF.",
            query=(_SENTRY_DATA,),
            stored={"description": "Stored.", "content": {"image/gif": {}}},
        ),
    },
}
"""OpenAPI path items of the ingestion routes, as ``paths`` of the schema holds them."""
