"""FastAPI dependencies: the core and the settings, taken from the app that serves the request.

``request.app`` is the Resentry app even when it is mounted in a host app (Starlette sets
``scope["app"]`` to the innermost app), so several Resentry apps can live in one process.
"""

from typing import Annotated

from fastapi import Depends, Request

from resentry_core import Resentry, StorageError
from resentry_server._settings import Settings


async def get_resentry(request: Request) -> Resentry:
    """The core opened by the app's lifespan (or given to ``create_app(core=...)``).

    Raises:
        StorageError: the lifespan has not run, or has ended (503). A host app that mounts
            Resentry must enter its lifespan; see ``examples/mount_in_fastapi.py``.
    """
    resentry: Resentry | None = getattr(request.app.state, "resentry", None)
    if resentry is None:
        raise StorageError(
            "Resentry is not open: run the app's lifespan (a host app must enter "
            "resentry_app.router.lifespan_context(resentry_app) in its own lifespan)"
        )
    return resentry


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return _settings_of(request)


def _settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def public_url(request: Request) -> str:
    """The base URL for DSNs and links, without a trailing slash.

    ``settings.public_url`` when set; otherwise the URL the request reached, up to and
    including the mount prefix (``http://host:8000/errors`` when mounted under ``/errors``).
    """
    configured = _settings_of(request).public_url
    if configured:
        return configured
    root_path: str = request.scope.get("root_path", "")
    return str(request.url.replace(path=root_path, query="", fragment="")).rstrip("/")


ResentryDep = Annotated[Resentry, Depends(get_resentry)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PublicUrlDep = Annotated[str, Depends(public_url)]
