"""The application factory: no settings, engine or app exist until ``create_app`` is called."""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI

from resentry_core import Resentry
from resentry_server._cors import add_management_cors
from resentry_server._errors import install_error_handlers
from resentry_server._paths import NormalizePathMiddleware
from resentry_server._routes import MANAGEMENT_ROUTERS, health
from resentry_server._routes.ingest import IngestRoutes
from resentry_server._routes.ingest_openapi import INGEST_PATHS
from resentry_server._settings import Settings
from resentry_server._ui import UI_ROUTERS

_LOGGERS = ("resentry_core", "resentry_server")


def create_app(settings: Settings | None = None, *, core: Resentry | None = None) -> FastAPI:
    """Build the Resentry ASGI application.

    Args:
        settings: the server settings; read from ``RESENTRY_*`` and ``.env`` when omitted.
        core: an already open :class:`Resentry` to serve (the caller owns it: opens and
            closes it). When omitted, the app's lifespan opens one from ``settings`` and
            closes it on shutdown.

    Returns:
        A FastAPI app. Serve it with uvicorn (``uvicorn --factory resentry_server:create_app``)
        or mount it in another app, whose lifespan must then enter this app's lifespan
        (see ``examples/mount_in_fastapi.py``).
    """
    settings = settings if settings is not None else Settings()
    app = _ResentryApp(
        title="Resentry",
        summary="A self-hosted, Sentry-compatible error-tracking backend.",
        version=_version(),
        lifespan=_lifespan(settings, core),
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health.router)
    for router in [*MANAGEMENT_ROUTERS, *UI_ROUTERS]:
        app.include_router(router)
    add_management_cors(app, settings.cors_origins)
    # Ingestion is answered before FastAPI's routing, dependencies and management CORS...
    app.add_middleware(IngestRoutes)
    app.add_middleware(NormalizePathMiddleware)  # ...and outermost, so both see clean paths.
    return app


class _ResentryApp(FastAPI):
    """The FastAPI app, whose OpenAPI schema also describes the ingestion routes."""

    def openapi(self) -> dict[str, Any]:
        """The generated schema, with the path items of the ingestion routes added."""
        schema = super().openapi()
        if not INGEST_PATHS.keys() <= schema["paths"].keys():
            schema["paths"] = {**INGEST_PATHS, **schema["paths"]}
        return schema


def _lifespan(
    settings: Settings, core: Resentry | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for name in _LOGGERS:
            logging.getLogger(name).setLevel(settings.log_level.upper())
        if core is not None:
            app.state.resentry = core
            yield
            return
        async with Resentry.open(settings.to_core_config()) as resentry:
            app.state.resentry = resentry
            try:
                yield
            finally:
                app.state.resentry = None

    return lifespan


def _version() -> str:
    try:
        return version("resentry")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"
