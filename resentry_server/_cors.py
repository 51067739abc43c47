"""CORS: Relay's fixed policy on ingestion routes, a configured one on the management API.

Ingestion follows Relay's ``middlewares/cors.rs`` (protocol.md §5.4): browser SDKs post from
any origin (a project's allowed origins are enforced by the core with a 403, not by CORS), and
they must be able to read the rate-limit headers.
"""

from collections.abc import Sequence
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resentry_server._paths import is_ingest_path

INGEST_ALLOW_METHODS: Final = "POST"
INGEST_ALLOW_HEADERS: Final = (
    "x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, "
    "authentication, authorization, content-encoding, transfer-encoding, sentry-trace, baggage"
)
INGEST_EXPOSE_HEADERS: Final = "x-sentry-error, x-sentry-rate-limits, retry-after"
INGEST_MAX_AGE_SECONDS: Final = 3600


def ingest_cors_headers(origin: str | None) -> dict[str, str]:
    """Headers every ingestion response carries (answers, errors and preflights)."""
    return {
        "Access-Control-Allow-Origin": origin or "*",
        "Access-Control-Expose-Headers": INGEST_EXPOSE_HEADERS,
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Vary": "Origin",
    }


def ingest_preflight_headers(origin: str | None) -> dict[str, str]:
    """Headers of a successful preflight (``OPTIONS``) answer on an ingestion route."""
    return {
        **ingest_cors_headers(origin),
        "Access-Control-Allow-Methods": INGEST_ALLOW_METHODS,
        "Access-Control-Allow-Headers": INGEST_ALLOW_HEADERS,
        "Access-Control-Max-Age": str(INGEST_MAX_AGE_SECONDS),
    }


class CorsMiddleware:
    """ASGI middleware: ingestion CORS headers on ingestion routes; the configured policy elsewhere.

    Args:
        app: the application.
        management_origins: origins allowed to call the management API from a browser
            (``["*"]`` for any); empty disables CORS there.
    """

    def __init__(self, app: ASGIApp, *, management_origins: Sequence[str] = ()) -> None:
        self.app = app
        self.management: ASGIApp = (
            CORSMiddleware(
                app,
                allow_origins=list(management_origins),
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=["authorization", "content-type"],
                expose_headers=["retry-after"],
                max_age=INGEST_MAX_AGE_SECONDS,
            )
            if management_origins
            else app
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch by path."""
        if scope["type"] != "http" or not is_ingest_path(scope):
            await self.management(scope, receive, send)
            return
        origin = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"origin"), None)
        extra = ingest_cors_headers(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_cors)
