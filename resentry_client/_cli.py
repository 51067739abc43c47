"""``resentry-client``: the management API from a terminal (also ``python -m resentry_client``).

Every command prints an aligned table or ``name: value`` lines (times relative), or with
``--json`` the answer as JSON (times in ISO 8601). Failures print one line, ``error: …``, on
stderr and exit with status 1 (2 for bad usage, 130 when interrupted); never a traceback for
an HTTP or connection error.
"""

import argparse
import getpass
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

from resentry_client._calls import NOT_GIVEN, Level, Trigger, WebhookFlavor
from resentry_client._client import Client
from resentry_client._config import StoredLogin, forget_login, load_login, login_path, save_login
from resentry_client._errors import APIConnectionError, AuthenticationError, ResentryClientError
from resentry_client._models import (
    Channel,
    Delivery,
    Event,
    EventDetail,
    Issue,
    Member,
    Project,
    ProjectKey,
    Rule,
    User,
)
from resentry_client._resources import SyncPager
from resentry_client._table import cell, render_fields, render_table, to_json
from resentry_client._testevent import parse_dsn, send_test_event

Columns = Sequence[tuple[str, Callable[[Any], object]]]
LEVELS = list(get_args(Level))
TRIGGERS = list(get_args(Trigger))
FLAVORS = list(get_args(WebhookFlavor))

# What a table of each model shows; other models show all their fields.
_COLUMNS: dict[type, Columns] = {
    User: [
        ("ID", lambda u: u.id),
        ("USERNAME", lambda u: u.username),
        ("ADMIN", lambda u: u.is_admin),
        ("ACTIVE", lambda u: u.is_active),
        ("CREATED", lambda u: u.created_at),
    ],
    Project: [
        ("ID", lambda p: p.id),
        ("SLUG", lambda p: p.slug),
        ("NAME", lambda p: p.name),
        ("CREATED", lambda p: p.created_at),
        ("DSN", lambda p: (p.dsns or [""])[0]),
    ],
    ProjectKey: [
        ("ID", lambda k: k.id),
        ("LABEL", lambda k: k.label),
        ("ACTIVE", lambda k: k.is_active),
        ("CREATED", lambda k: k.created_at),
        ("DSN", lambda k: k.dsn),
    ],
    Member: [
        ("USER", lambda m: m.user_id),
        ("USERNAME", lambda m: m.username),
        ("MIN LEVEL", lambda m: m.min_level),
        ("NEW ISSUES", lambda m: m.notify_new_issues),
        ("REGRESSIONS", lambda m: m.notify_regressions),
    ],
    Event: [
        ("EVENT ID", lambda e: e.event_id),
        ("RECEIVED", lambda e: e.received_at),
        ("LEVEL", lambda e: e.level),
        ("TYPE", lambda e: e.type),
        ("ISSUE", lambda e: e.issue_id),
        ("RELEASE", lambda e: e.release),
        ("TITLE", lambda e: e.title),
    ],
    Issue: [
        ("ID", lambda i: i.id),
        ("STATUS", lambda i: i.status),
        ("LEVEL", lambda i: i.level),
        ("EVENTS", lambda i: i.times_seen),
        ("LAST SEEN", lambda i: i.last_seen),
        ("FIRST SEEN", lambda i: i.first_seen),
        ("TITLE", lambda i: i.title),
    ],
    Channel: [
        ("ID", lambda c: c.id),
        ("NAME", lambda c: c.name),
        ("KIND", lambda c: c.kind),
        ("FLAVOR", lambda c: c.flavor),
        ("CREATED", lambda c: c.created_at),
        ("TARGET", lambda c: c.target),
    ],
    Rule: [
        ("ID", lambda r: r.id),
        ("CHANNEL", lambda r: r.channel_id),
        ("TRIGGER", lambda r: r.trigger),
        ("MIN LEVEL", lambda r: r.min_level),
        ("ENVIRONMENT", lambda r: r.environment),
        ("CREATED", lambda r: r.created_at),
    ],
    Delivery: [
        ("ID", lambda d: d.id),
        ("CREATED", lambda d: d.created_at),
        ("STATUS", lambda d: d.status),
        ("REASON", lambda d: d.reason),
        ("DESTINATION", lambda d: d.destination),
        ("ISSUE", lambda d: d.issue_id),
        ("TRIES", lambda d: d.attempts),
        ("LAST ERROR", lambda d: d.last_error),
    ],
}


