"""Server fixtures: the app in-process (httpx.ASGITransport) and a real uvicorn server.

In-process: ``core`` (a :class:`Resentry` on a fresh SQLite file), ``app`` (``create_app(core=...)``
with its lifespan entered), ``client`` (an ``httpx.AsyncClient`` talking to ``app``), ``project``
(a project with one active key) and ``admin`` (an admin user; ``auth_headers`` log it in).
Tests that need other core settings override ``core_config``.

Real HTTP: ``live_server`` starts ``python -m resentry_server`` on 127.0.0.1 and a free port,
with its own data directory and SQLite database, waits for ``/health/`` and yields a
:class:`LiveServer` (base URL, CLI runner, project/user helpers, ``open_core()`` to read the same
database). ``start_live_server`` starts more of them, with extra environment variables.
"""

import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
import sentry_sdk
from fastapi import FastAPI

from resentry_core._config import CoreConfig
from resentry_core._models import Project, User
from resentry_core._resentry import Resentry
from resentry_server._app import create_app
from resentry_server._settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "correct horse battery staple"
STARTUP_TIMEOUT_SECONDS = 60.0
# Test-speed password hashing: the cheapest cost bcrypt accepts.
FAST_BCRYPT_ROUNDS = 4


def settings_for(data_dir: Path, **values: Any) -> Settings:
    """Settings with ``data_dir`` and ``values``, ignoring any ``.env`` file."""
    return Settings(_env_file=None, data_dir=data_dir, **values)  # type: ignore[call-arg]


@pytest.fixture
def core_config(tmp_path: Path) -> CoreConfig:
    """The core's configuration: a fresh SQLite file, fast bcrypt, a random secret."""
    return CoreConfig(
        database_url=f"sqlite:///{tmp_path / 'resentry.db'}",
        secret_key=secrets.token_urlsafe(48),
        bcrypt_rounds=FAST_BCRYPT_ROUNDS,
    )


@pytest.fixture
async def core(core_config: CoreConfig) -> AsyncIterator[Resentry]:
    """An open core on ``core_config``."""
    async with Resentry.open(core_config) as resentry:
        yield resentry


