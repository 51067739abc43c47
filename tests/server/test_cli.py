"""The admin CLI ``resentry`` (run as ``python -m resentry_server``) in real processes."""

import re
import subprocess
import sys
import uuid
from pathlib import Path

import anyio
import httpx
import psutil
import pytest

from resentry_core import Dsn
from resentry_core._config import CoreConfig
from resentry_core._resentry import Resentry
from resentry_core._storage._protocol import EventFilter
from tests.factories import error_envelope
from tests.server.conftest import (
    ADMIN_PASSWORD,
    ROOT,
    LiveServer,
    StartLiveServer,
    run_cli,
    server_env,
)
from tests.server.test_idle import eventually

DSN = re.compile(r"^(https?)://([0-9a-f]{32})@([^/]+)(/.*)?/(\d+)$")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Settings of the CLI: a data dir in tmp_path, a public URL for DSNs."""
    return server_env(tmp_path / "data", RESENTRY_PUBLIC_URL="https://errors.example.com/sentry")


def assert_user_error(done: subprocess.CompletedProcess[str], text: str) -> None:
    """Exit status 1 and a last stderr line ``error: ...`` containing ``text``; no traceback."""
    assert done.returncode == 1, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ")
    assert text in last
    assert "Traceback" not in done.stderr


async def _members(database: Path, project_id: int) -> list[str]:
    config = CoreConfig(database_url=f"sqlite:///{database}", secret_key="x" * 32)
    async with Resentry.open(config) as core:
        return [member.username for member in await core.storage.list_members(project_id)]


def test_migrate_creates_the_database(env: dict[str, str], tmp_path: Path) -> None:
    """``migrate`` on an empty data dir creates the SQLite database and the secret key."""
    done = run_cli(env, "migrate")
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    assert (tmp_path / "data" / "resentry.db").stat().st_size > 0
    assert (tmp_path / "data" / "secret_key").exists()
    again = run_cli(env, "migrate")
    assert again.returncode == 0, again.stderr


def test_add_user_with_password_and_duplicate(env: dict[str, str]) -> None:
    """``add-user NAME --password P --admin`` creates an admin; a second time it fails cleanly."""
    done = run_cli(env, "add-user", "alice", "--password", "s3cret-password", "--admin")
    assert done.returncode == 0, done.stderr
    assert "admin 'alice'" in done.stdout
    again = run_cli(env, "add-user", "alice", "--password", "other-password")
    assert_user_error(again, "alice")


def test_add_user_prompts_twice_without_echo(env: dict[str, str]) -> None:
    """Without --password the password is asked twice and never printed."""
    done = run_cli(env, "add-user", "bob", input="hunter2-hunter2\nhunter2-hunter2\n")
    assert done.returncode == 0, done.stderr
    assert "user 'bob'" in done.stdout
    assert "hunter2" not in done.stdout + done.stderr
    mismatch = run_cli(env, "add-user", "carol", input="first-password\nsecond-password\n")
    assert_user_error(mismatch, "do not match")
    assert "password" not in mismatch.stdout


def test_empty_password_is_refused(env: dict[str, str]) -> None:
    """An empty password is a user error: a message and exit status 1, no traceback."""
    done = run_cli(env, "add-user", "dave", "--password", "")
    assert_user_error(done, "password")


def test_project_create_list_and_dsn(env: dict[str, str]) -> None:
    """``project create`` prints a DSN under RESENTRY_PUBLIC_URL; list and dsn show it again."""
    created = run_cli(env, "project", "create", "Web Shop")
    assert created.returncode == 0, created.stderr
    dsn = created.stdout.strip()
    match = DSN.match(dsn)
    assert match is not None, dsn
    assert match.group(1, 3, 4) == ("https", "errors.example.com", "/sentry")
    project_id = match.group(5)
    listed = run_cli(env, "project", "list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "web-shop" in line)
    assert row.split()[0] == project_id
    assert row.endswith(dsn)
    for reference in (project_id, "web-shop"):
        shown = run_cli(env, "project", "dsn", reference)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.strip() == dsn


def test_project_dsn_of_unknown_project_fails_cleanly(env: dict[str, str]) -> None:
    """An unknown project id or slug: ``error: ...`` and exit status 1."""
    assert_user_error(run_cli(env, "project", "dsn", "nope"), "no project")
    assert_user_error(run_cli(env, "project", "dsn", "404"), "no project")


def test_project_add_member(env: dict[str, str], tmp_path: Path) -> None:
    """``project add-member PROJECT USER`` by slug and username makes the user a member."""
    assert run_cli(env, "add-user", "erin", "--password", "erin-password-1").returncode == 0
    assert run_cli(env, "project", "create", "Billing").returncode == 0
    done = run_cli(env, "project", "add-member", "billing", "erin")
    assert done.returncode == 0, done.stderr
    assert "'erin' is now a member" in done.stdout
    members = anyio.run(_members, tmp_path / "data" / "resentry.db", 1)
    assert members == ["erin"]
    unknown = run_cli(env, "project", "add-member", "billing", "nobody")
    assert_user_error(unknown, "no user")


def test_dotenv_in_the_working_directory_is_read(tmp_path: Path) -> None:
    """Commands read ``.env`` from the working directory, as the server does."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / ".env").write_text(
        f"RESENTRY_DATA_DIR={tmp_path / 'dotenv-data'}\n"
        "RESENTRY_PUBLIC_URL=http://errors.internal:9000\n"
    )
    env = server_env(tmp_path / "ignored")
    del env["RESENTRY_DATA_DIR"]
    done = run_cli(env, "project", "create", "Api", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("http://")
    assert "@errors.internal:9000/" in done.stdout
    assert (tmp_path / "dotenv-data" / "resentry.db").exists()


def test_invalid_settings_exit_with_a_message(env: dict[str, str]) -> None:
    """A malformed setting stops every command with exit status 2 and names the setting."""
    done = run_cli({**env, "RESENTRY_BCRYPT_ROUNDS": "many"}, "migrate")
    assert done.returncode == 2
    assert "bcrypt_rounds" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_lists_every_command(env: dict[str, str]) -> None:
    """``--help`` names serve (and its alias), migrate, add-user and project."""
    done = run_cli(env, "--help")
    assert done.returncode == 0
    for command in ("serve", "runserver", "migrate", "add-user", "project"):
        assert command in done.stdout
    project_help = run_cli(env, "project", "--help")
    for action in ("create", "list", "dsn", "add-member"):
        assert action in project_help.stdout


def test_fresh_serve_migrates_and_prints_next_steps(live_server: LiveServer) -> None:
    """``serve`` on an empty data dir creates the database and says how to add a user, project."""
    assert (live_server.data_dir / "resentry.db").exists()
    log = live_server.log()
    assert "resentry add-user" in log
    assert "resentry project create" in log
    project_id, dsn = live_server.create_project("After start")
    assert dsn.endswith(f"@127.0.0.1:{live_server.base_url.rsplit(':', 1)[1]}/{project_id}")


def test_serve_exits_zero_on_sigterm(live_server: LiveServer) -> None:
    """SIGTERM stops the server gracefully with exit status 0."""
    assert live_server.stop() == 0
    assert "Traceback" not in live_server.log()


def test_uvicorn_factory_serves_with_the_same_settings(
    start_live_server: StartLiveServer, tmp_path: Path
) -> None:
    """``uvicorn --factory resentry_server:create_app`` reads RESENTRY_* and migrates itself."""
    argv = [sys.executable, "-m", "uvicorn", "--factory", "resentry_server:create_app"]
    server = start_live_server(data_dir=tmp_path / "factory", argv=argv)
    assert (tmp_path / "factory" / "resentry.db").exists()
    project_id, dsn = server.create_project("Factory")
    key = Dsn.parse(dsn).public_key
    response = httpx.post(
        f"{server.base_url}/api/{project_id}/envelope/",
        content=error_envelope(),
        headers={"X-Sentry-Auth": f"Sentry sentry_key={key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_standalone_example_serves_with_settings_from_code(
    start_live_server: StartLiveServer, tmp_path: Path
) -> None:
    """``examples/standalone.py`` serves with its data dir and public URL given in code."""
    data_dir = tmp_path / "standalone"
    argv = [sys.executable, str(ROOT / "examples" / "standalone.py"), "--data-dir", str(data_dir)]
    server = start_live_server(data_dir=data_dir, argv=argv, RESENTRY_PUBLIC_URL="")
    assert (data_dir / "resentry.db").exists()
    server.create_user("admin", ADMIN_PASSWORD, admin=True)
    created = httpx.post(
        f"{server.base_url}/api/v1/projects/",
        json={"name": "Standalone"},
        headers=server.login("admin", ADMIN_PASSWORD),
        timeout=30,
    )
    assert created.status_code == 201, created.text
    key = created.json()["keys"][0]
    host = server.base_url.split("://", 1)[1]
    assert key["dsn"] == f"http://{key['public_key']}@{host}/{created.json()['id']}"


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["-m", "resentry_server", "serve", "--workers", "2"], id="resentry-serve"),
        pytest.param(
            ["-m", "uvicorn", "--factory", "resentry_server:create_app", "--workers", "3"],
            id="uvicorn-factory",  # every worker opens and migrates the new database itself
        ),
    ],
)
async def test_worker_processes_on_a_fresh_data_dir(
    start_live_server: StartLiveServer, tmp_path: Path, argv: list[str]
) -> None:
    """Several worker processes start on an empty data dir, share one secret key and database,
    and store every envelope sent to them over fresh connections exactly once."""
    workers = int(argv[-1])
    server = start_live_server(data_dir=tmp_path / "workers", argv=[sys.executable, *argv])
    await eventually(lambda: len(psutil.Process(server.process.pid).children()) >= workers)
    assert len(list((tmp_path / "workers").glob("secret_key*"))) == 1
    project_id, dsn = server.create_project("Workers")
    auth = {"X-Sentry-Auth": f"Sentry sentry_key={Dsn.parse(dsn).public_key}"}
    sent = [uuid.uuid4().hex for _ in range(60)]

    async def send(event_ids: list[str]) -> None:
        for event_id in event_ids:
            async with httpx.AsyncClient(timeout=30) as client:  # a new connection each time
                response = await client.post(
                    f"{server.base_url}/api/{project_id}/envelope/",
                    content=error_envelope(event_id),
                    headers=auth,
                )
            assert response.json() == {"id": event_id}

    async with anyio.create_task_group() as group:
        for start in range(0, len(sent), 10):
            group.start_soon(send, sent[start : start + 10])
    server.create_user("admin", ADMIN_PASSWORD, admin=True)
    for _ in range(8):  # tokens from one worker are valid in the others
        headers = server.login("admin", ADMIN_PASSWORD)
        async with httpx.AsyncClient(timeout=30) as client:
            listed = await client.get(f"{server.base_url}/api/v1/projects/", headers=headers)
        assert [project["id"] for project in listed.json()["items"]] == [project_id]
    assert server.stop() == 0
    async with server.open_core() as core:
        page = await core.storage.list_events(EventFilter(project_ids=(project_id,)), limit=100)
    assert sorted(event.event_id for event in page.items) == sorted(sent)
    assert "Traceback" not in server.log()
