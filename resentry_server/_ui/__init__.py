"""The web UI: server-rendered pages over the core, served by ``create_app()`` itself.

Routes are listed in ``docs/routes.md`` (Web UI); pages are described in ``docs/ui.md``.
"""

from fastapi import APIRouter

from resentry_server._ui import _data, _issues, _notify, _pages, _settings

UI_ROUTERS: list[APIRouter] = [
    _pages.router,
    _issues.router,
    _data.router,
    _settings.router,
    _notify.router,
]

__all__ = ["UI_ROUTERS"]
