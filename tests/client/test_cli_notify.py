"""``resentry-client`` for notifications: channels (a webhook's secret shown once), rules, the
delivery log, members' own settings and users' addresses, human and ``--json``, against a real
server on 127.0.0.1 whose worker is off (queued messages stay pending)."""

import re
from pathlib import Path

import pytest

from tests.client.test_cli import Run
from tests.server import conftest as server
from tests.server.conftest import LiveServer, StartLiveServer

start_live_server = server.start_live_server
HOOK = "https://93.184.216.34/hooks/resentry"  # an address literal: no DNS lookup


@pytest.fixture
def run(
    start_live_server: StartLiveServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Run:
    """The CLI against a fresh server without a worker, logged in as the admin ``root``, with
    project 1 (``shop``) and the user ``alice`` (id 2), a member of it."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("COLUMNS", "100")
    for name in ("RESENTRY_URL", "RESENTRY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    live: LiveServer = start_live_server(data_dir=tmp_path / "data", RESENTRY_WORKER="false")
    live.create_user("root", "root password", admin=True)
    run = Run(capsys, live.base_url)
    run("login", "-u", "root", "-p", "root password")
    run("project", "create", "Shop", "--slug", "shop")
    run("user", "create", "alice", "--password", "alice password")
    run("member", "add", "1", "alice")
    return run


def test_channels_and_the_secret_shown_once(run: Run) -> None:
    """``channel create`` prints a webhook's secret with a note that it will not be shown
    again; list, get, update, test and delete; refused input is one ``error:`` line."""
    created = run("channel", "create", "1", "ops", "--kind", "webhook", "--target", HOOK)
    assert re.search(r"^secret: +[0-9a-f]{64}$", created, re.MULTILINE), created
    assert "will not be shown again" in run.err
    assert run.json("channel", "get", "1", "1")["name"] == "ops"
    assert "secret" not in run.json("channel", "get", "1", "1")
    mail = run.json(
        "channel", "create", "1", "team", "--kind", "email", "--target", "a@example.com"
    )
    assert (mail["id"], mail["secret"], mail["flavor"]) == (2, None, None)
    assert "will not be shown again" not in run.err

    table = run("channel", "list", "1").splitlines()
    assert table[0].split() == ["ID", "NAME", "KIND", "FLAVOR", "CREATED", "TARGET"]
    assert table[1].split() == ["1", "ops", "webhook", "resentry", "just", "now", HOOK]
    assert table[2].split() == ["2", "team", "email", "just", "now", "a@example.com"]
    updated = run.json("channel", "update", "1", "1", "--name", "alerts", "--flavor", "slack")
    assert (updated["name"], updated["flavor"], updated["target"]) == ("alerts", "slack", HOOK)
    assert "name:       alerts" in run("channel", "get", "1", "1")

    refused = run(
        "channel", "create", "1", "x", "--kind", "webhook", "--target", "http://10.0.0.1/", code=1
    )
    assert refused.startswith("error: 422 webhook host 10.0.0.1 is a private address")
    assert refused.count("\n") == 1
    assert [c["id"] for c in run.json("channel", "list", "1")] == [1, 2]

    queued = run("channel", "test", "1", "2").splitlines()
    assert queued == [
        "queued test message 1 to channel 2",
        "see how it went with: resentry-client deliveries list 1 --channel 2",
    ]
    assert run.json("channel", "test", "1", "1")["status"] == "pending"
    log = run("deliveries", "list", "1").splitlines()
    assert log[0].split() == [
        "ID", "CREATED", "STATUS", "REASON", "DESTINATION", "ISSUE", "TRIES", "LAST", "ERROR"
    ]  # fmt: skip
    assert [line.split()[:1] + line.split()[3:6] for line in log[1:]] == [
        ["2", "pending", "test", "channel:1"],
        ["1", "pending", "test", "channel:2"],
    ]
    only_team = run.json("deliveries", "list", "1", "--channel", "2")
    assert [(d["id"], d["reason"], d["channel_id"]) for d in only_team] == [(1, "test", 2)]
    assert [d["id"] for d in run.json("deliveries", "list", "1", "--limit", "1")] == [2]

    done = run("channel", "delete", "1", "2").strip()
    assert done == "deleted channel 2 with its rules and deliveries"
    assert run("channel", "get", "1", "2", code=1) == (
        "error: 404 channel 2 not found in project 1\n"
    )
    assert run.json("deliveries", "list", "1", "--channel", "2") == []


def test_rules(run: Run) -> None:
    """``rule create`` (``min_level`` error unless given), ``list``, ``update`` (``--environment
    ""`` clears the filter) and ``delete``; a bad trigger is a usage error, a channel of another
    project a one-line 404."""
    run("channel", "create", "1", "team", "--kind", "email", "--target", "a@example.com")
    rule = run.json("rule", "create", "1", "--channel", "1", "--trigger", "new_issue")
    assert (rule["id"], rule["min_level"], rule["environment"]) == (1, "error", None)
    scoped = run(
        "rule", "create", "1", "--channel", "1", "--trigger", "level",
        "--min-level", "warning", "--environment", "production",
    )  # fmt: skip
    assert "environment: production" in scoped
    table = run("rule", "list", "1").splitlines()
    assert table[0].split() == [
        "ID",
        "CHANNEL",
        "TRIGGER",
        "MIN",
        "LEVEL",
        "ENVIRONMENT",
        "CREATED",
    ]
    assert [line.split()[:5] for line in table[1:]] == [
        ["1", "1", "new_issue", "error", "just"],
        ["2", "1", "level", "warning", "production"],
    ]
    run("channel", "create", "1", "ops", "--kind", "telegram", "--target", "-100123")
    moved = run.json("rule", "update", "1", "2", "--channel", "2", "--min-level", "fatal")
    assert (moved["channel_id"], moved["trigger"], moved["min_level"], moved["environment"]) == (
        2,
        "level",
        "fatal",
        "production",
    )
    cleared = run("rule", "update", "1", "2", "--environment", "")
    assert re.search(r"^environment: *$", cleared, re.MULTILINE), cleared
    assert run("rule", "update", "1", "9", "--min-level", "info", code=1) == (
        "error: 404 rule 9 not found in project 1\n"
    )
    with pytest.raises(SystemExit) as usage:
        run("rule", "create", "1", "--channel", "1", "--trigger", "sometimes")
    assert usage.value.code == 2
    run("project", "create", "Other", "--slug", "other")
    assert run("rule", "create", "2", "--channel", "1", "--trigger", "new_issue", code=1) == (
        "error: 404 channel 1 not found in project 2\n"
    )
    assert run("rule", "delete", "1", "1").strip() == "deleted rule 1"
    assert [r["id"] for r in run.json("rule", "list", "1")] == [2]
    assert run("rule", "delete", "1", "1", code=1).startswith("error: 404 ")


def test_member_settings_and_user_addresses(run: Run) -> None:
    """``member update`` by user name or id (both spellings of the switches); ``user
    create/update --email --telegram-chat-id``, ``""`` clearing; a member may change their own
    settings but not see channels."""
    lines = run(
        "member", "update", "1", "alice", "--min-level", "warning", "--no-notify-regressions"
    ).splitlines()
    assert "min_level:          warning" in lines
    assert "notify_regressions: no" in lines
    again = run.json("member", "update", "1", "2", "--no-new-issues", "--regressions")
    assert (again["min_level"], again["notify_new_issues"], again["notify_regressions"]) == (
        "warning",
        False,
        True,
    )
    assert run("member", "update", "1", "nobody", "--min-level", "info", code=1) == (
        "error: nobody is not a member of project 1\n"
    )
    nothing = run("member", "update", "1", "alice", code=1)
    assert nothing.startswith("error: 422 ") and "send at least one of" in nothing

    bob = run.json(
        "user", "create", "bob", "--password", "bob password",
        "--email", "bob@example.com", "--telegram-chat-id", "4242",
    )  # fmt: skip
    assert (bob["email"], bob["telegram_chat_id"]) == ("bob@example.com", "4242")
    assert "email:            bob@example.com" in run("user", "get", str(bob["id"]))
    changed = run.json("user", "update", str(bob["id"]), "--email", "bob@example.org")
    assert (changed["email"], changed["telegram_chat_id"]) == ("bob@example.org", "4242")
    assert run("user", "update", str(bob["id"]), "--email", "bob at example", code=1) == (
        "error: 422 'bob at example' is not an e-mail address\n"
    )
    cleared = run.json("user", "update", str(bob["id"]), "--email", "", "--telegram-chat-id", "")
    assert (cleared["email"], cleared["telegram_chat_id"]) == (None, None)

    run("login", "-u", "alice", "-p", "alice password")
    assert run.json("member", "update", "1", "alice", "--min-level", "fatal")["min_level"] == (
        "fatal"
    )
    assert run("channel", "list", "1", code=1).startswith("error: 403 ")