@dataclass(frozen=True)
class Output:
    """How results are printed: JSON or human text, at a terminal width."""

    json: bool
    width: int

    def show(self, value: Any, model: type | None = None) -> None:
        """Print a model (as ``name: value`` lines), a list of models (as a table) or text."""
        if self.json:
            print(to_json(value))
        elif isinstance(value, list):
            self._table(value, model)
        elif is_dataclass(value):
            pairs = [(f.name, getattr(value, f.name)) for f in fields(value)]
            print(
                render_fields(
                    [(n, v) for n, v in pairs if n not in ("keys", "payload")], self.width
                )
            )
        else:
            print(value)

    def _table(self, items: list[Any], model: type | None) -> None:
        kind = model or (type(items[0]) if items else None)
        if kind is None:
            print("(none)")
            return
        columns = _COLUMNS.get(kind) or [
            (f.name.upper().replace("_", " "), _attribute(f.name)) for f in fields(kind)
        ]
        if not items:
            print("(none)")
            return
        rows = [[cell(get(item)) for _, get in columns] for item in items]
        print(render_table([name for name, _ in columns], rows, self.width))


def _attribute(name: str) -> Callable[[Any], object]:
    return lambda item: getattr(item, name)


def _client(args: argparse.Namespace) -> Client:
    return Client(args.url, timeout=args.timeout)


_DURATION = re.compile(r"^(\d+)\s*(s|m|min|h|d|w)$")
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def _when(text: str) -> datetime:
    """An ISO 8601 timestamp (naive: UTC) or a time ago: ``30m``, ``2h``, ``7d``, ``1w``."""
    if match := _DURATION.match(text.strip()):
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        return datetime.now(UTC) - timedelta(seconds=seconds)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a time: {text!r} (ISO 8601, or an age such as 30m, 2h, 7d)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {value}")
    return value


def _password(args: argparse.Namespace, prompt: str = "Password: ") -> str:
    if args.password is not None:
        return str(args.password)
    return getpass.getpass(prompt)


# --- commands -----------------------------------------------------------------------------------


Handler = Callable[[argparse.Namespace, Output], None]


def _shows(
    fetch: Callable[[Client, argparse.Namespace], Any], model: type | None = None
) -> Handler:
    """A command that prints what ``fetch`` answers (a lazy list is read to its end, into a
    table of ``model``)."""

    def command(args: argparse.Namespace, out: Output) -> None:
        with _client(args) as client:
            result = fetch(client, args)
            out.show(list(result) if isinstance(result, SyncPager) else result, model)

    return command


def _does(
    act: Callable[[Client, argparse.Namespace], None], message: Callable[[argparse.Namespace], str]
) -> Handler:
    """A command that does ``act`` (it answers nothing) and says what it did."""

    def command(args: argparse.Namespace, out: Output) -> None:
        with _client(args) as client:
            act(client, args)
        _done(out, message(args))

    return command


def cmd_login(args: argparse.Namespace, out: Output) -> None:
    username = args.username or input("Username: ")
    password = _password(args)
    with _client(args) as client:
        tokens = client.login(username, password)
        path = save_login(
            StoredLogin(
                url=client.base_url,
                username=username,
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
            )
        )
        url = client.base_url
    if out.json:
        print(to_json({"url": url, "username": username, "stored_in": str(path)}))
    else:
        print(f"logged in to {url} as {username} (tokens stored in {path})")


def cmd_logout(args: argparse.Namespace, out: Output) -> None:
    stored = load_login()
    ended_on_server = False
    if stored is not None:
        with Client(stored.url, timeout=args.timeout) as client:
            try:
                client.logout()
                ended_on_server = True
            except AuthenticationError:
                ended_on_server = True  # the tokens had already ended (expired or ended elsewhere)
            except APIConnectionError as exc:
                print(f"warning: {exc}; the server's tokens end when they expire", file=sys.stderr)
    forget_login()
    message = f"logged out of {stored.url}" if stored else "not logged in"
    result = {"logged_out": stored is not None, "ended_on_server": ended_on_server}
    print(to_json(result) if out.json else message)


