"""Ingestion paths: recognizing them, and normalizing what SDKs send (docs/ingest_routes.md).

SDKs derive ``/api/{id}/envelope/`` from the DSN; some send duplicate slashes or drop the
trailing one. Relay folds duplicate slashes (``middlewares/normalize_path.rs``); Resentry also
adds the missing trailing slash, so one route serves every variant with no redirect (a
redirect would make an SDK resend the body, and some do not follow it for POST).
"""

import re
from typing import Final, NamedTuple

from starlette.types import ASGIApp, Receive, Scope, Send

# The ingestion routes (docs/ingest_routes.md): /api/{id}/envelope/, /api/{id}/store/ and the
# /api/v1/{id}/envelope/ alias (there is no /api/v1/{id}/store/).
_INGEST_PATH: Final = re.compile(
    r"/api/(?:v1/(?P<alias>[^/]+)/envelope|(?P<project>[^/]+)/(?P<endpoint>envelope|store))/?"
)
_MANY_SLASHES: Final = re.compile(r"//+")


class IngestRoute(NamedTuple):
    """An ingestion route a path names."""

    project: str
    """The project id path segment, as sent (not validated)."""
    store: bool
    """``/store/`` (a legacy event) rather than ``/envelope/``."""


def route_path(scope: Scope) -> str:
    """The path below the mount prefix (``scope["root_path"]``)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        return path[len(root_path) :] or "/"
    return path


def ingest_route(path: str) -> IngestRoute | None:
    """The ingestion route a normalized path (below the mount prefix) names, if any."""
    match = _INGEST_PATH.fullmatch(path)
    if match is None:
        return None
    alias, project, endpoint = match.groups()
    return IngestRoute(project=alias or project, store=endpoint == "store")


def is_ingest_path(scope: Scope) -> bool:
    """Whether the request, normalized or not, is for a Sentry ingestion route."""
    return ingest_route(normalize_api_path(route_path(scope))) is not None


def normalize_api_path(path: str) -> str:
    """Fold duplicate slashes in an ``/api/`` path; add the trailing slash of ingestion paths.

    >>> normalize_api_path("//api//42///envelope")
    '/api/42/envelope/'
    """
    if "//" in path:
        path = _MANY_SLASHES.sub("/", path)
    if not path.endswith("/") and _INGEST_PATH.fullmatch(path):
        path += "/"
    return path


class NormalizePathMiddleware:
    """ASGI middleware: normalizes ``/api/`` paths below the mount prefix.

    ``root_path`` is left as it is, so a mounted app keeps its prefix in URLs and DSNs.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite ``scope["path"]`` when needed, then call the app."""
        if scope["type"] == "http":
            below = route_path(scope)
            if below.lstrip("/").startswith("api/"):
                normalized = normalize_api_path(below)
                if normalized != below:
                    root_path: str = scope.get("root_path", "")
                    scope = {**scope, "path": root_path + normalized}
        await self.app(scope, receive, send)