@pytest.fixture
async def app(core: Resentry, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """``create_app(core=core)`` with its lifespan entered, as uvicorn or a host app would."""
    application = create_app(settings_for(tmp_path), core=core)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for ``app``, in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def project(core: Resentry) -> Project:
    """A project with one active key."""
    return await core.projects.create_project("Shop backend")


@pytest.fixture
async def admin(core: Resentry) -> User:
    """An admin user whose password is ``ADMIN_PASSWORD``."""
    return await core.accounts.create_user("admin", ADMIN_PASSWORD, is_admin=True)


@pytest.fixture
async def auth_headers(core: Resentry, admin: User) -> dict[str, str]:
    """``Authorization: Bearer …`` for ``admin``."""
    tokens = await core.accounts.login(admin.username, ADMIN_PASSWORD)
    return {"Authorization": f"Bearer {tokens.access_token}"}


@contextmanager
def sentry_sdk_client(dsn: str, **options: Any) -> Iterator[None]:
    """``sentry_sdk.init`` with only what the test asks for; flushed and closed on exit."""
    sentry_sdk.init(
        dsn=dsn, default_integrations=False, auto_enabling_integrations=False, **options
    )
    try:
        yield
    finally:
        sentry_sdk.flush(timeout=30)
        sentry_sdk.get_client().close(timeout=30)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a server or CLI process: only our variables among ``RESENTRY_*``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RESENTRY_")}
    env.update(
        PYTHONPATH=str(ROOT),
        RESENTRY_DATA_DIR=str(data_dir),
        RESENTRY_BCRYPT_ROUNDS=str(FAST_BCRYPT_ROUNDS),
        RESENTRY_LOG_LEVEL="warning",
    )
    env.update(extra)
    return env


def run_cli(
    env: Mapping[str, str], *args: str, input: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m resentry_server <args>`` without a controlling terminal."""
    return subprocess.run(  # noqa: S603 - our own module with the test interpreter
        [sys.executable, "-m", "resentry_server", *args],
        env=dict(env),
        cwd=cwd or ROOT,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,  # no /dev/tty: getpass reads stdin
    )


@dataclass
class LiveServer:
    """A ``python -m resentry_server`` process serving on 127.0.0.1."""

    base_url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    _projects: list[Project] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        """The database the server uses."""
        return self.env.get("RESENTRY_DATABASE_URL", f"sqlite:///{self.data_dir / 'resentry.db'}")

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the admin CLI with the server's settings."""
        return run_cli(self.env, *args, input=input)

    def create_project(self, name: str) -> tuple[int, str]:
        """Create a project with ``resentry project create``; returns its id and DSN."""
        done = self.cli("project", "create", name)
        assert done.returncode == 0, done.stderr
        dsn = done.stdout.strip()
        return int(dsn.rsplit("/", 1)[1]), dsn

    def create_user(self, name: str, password: str, *, admin: bool = False) -> None:
        """Create a user with ``resentry add-user``."""
        done = self.cli("add-user", name, "--password", password, *(["--admin"] if admin else []))
        assert done.returncode == 0, done.stderr

    def login(self, username: str, password: str) -> dict[str, str]:
        """Log in through the management API; returns the ``Authorization`` header."""
        response = httpx.post(
            f"{self.base_url}/api/v1/auth/login",
            json={"username": username, "password": password},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def open_core(self) -> AbstractAsyncContextManager[Resentry]:
        """Open a core on the server's database (to read back what it stored), without a
        worker of its own."""
        return Resentry.open(
            CoreConfig(
                database_url=self.database_url, secret_key=secrets.token_urlsafe(48), worker=False
            )
        )

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait; returns the exit status (kills it after ``timeout``)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


class StartLiveServer(Protocol):
    """Starts a live server (see ``live_server_process`` for the arguments)."""

    def __call__(
        self,
        *,
        data_dir: Path | None = None,
        argv: Sequence[str] = (),
        prefix: str = "",
        **env: str,
    ) -> LiveServer: ...


@contextmanager
def live_server_process(
    data_dir: Path, *, argv: Sequence[str] = (), prefix: str = "", **env: str
) -> Iterator[LiveServer]:
    """Start a server, wait until ``/health/`` answers, stop it on exit.

    Args:
        data_dir: its data directory (SQLite database, secret key, log).
        argv: the program to run (default ``python -m resentry_server``); ``--port N`` is added.
        prefix: the path Resentry is mounted under in that program (e.g. ``/errors``).
        env: extra environment variables.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}{prefix}"
    full_env = server_env(data_dir, **{"RESENTRY_PUBLIC_URL": base_url, **env})
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    command = [*(argv or [sys.executable, "-m", "resentry_server"]), "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own program with the test interpreter
            command, env=full_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    server = LiveServer(
        base_url=base_url, data_dir=data_dir, env=full_env, process=process, log_path=log_path
    )
    try:
        _wait_healthy(server)
        yield server
    finally:
        with suppress(subprocess.TimeoutExpired):
            server.stop()


def _wait_healthy(server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"the server exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/health/", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.process.kill()
    pytest.fail(f"the server did not become healthy:\n{server.log()}")


@pytest.fixture
def start_live_server(tmp_path: Path) -> Iterator[StartLiveServer]:
    """A factory of live servers, all stopped at the end of the test."""
    numbers = itertools.count()
    with ExitStack() as stack:

        def start(
            *,
            data_dir: Path | None = None,
            argv: Sequence[str] = (),
            prefix: str = "",
            **env: str,
        ) -> LiveServer:
            directory = data_dir or tmp_path / f"server-{next(numbers)}"
            return stack.enter_context(
                live_server_process(directory, argv=argv, prefix=prefix, **env)
            )

        yield start


@pytest.fixture
def live_server(start_live_server: StartLiveServer, tmp_path: Path) -> LiveServer:
    """A real server on 127.0.0.1 with SQLite in ``tmp_path / "data"``."""
    return start_live_server(data_dir=tmp_path / "data")