def cmd_user_create(args: argparse.Namespace, out: Output) -> None:
    password = _password(args, f"Password for {args.username}: ")
    with _client(args) as client:
        user = client.users.create(
            args.username,
            password,
            is_admin=args.admin,
            telegram_chat_id=args.telegram_chat_id or NOT_GIVEN,
            email=args.email or NOT_GIVEN,
        )
    out.show(user)


def cmd_user_update(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        user = client.users.update(
            args.user_id,
            username=_given(args.username),
            password=_given(args.password),
            current_password=_given(args.current_password),
            is_admin=_given(args.admin),
            is_active=_given(args.active),
            telegram_chat_id=_given(args.telegram_chat_id),
            email=_given(args.email),
        )
    out.show(user)


def _given(value: Any) -> Any:
    return NOT_GIVEN if value is None else value


def _done(out: Output, message: str) -> None:
    print(to_json({"ok": True, "message": message}) if out.json else message)


def cmd_project_get(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        project = client.projects.get(args.project_id)
    out.show(project)
    if not out.json:
        print()
        out.show(project.keys, ProjectKey)


def cmd_project_create(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        project = client.projects.create(
            args.name,
            slug=_given(args.slug),
            allowed_origins=args.allowed_origin or NOT_GIVEN,
            rate_limit_per_minute=_given(args.rate_limit),
            retention_days=_given(args.retention_days),
        )
    if out.json:
        out.show(project)
        return
    print(f"created project {project.id} ({project.slug})", file=sys.stderr)
    print("\n".join(project.dsns))


def cmd_project_update(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        project = client.projects.update(
            args.project_id,
            name=_given(args.name),
            allowed_origins=args.allowed_origin or NOT_GIVEN,
            rate_limit_per_minute=_limit(args.rate_limit),
            retention_days=_limit(args.retention_days),
        )
    out.show(project)


def _limit(value: int | None) -> Any:
    # 0 clears a limit (null); absent keeps it.
    return NOT_GIVEN if value is None else (None if value == 0 else value)


def cmd_project_dsn(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        dsns = client.projects.get(args.project_id).dsns
    print(to_json(dsns) if out.json else "\n".join(dsns))


def _member_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "min_level": _given(args.min_level),
        "notify_new_issues": _given(args.new_issues),
        "notify_regressions": _given(args.regressions),
    }


def cmd_member_add(args: argparse.Namespace, out: Output) -> None:
    user: dict[str, Any] = (
        {"user_id": int(args.user)} if args.user.isdigit() else {"username": args.user}
    )
    with _client(args) as client:
        member = client.members.add(args.project_id, **user, **_member_settings(args))
    out.show(member)


def cmd_member_update(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        user_id = _member_id(client, args.project_id, args.user)
        member = client.members.update(args.project_id, user_id, **_member_settings(args))
    out.show(member)


def _member_id(client: Client, project_id: int, user: str) -> int:
    # USER is an id, or the user name of a member of the project.
    if user.isdigit():
        return int(user)
    for member in client.members.list(project_id):
        if member.username == user:
            return member.user_id
    raise ResentryClientError(f"{user} is not a member of project {project_id}")


def cmd_channel_create(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        channel = client.channels.create(
            args.project_id, args.name, args.kind, args.target, flavor=_given(args.flavor)
        )
    out.show(channel)
    if channel.secret is not None:
        print(
            f"note: keep the secret now; it signs channel {channel.id}'s requests and "
            "will not be shown again",
            file=sys.stderr,
        )


def cmd_channel_update(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        channel = client.channels.update(
            args.project_id,
            args.channel_id,
            name=_given(args.name),
            target=_given(args.target),
            flavor=_given(args.flavor),
        )
    out.show(channel)


def cmd_channel_test(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        delivery = client.channels.test(args.project_id, args.channel_id)
    if out.json:
        out.show(delivery)
        return
    print(f"queued test message {delivery.id} to channel {args.channel_id}")
    print(
        f"see how it went with: resentry-client deliveries list {args.project_id} "
        f"--channel {args.channel_id}"
    )


def cmd_rule_create(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        rule = client.rules.create(
            args.project_id,
            args.channel,
            args.trigger,
            min_level=_given(args.min_level),
            environment=_given(args.environment),
        )
    out.show(rule)


def cmd_rule_update(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        rule = client.rules.update(
            args.project_id,
            args.rule_id,
            channel_id=_given(args.channel),
            trigger=_given(args.trigger),
            min_level=_given(args.min_level),
            environment=NOT_GIVEN if args.environment is None else (args.environment or None),
        )
    out.show(rule)


def cmd_deliveries_list(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        deliveries = client.deliveries.list(
            args.project_id, channel_id=args.channel, max_items=args.limit
        )
        out.show(list(deliveries), Delivery)


def cmd_events_list(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        events = client.events.list(
            args.project_id,
            level=args.level,
            issue_id=args.issue,
            release=args.release,
            environment=args.environment,
            type=args.type,
            since=args.since,
            until=args.until,
            max_items=args.limit,
        )
        out.show(list(events), Event)


def cmd_events_get(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        event = client.events.get(args.project_id, args.event_id)
    if out.json:
        out.show(event)
        return
    _show_event(event, out)


def _show_event(event: EventDetail, out: Output) -> None:
    pairs = [
        (f.name, getattr(event, f.name))
        for f in fields(event)
        if f.name not in ("payload", "attachments") and getattr(event, f.name) not in (None, {}, "")
    ]
    print(render_fields(pairs, out.width))
    if event.attachments:
        print("\nattachments:")
        out.show(event.attachments)
    command = f"resentry-client envelope download {event.project_id} {event.envelope_id}"
    print(f"\nenvelope {event.envelope_id}: {command}")


def cmd_issues_list(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        issues = client.issues.list(
            args.project_id, status=args.status, sort=args.sort, max_items=args.limit
        )
        out.show(list(issues), Issue)


def _issue_status(status: str) -> Handler:
    def command(args: argparse.Namespace, out: Output) -> None:
        with _client(args) as client:
            issue = client.issues.set_status(args.project_id, args.issue_id, status)  # type: ignore[arg-type]
        if out.json:
            out.show(issue)
        else:
            print(f"issue {issue.id} is {issue.status}: {issue.title}")

    return command


def cmd_issues_events(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        events = client.issues.events(args.project_id, args.issue_id, max_items=args.limit)
        out.show(list(events), Event)


def cmd_attachment_download(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        download = client.attachments.download(args.project_id, args.attachment_id, args.output)
    _downloaded(download, out)


def cmd_envelope_download(args: argparse.Namespace, out: Output) -> None:
    with _client(args) as client:
        download = client.envelopes.download(
            args.project_id, args.envelope_id, args.output, raw=args.raw
        )
    _downloaded(download, out)


def _downloaded(download: Any, out: Output) -> None:
    if out.json:
        out.show(download)
    else:
        print(f"wrote {download.size} bytes to {download.path}")


def cmd_send_test_event(args: argparse.Namespace, out: Output) -> None:
    dsn = parse_dsn(args.dsn)
    event_id = send_test_event(args.dsn, message=args.message)
    if out.json:
        print(to_json({"event_id": event_id, "project_id": dsn.project_id}))
        return
    print(f"sent test event {event_id} to project {dsn.project_id} at {dsn.base_url}")
    print(
        f"see it with: resentry-client --url {dsn.base_url} events get {dsn.project_id} {event_id}"
    )


# --- the parser ---------------------------------------------------------------------------------


def _command(
    group: Any,
    name: str,
    handler: Handler,
    help: str,
    *,
    aliases: Iterable[str] = (),
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(
        name, help=help, description=help, aliases=list(aliases)
    )
    _global_options(parser, defaults=False)
    parser.set_defaults(handler=handler)
    return parser


def _global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    # Accepted before the command and after it; a command's copy only overrides when given.
    default: Any = None if defaults else argparse.SUPPRESS
    parser.add_argument(
        "--url",
        default=default,
        help="server URL (default: RESENTRY_URL, else the stored login's server)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=False if defaults else argparse.SUPPRESS,
        help="print JSON for scripts",
    )
    parser.add_argument("--timeout", type=float, default=default, help="seconds per request")


def _group(parent: Any, name: str, help: str) -> Any:
    parser = parent.add_parser(name, help=help, description=help)
    return parser.add_subparsers(title="commands", metavar="COMMAND", required=True)


def _project(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project_id", metavar="PROJECT", type=_positive, help="project id")


def _issue_args(parser: argparse.ArgumentParser) -> None:
    _project(parser)
    parser.add_argument("issue_id", metavar="ISSUE", type=_positive, help="issue id")


def _limit_arg(parser: argparse.ArgumentParser, default: int | None) -> None:
    parser.add_argument(
        "--limit", type=_positive, default=default, help=f"at most this many (default {default})"
    )


def _channel_args(parser: argparse.ArgumentParser) -> None:
    _project(parser)
    parser.add_argument("channel_id", metavar="CHANNEL", type=_positive, help="channel id")


def _rule_args(parser: argparse.ArgumentParser) -> None:
    _project(parser)
    parser.add_argument("rule_id", metavar="RULE", type=_positive, help="rule id")


def _rule_options(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    parser.add_argument(
        "--channel", type=_positive, required=creating, help="the channel to tell (its id)"
    )
    parser.add_argument("--trigger", choices=TRIGGERS, required=creating, help="what to tell of")
    parser.add_argument(
        "--min-level", choices=LEVELS, help="the least level" + (" (default error)" * creating)
    )
    parser.add_argument(
        "--environment",
        help="only events of this environment" + ("" if creating else ' ("" clears it)'),
    )


def _notification_commands(commands: Any) -> None:
    channels = _group(commands, "channel", "notification channels (admins only)")
    _project(
        _command(
            channels,
            "list",
            _shows(lambda c, a: c.channels.list(a.project_id), Channel),
            "a project's channels",
        )
    )
    _channel_args(
        _command(
            channels,
            "get",
            _shows(lambda c, a: c.channels.get(a.project_id, a.channel_id)),
            "one channel",
        )
    )
    create = _command(
        channels,
        "create",
        cmd_channel_create,
        "create a channel; a webhook's secret is shown this once",
    )
    _project(create)
    create.add_argument("name")
    create.add_argument("--kind", choices=["telegram", "email", "webhook"], required=True)
    create.add_argument(
        "--target",
        required=True,
        help="a Telegram chat id, comma-separated e-mail addresses, or a webhook URL",
    )
    update = _command(channels, "update", cmd_channel_update, "change a channel")
    _channel_args(update)
    update.add_argument("--name")
    update.add_argument("--target")
    for each in (create, update):
        each.add_argument("--flavor", choices=FLAVORS, help="a webhook's payload format")
    _channel_args(
        _command(
            channels,
            "delete",
            _does(
                lambda c, a: c.channels.delete(a.project_id, a.channel_id),
                lambda a: f"deleted channel {a.channel_id} with its rules and deliveries",
            ),
            "delete a channel with its rules",
        )
    )
    _channel_args(_command(channels, "test", cmd_channel_test, "queue a test message"))

    rules = _group(commands, "rule", "notification rules: which channel hears of what")
    _project(
        _command(
            rules,
            "list",
            _shows(lambda c, a: c.rules.list(a.project_id), Rule),
            "a project's rules",
        )
    )
    create = _command(rules, "create", cmd_rule_create, "add a rule to a channel")
    _project(create)
    _rule_options(create, creating=True)
    update = _command(rules, "update", cmd_rule_update, "change a rule")
    _rule_args(update)
    _rule_options(update, creating=False)
    _rule_args(
        _command(
            rules,
            "delete",
            _does(
                lambda c, a: c.rules.delete(a.project_id, a.rule_id),
                lambda a: f"deleted rule {a.rule_id}",
            ),
            "delete a rule",
        )
    )

    deliveries = _group(commands, "deliveries", "the notification delivery log")
    listing = _command(deliveries, "list", cmd_deliveries_list, "deliveries, newest first")
    _project(listing)
    listing.add_argument("--channel", type=_positive, help="of this channel only")
    _limit_arg(listing, 50)


def build_parser() -> argparse.ArgumentParser:
    """The ``resentry-client`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="resentry-client",
        description="The Resentry management API from a terminal.",
        epilog=f"The login is stored in {login_path()} (mode 0600).",
    )
    _global_options(parser, defaults=True)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    _command(
        commands,
        "health",
        _shows(lambda c, a: c.health()),
        "check that the server and its database answer",
    )
    login = _command(commands, "login", cmd_login, "log in and store the tokens")
    login.add_argument("--username", "-u", help="prompted for when not given")
    login.add_argument("--password", "-p", help="prompted for (without echo) when not given")
    _command(
        commands, "logout", cmd_logout, "end the tokens on the server and forget the stored login"
    )
    _command(commands, "whoami", _shows(lambda c, a: c.me()), "the logged-in user")

    users = _group(commands, "user", "users (admins only; anyone may read themself)")
    _command(users, "list", _shows(lambda c, a: c.users.list(), User), "every user")
    get = _command(
        users, "get", _shows(lambda c, a: c.users.get(a.user_id)), "one user", aliases=["get-user"]
    )
    get.add_argument("user_id", metavar="USER", type=_positive)
    create = _command(users, "create", cmd_user_create, "create a user", aliases=["create-user"])
    create.add_argument("username")
    create.add_argument("--password", "-p", help="prompted for when not given")
    create.add_argument("--admin", action="store_true", help="make an administrator")
    create.add_argument("--telegram-chat-id", help="where the user's Telegram messages go")
    create.add_argument("--email", help="where the user's e-mail notifications go")
    update = _command(users, "update", cmd_user_update, "change a user", aliases=["update-user"])
    update.add_argument("user_id", metavar="USER", type=_positive)
    update.add_argument("--username")
    update.add_argument("--password", help="the new password")
    update.add_argument("--current-password", help="needed to change one's own password")
    update.add_argument("--admin", action=argparse.BooleanOptionalAction)
    update.add_argument("--active", action=argparse.BooleanOptionalAction)
    update.add_argument("--telegram-chat-id", help='"" clears it')
    update.add_argument("--email", help='"" clears it')
    delete = _command(
        users,
        "delete",
        _does(lambda c, a: c.users.delete(a.user_id), lambda a: f"deleted user {a.user_id}"),
        "delete a user",
    )
    delete.add_argument("user_id", metavar="USER", type=_positive)

    projects = _group(commands, "project", "projects and their DSNs")
    _command(
        projects, "list", _shows(lambda c, a: c.projects.list(), Project), "the projects you see"
    )
    _project(_command(projects, "get", cmd_project_get, "one project with its keys"))
    create = _command(projects, "create", cmd_project_create, "create a project; prints its DSN")
    create.add_argument("name")
    create.add_argument("--slug")
    update = _command(projects, "update", cmd_project_update, "change a project")
    _project(update)
    update.add_argument("--name")
    for each in (create, update):
        each.add_argument("--allowed-origin", action="append", help="CORS origin (repeatable)")
        each.add_argument("--rate-limit", type=int, help="events per minute per key (0: none)")
        each.add_argument("--retention-days", type=int, help="days to keep events (0: forever)")
    _project(
        _command(
            projects,
            "delete",
            _does(
                lambda c, a: c.projects.delete(a.project_id),
                lambda a: f"deleted project {a.project_id} and all its data",
            ),
            "delete a project",
            aliases=["delete-project"],
        )
    )
    _project(_command(projects, "dsn", cmd_project_dsn, "the DSNs of the active keys"))

    keys = _group(commands, "key", "project keys (DSNs)")
    _project(
        _command(
            keys,
            "list",
            _shows(lambda c, a: c.keys.list(a.project_id), ProjectKey),
            "a project's keys",
        )
    )
    create = _command(
        keys, "create", _shows(lambda c, a: c.keys.create(a.project_id, label=a.label)), "add a key"
    )
    _project(create)
    create.add_argument("--label", default="")
    revoke = _command(
        keys, "revoke", _shows(lambda c, a: c.keys.revoke(a.project_id, a.key_id)), "revoke a key"
    )
    _project(revoke)
    revoke.add_argument("key_id", metavar="KEY", type=_positive)

    members = _group(commands, "member", "project members")
    _project(
        _command(
            members,
            "list",
            _shows(lambda c, a: c.members.list(a.project_id), Member),
            "a project's members",
        )
    )
    add = _command(members, "add", cmd_member_add, "add a member (or change their settings)")
    _project(add)
    update = _command(
        members, "update", cmd_member_update, "change a member's notification settings"
    )
    _project(update)
    for each in (add, update):
        each.add_argument("user", metavar="USER", help="user id or username")
        each.add_argument("--min-level", choices=LEVELS, help="the least level to be told of")
        each.add_argument(
            "--notify-new-issues",
            "--new-issues",
            dest="new_issues",
            action=argparse.BooleanOptionalAction,
            help="be told of new issues",
        )
        each.add_argument(
            "--notify-regressions",
            "--regressions",
            dest="regressions",
            action=argparse.BooleanOptionalAction,
            help="be told of regressions",
        )
    remove = _command(
        members,
        "remove",
        _does(
            lambda c, a: c.members.remove(a.project_id, a.user_id),
            lambda a: f"removed user {a.user_id} from project {a.project_id}",
        ),
        "remove a member",
    )
    _project(remove)
    remove.add_argument("user_id", metavar="USER", type=_positive)

    _notification_commands(commands)

    events = _group(commands, "events", "events")
    listing = _command(events, "list", cmd_events_list, "a project's events, newest first")
    _project(listing)
    listing.add_argument("--level", choices=LEVELS)
    listing.add_argument("--since", type=_when, help="received at or after (ISO 8601, or 2h, 7d)")
    listing.add_argument("--until", type=_when, help="received before")
    listing.add_argument("--release")
    listing.add_argument("--environment")
    listing.add_argument("--issue", type=_positive, help="of this issue")
    listing.add_argument("--type", help="error, default, transaction, feedback, …")
    _limit_arg(listing, 50)
    get = _command(events, "get", cmd_events_get, "one event with its attachments")
    _project(get)
    get.add_argument("event_id", metavar="EVENT_ID")

    issues = _group(commands, "issues", "issues")
    listing = _command(issues, "list", cmd_issues_list, "a project's issues")
    _project(listing)
    listing.add_argument("--status", choices=["unresolved", "resolved", "ignored"])
    listing.add_argument("--sort", choices=["last_seen", "first_seen", "times_seen"])
    _limit_arg(listing, 50)
    _issue_args(
        _command(
            issues, "get", _shows(lambda c, a: c.issues.get(a.project_id, a.issue_id)), "one issue"
        )
    )
    for name, status in (("resolve", "resolved"), ("ignore", "ignored"), ("reopen", "unresolved")):
        _issue_args(_command(issues, name, _issue_status(status), f"mark an issue {status}"))
    issue_events = _command(issues, "events", cmd_issues_events, "an issue's events")
    _issue_args(issue_events)
    _limit_arg(issue_events, 50)

    attachments = _group(commands, "attachment", "attachments")
    download = _command(
        attachments, "download", cmd_attachment_download, "save an attachment's exact bytes"
    )
    _project(download)
    download.add_argument("attachment_id", metavar="ATTACHMENT", type=_positive)
    envelopes = _group(commands, "envelope", "raw envelopes")
    download_envelope = _command(
        envelopes, "download", cmd_envelope_download, "save an envelope as the SDK sent it"
    )
    _project(download_envelope)
    download_envelope.add_argument("envelope_id", metavar="ENVELOPE", type=_positive)
    download_envelope.add_argument(
        "--raw", action="store_true", help="keep the SDK's compression, if any"
    )
    for each in (download, download_envelope):
        each.add_argument(
            "-o",
            "--output",
            type=Path,
            default=Path(),
            help="file or directory (default: the server's file name in the current directory)",
        )

    test = _command(
        commands, "send-test-event", cmd_send_test_event, "send a test error event to a DSN"
    )
    test.add_argument("dsn", metavar="DSN")
    test.add_argument("--message", default="This is a test event sent by resentry-client")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = build_parser().parse_args(argv)
    out = Output(json=args.json, width=shutil.get_terminal_size((100, 24)).columns)
    try:
        args.handler(args, out)
    except ResentryClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (EOFError, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
