"""``resentry-client``: output helpers, every command's help, the original command names, and
every command against a real server (run in-process for speed; ``test_cli_e2e.py`` runs the
program itself)."""

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from resentry_client._cli import build_parser, main
from resentry_client._table import relative_time, render_table
from tests.server import conftest as server
from tests.server.conftest import LiveServer

start_live_server = server.start_live_server
live_server = server.live_server
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ago", "text"),
    [
        (timedelta(seconds=3), "just now"),
        (timedelta(seconds=42), "42 s ago"),
        (timedelta(minutes=3, seconds=59), "3 min ago"),
        (timedelta(hours=5), "5 h ago"),
        (timedelta(days=1, hours=2), "1 day ago"),
        (timedelta(days=12), "12 days ago"),
        (timedelta(days=45), "2026-10-23"),
        (timedelta(minutes=-3), "in 3 min"),
    ],
)
def test_relative_time(ago: timedelta, text: str) -> None:
    """Table times read the way people say them; past a month, the date."""
    assert relative_time(NOW - ago, NOW) == text


def test_tables_fit_the_width() -> None:
    """Columns align; the widest are cut with "…" until the table fits."""
    rows = [["1", "error", "ZeroDivisionError: division by zero in a very long place"]]
    wide = render_table(["ID", "LEVEL", "TITLE"], rows, 200)
    assert wide.splitlines() == [
        "ID  LEVEL  TITLE",
        "1   error  ZeroDivisionError: division by zero in a very long place",
    ]
    narrow = render_table(["ID", "LEVEL", "TITLE"], rows, 30).splitlines()
    assert max(len(line) for line in narrow) <= 30
    assert narrow[1] == "1   error  ZeroDivisionError:…"


def _subcommands(parser: argparse.ArgumentParser) -> list[list[str]]:
    found: list[list[str]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append([name])
                found += [[name, *rest] for rest in _subcommands(sub)]
    return found


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    """``--help`` works on every command and alias, and the original CLI's names are kept."""
    paths = _subcommands(build_parser())
    for names in (["user", "get-user"], ["user", "create-user"], ["user", "update-user"]):
        assert names in paths
    assert ["project", "delete-project"] in paths
    for path in paths:
        with pytest.raises(SystemExit) as done:
            main([*path, "--help"])
        assert done.value.code == 0, path
        assert "usage: resentry-client" in capsys.readouterr().out


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad argument is a usage error naming it."""
    with pytest.raises(SystemExit) as done:
        main(["events", "list", "1", "--since", "yesterday-ish"])
    assert done.value.code == 2
    assert "not a time: 'yesterday-ish'" in capsys.readouterr().err


class Run:
    """``main()`` in-process, with the captured output."""

    def __init__(self, capsys: pytest.CaptureFixture[str], url: str) -> None:
        self.capsys = capsys
        self.url = url
        self.err = ""  # the last run's stderr

    def __call__(self, *args: str, code: int = 0) -> str:
        """Run; the exit status must be ``code``; returns stdout (stderr on failure)."""
        status = main(["--url", self.url, *args])
        out, self.err = self.capsys.readouterr()
        assert status == code, (args, out, self.err)
        return out if code == 0 else self.err

    def json(self, *args: str) -> Any:
        """Run with ``--json``; the decoded output."""
        return json.loads(self("--json", *args))


def test_every_command(
    live_server: LiveServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Users, projects, keys, members, issues and envelopes through the CLI, human and JSON."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("COLUMNS", "100")
    for name in ("RESENTRY_URL", "RESENTRY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    live_server.create_user("root", "root password", admin=True)
    run = Run(capsys, live_server.base_url)
    assert run.json("health") == {"status": "ok", "database": "ok"}
    prompts: list[str] = []

    def getpass(prompt: str) -> str:
        prompts.append(prompt)
        return "root password"

    monkeypatch.setattr("getpass.getpass", getpass)
    run("login", "-u", "root")
    assert prompts == ["Password: "]

    created = run.json("user", "create", "alice", "--password", "alice password")
    uid = str(created["id"])
    assert run.json("user", "get-user", uid)["username"] == "alice"
    updated = run.json("user", "update-user", uid, "--telegram-chat-id", "42", "--admin")
    assert (updated["telegram_chat_id"], updated["is_admin"]) == ("42", True)
    table = run("user", "list").splitlines()
    assert table[0].split() == ["ID", "USERNAME", "ADMIN", "ACTIVE", "CREATED"]
    assert table[2].split()[:4] == [uid, "alice", "yes", "yes"]

    run("project", "create", "Shop", "--slug", "shop", "--rate-limit", "60")
    assert run.json("project", "get", "1")["rate_limit_per_minute"] == 60
    assert run.json("project", "update", "1", "--rate-limit", "0")["rate_limit_per_minute"] is None
    assert "shop" in run("project", "list")
    key = run.json("key", "create", "1", "--label", "mobile")
    assert run("project", "dsn", "1").splitlines()[1] == key["dsn"]
    assert run.json("key", "revoke", "1", str(key["id"]))["is_active"] is False
    assert [k["label"] for k in run.json("key", "list", "1")] == ["Default", "mobile"]
    assert (
        run.json("member", "add", "1", "alice", "--min-level", "warning")["min_level"] == "warning"
    )
    assert run("member", "list", "1").splitlines()[1].split()[:3] == [uid, "alice", "warning"]
    run("member", "remove", "1", uid)
    assert run.json("member", "list", "1") == []

    dsn = run.json("project", "get", "1")["keys"][0]["dsn"]
    event_id = run.json("send-test-event", dsn)["event_id"]
    [issue] = run.json("issues", "list", "1")
    iid = str(issue["id"])
    assert run.json("issues", "ignore", "1", iid)["status"] == "ignored"
    assert run("issues", "reopen", "1", iid).startswith(f"issue {iid} is unresolved")
    assert [e["event_id"] for e in run.json("issues", "events", "1", iid)] == [event_id]
    detail = run("events", "get", "1", event_id)
    assert "title:" in detail and "ResentryTestError" in detail
    envelope_id = detail.rsplit(" ", 1)[1].strip()
    out = tmp_path / "event.envelope"
    run("envelope", "download", "1", envelope_id, "-o", str(out))
    assert out.read_bytes().startswith(b'{"event_id": "' + event_id.encode())

    assert run("project", "delete-project", "1").strip() == "deleted project 1 and all its data"
    assert run("issues", "list", "1", code=1) == "error: 404 project 1 not found\n"
    run("user", "delete", uid)
    assert run("user", "get", uid, code=1) == f"error: 404 user {uid} not found\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "--url", "http://a.example", "events", "list", "1"],
        ["events", "list", "1", "--json", "--url", "http://a.example"],
        ["--url", "http://b.example", "events", "list", "--url", "http://a.example", "1", "--json"],
    ],
)
def test_global_options_before_or_after_the_command(argv: list[str]) -> None:
    """``--url`` and ``--json`` work on either side of the command; the later one wins."""
    args = build_parser().parse_args(argv)
    assert (args.url, args.json, args.project_id) == ("http://a.example", True, 1)
