"""Mount Resentry under ``/errors`` in an existing FastAPI app.

Mounted apps do not run their own lifespan (fastapi/fastapi#811), so the host enters
Resentry's lifespan inside its own: that opens the database and the ingestion writer, and
closes them when the host stops. Everything Resentry serves moves under the prefix, and the
DSNs it hands out carry it (``http://<key>@127.0.0.1:8000/errors/<project id>``), which is
exactly where SDKs then send their envelopes.

    uv run python examples/mount_in_fastapi.py --port 8000
    # settings come from RESENTRY_* and .env, as for `resentry serve`
"""

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from resentry_server import Settings, create_app


def build_host(settings: Settings | None = None) -> FastAPI:
    """The host application: its own routes, and Resentry under ``/errors``."""
    resentry = create_app(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with resentry.router.lifespan_context(resentry):  # opens Resentry's core
            yield

    host = FastAPI(title="Shop", lifespan=lifespan)

    @host.get("/")
    async def index() -> dict[str, str]:
        """The host's own page."""
        return {"shop": "open", "errors": "/errors/docs"}

    host.mount("/errors", resentry)
    return host


def main() -> None:
    """Serve the host app with uvicorn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvicorn.run(build_host(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
