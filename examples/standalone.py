"""Run Resentry from Python code, with settings built in code instead of the environment.

This is what ``resentry serve`` does, minus the command line: build :class:`Settings`
(values given here win over ``RESENTRY_*`` variables and ``.env``), build the app, serve it.

    uv run python examples/standalone.py --data-dir ./resentry-data --port 8000
"""

import argparse
from pathlib import Path

import uvicorn

from resentry_server import Settings, create_app


def main() -> None:
    """Serve Resentry on one port with SQLite in ``--data-dir``."""
    parser = argparse.ArgumentParser(description="Run a Resentry server.")
    parser.add_argument("--data-dir", type=Path, default=Path("./resentry-data"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    settings = Settings(
        data_dir=args.data_dir,  # SQLite database and generated secret key live here
        public_url=f"http://{args.host}:{args.port}",  # the base URL in the DSNs
    )
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
