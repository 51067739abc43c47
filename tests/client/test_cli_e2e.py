"""``resentry-client`` as a new user runs it, against a real server on 127.0.0.1.

The server is ``python -m resentry_server`` under uvicorn; the CLI runs as its own process
(the console script and ``python -m resentry_client``); the real ``sentry-sdk`` sends the
events to the DSN the CLI printed.
"""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import sentry_sdk

from tests.server import conftest as server
from tests.server.conftest import LiveServer, sentry_sdk_client

ATTACHMENT = bytes(range(256)) * 40 + b"\x00end"
PASSWORD = "a new user's password"
CONSOLE_SCRIPT = Path(sys.executable).with_name("resentry-client")

start_live_server = server.start_live_server
live_server = server.live_server


class Cli:
    """Runs the CLI with its own config directory and no ``RESENTRY_*`` settings."""

    def __init__(self, config_home: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RESENTRY_")}
        self.env.update(
            XDG_CONFIG_HOME=str(config_home), COLUMNS="120", PYTHONPATH=str(server.ROOT)
        )

    def run(
        self, *args: str, input: str | None = None, script: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run it; ``script`` runs the console script instead of ``python -m``."""
        program = [str(CONSOLE_SCRIPT)] if script else [sys.executable, "-m", "resentry_client"]
        return subprocess.run(  # noqa: S603 - our own program
            [*program, *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            start_new_session=True,  # no terminal: getpass reads stdin
        )

    def ok(self, *args: str, **options: Any) -> str:
        """Run it; it must succeed; returns stdout."""
        done = self.run(*args, **options)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def json(self, *args: str) -> Any:
        """Run it with ``--json``; returns the decoded output."""
        return json.loads(self.ok("--json", *args))


def _send_with_sdk(dsn: str) -> tuple[str, str]:
    with sentry_sdk_client(dsn):
        try:
            1 / 0  # noqa: B018 - the error the SDK reports
        except ZeroDivisionError:
            with sentry_sdk.new_scope() as scope:
                scope.add_attachment(
                    bytes=ATTACHMENT, filename="dump.bin", content_type="application/octet-stream"
                )
                crash = sentry_sdk.capture_exception()
        message = sentry_sdk.capture_message("checkout is slow", level="warning")
    assert crash and message
    return crash, message


def test_a_new_user_from_login_to_download(live_server: LiveServer, tmp_path: Path) -> None:
    """login, project create, the SDK sends to the printed DSN, events list shows the
    events, issues resolve resolves one, attachment download writes it byte-exact,
    send-test-event works, logout ends the tokens on the server and forgets the login; errors
    are one line."""
    live_server.create_user("admin", PASSWORD, admin=True)
    cli = Cli(tmp_path / "config")

    out = cli.ok(
        "--url", live_server.base_url, "login", "--username", "admin", input=PASSWORD + "\n"
    )
    stored = tmp_path / "config" / "resentry" / "login.json"
    assert (
        out.strip() == f"logged in to {live_server.base_url} as admin (tokens stored in {stored})"
    )
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert cli.json("whoami")["username"] == "admin"

    dsn = cli.ok("project", "create", "E2E shop", script=True).strip()
    assert dsn.startswith("http://") and dsn.endswith(
        "@" + live_server.base_url.split("//")[1] + "/1"
    )
    crash, message = _send_with_sdk(dsn)

    events = cli.json("events", "list", "1")
    assert isinstance(events, list)
    assert {e["event_id"] for e in events} == {crash, message}
    assert all(e["received_at"].endswith("+00:00") for e in events)
    table = cli.ok("events", "list", "1")
    assert table.splitlines()[0].split() == [
        "EVENT",
        "ID",
        "RECEIVED",
        "LEVEL",
        "TYPE",
        "ISSUE",
        "RELEASE",
        "TITLE",
    ]
    assert "ago" in table or "just now" in table
    assert len(cli.json("events", "list", "1", "--level", "warning", "--since", "1h")) == 1

    [issue] = [i for i in cli.json("issues", "list", "1") if i["last_event_id"] == crash]
    resolved = cli.ok("issues", "resolve", "1", str(issue["id"]))
    assert resolved.startswith(f"issue {issue['id']} is resolved: ZeroDivisionError")
    assert cli.json("issues", "get", "1", str(issue["id"]))["status"] == "resolved"

    detail = cli.json("events", "get", "1", crash)
    [attachment] = detail["attachments"]
    target = tmp_path / "downloads"
    target.mkdir()
    out = cli.ok("attachment", "download", "1", str(attachment["id"]), "-o", str(target))
    assert out.strip() == f"wrote {len(ATTACHMENT)} bytes to {target / 'dump.bin'}"
    assert (target / "dump.bin").read_bytes() == ATTACHMENT

    sent = cli.ok("send-test-event", dsn)
    event_id = sent.split()[3]
    assert sent.splitlines()[1] == (
        f"see it with: resentry-client --url {live_server.base_url} events get 1 {event_id}"
    )
    test_event = cli.json("events", "get", "1", event_id)
    assert test_event["title"].startswith("ResentryTestError: This is a test event")

    missing = cli.run("project", "get", "999")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1,
        "",
        "error: 404 project 999 not found\n",
    )
    access_token = json.loads(stored.read_text())["access_token"]
    assert cli.ok("logout").strip() == f"logged out of {live_server.base_url}"
    assert not stored.exists()
    ended = httpx.get(
        f"{live_server.base_url}/api/v1/auth/me",
        headers={"Authorization": f"Bearer {access_token}"},
    )
    assert ended.status_code == 401  # logout ended the token on the server, not only locally
    after = cli.run("whoami")
    assert after.returncode == 1
    assert after.stderr.startswith("error: no server URL") and "Traceback" not in after.stderr
