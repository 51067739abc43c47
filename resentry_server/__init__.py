"""Resentry server: the FastAPI app factory, its settings and the admin CLI ``resentry``.

Run it with ``resentry serve``, ``python -m resentry_server`` or
``uvicorn --factory resentry_server:create_app --http resentry_server:HttpProtocol``; mount it
in another ASGI app as
``examples/mount_in_fastapi.py`` shows.
"""

from resentry_server._app import create_app
from resentry_server._http import HttpProtocol
from resentry_server._settings import Settings

__all__ = ["HttpProtocol", "Settings", "create_app"]
