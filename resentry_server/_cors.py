"""CORS: Relay's fixed policy on ingestion routes, a configured one on the management API.

Ingestion follows Relay's ``relay-server/src/middlewares/cors.rs``: browser SDKs post from
any origin (a project's allowed origins are enforced by the core with a 403, not by CORS), and
they must be able to read the rate-limit headers. The ingestion routes add these headers
themselves (``_routes/ingest.py``); the management API's policy is Starlette's middleware.
"""

from collections.abc import Sequence
from typing import Final

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware

RawHeaders = list[tuple[bytes, bytes]]
"""ASGI response headers: lower-case names and values, as bytes."""

INGEST_ALLOW_METHODS: Final = b"POST"
INGEST_ALLOW_HEADERS: Final = (
    b"x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, "
    b"authentication, authorization, content-encoding, transfer-encoding, sentry-trace, baggage"
)
INGEST_EXPOSE_HEADERS: Final = b"x-sentry-error, x-sentry-rate-limits, retry-after"
INGEST_MAX_AGE_SECONDS: Final = 3600

_INGEST_CORS: Final[RawHeaders] = [
    (b"access-control-expose-headers", INGEST_EXPOSE_HEADERS),
    (b"cross-origin-resource-policy", b"cross-origin"),
    (b"vary", b"Origin"),
]
INGEST_PREFLIGHT_HEADERS: Final[RawHeaders] = [
    (b"access-control-allow-methods", INGEST_ALLOW_METHODS),
    (b"access-control-allow-headers", INGEST_ALLOW_HEADERS),
    (b"access-control-max-age", str(INGEST_MAX_AGE_SECONDS).encode()),
]
"""What a successful preflight (``OPTIONS``) answer adds to :func:`ingest_cors_headers`."""


def ingest_cors_headers(origin: bytes | None) -> RawHeaders:
    """Headers every ingestion response carries (answers, errors and preflights).

    Args:
        origin: the request's raw ``Origin`` header, echoed back (``*`` without one).
    """
    return [(b"access-control-allow-origin", origin or b"*"), *_INGEST_CORS]


def add_management_cors(app: Starlette, origins: Sequence[str]) -> None:
    """Let browsers on ``origins`` call the management API (``["*"]``: any; empty: none).

    Ingestion requests never reach this middleware: their routes answer before it.
    """
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type"],
            expose_headers=["retry-after"],
            max_age=INGEST_MAX_AGE_SECONDS,
        )
