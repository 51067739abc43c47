"""The admin CLI ``resentry``: serve, worker, migrate, users and projects (docs/cli.md).

Every command reads the same :class:`Settings` as the server (``RESENTRY_*`` and ``.env``).
User errors print ``error: ...`` on stderr and exit non-zero, without a traceback.
"""

import argparse
import gc
import getpass
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from types import FrameType
from typing import TypeVar

import anyio
import pydantic
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resentry_core import Dsn, NotFoundError, Project, Resentry, ResentryError, User, open_worker
from resentry_core.storage import UNSET, Unset
from resentry_server._app import create_app
from resentry_server._idle import IdleTrimmer, malloc_trim
from resentry_server._settings import Settings

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_URL = "http://127.0.0.1:8000"

Command = Callable[[argparse.Namespace, Settings], int]
T = TypeVar("T")


class CliError(Exception):
    """A user error: printed as ``error: <message>``, exit status 1."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``resentry`` command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except pydantic.ValidationError as exc:
        print(f"error: invalid settings:\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s: %(message)s")
    command: Command = args.command
    try:
        return command(args, settings)
    except (CliError, ResentryError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="resentry",
        description="Run and administer a Resentry server. Settings come from RESENTRY_* "
        "environment variables and .env (see docs/configuration.md).",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve", aliases=["runserver"], help="run the HTTP server (migrates the database first)"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: %(default)s)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default: %(default)s)")
    serve.add_argument("--reload", action="store_true", help="restart when the code changes")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    serve.set_defaults(command=_serve)

    worker = commands.add_parser(
        "worker",
        help="run the background worker (notifications, digests, cron monitors, retention) "
        "until SIGTERM or Ctrl-C",
    )
    worker.set_defaults(command=_worker)

    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(command=_migrate)

    add_user = commands.add_parser("add-user", help="create a user (prompts for the password)")
    add_user.add_argument("name", help="the username")
    add_user.add_argument("--password", help="the password (prompted for when omitted)")
    add_user.add_argument("--admin", action="store_true", help="make the user an administrator")
    _contact_options(add_user)
    add_user.set_defaults(command=_add_user)

    user = commands.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(required=True, metavar="ACTION")
    update = user_commands.add_parser("update", help="change a user's settings")
    update.add_argument("name", help="username or id")
    update.add_argument("--password", help="a new password")
    update.add_argument(
        "--admin", action=argparse.BooleanOptionalAction, help="grant or revoke administration"
    )
    update.add_argument(
        "--active", action=argparse.BooleanOptionalAction, help="allow or refuse logging in"
    )
    update.add_argument(
        "--inactive", dest="active", action="store_false", help="the same as --no-active"
    )
    _contact_options(update)
    update.set_defaults(command=_user_update)

    project = commands.add_parser("project", help="manage projects")
    project_commands = project.add_subparsers(required=True, metavar="ACTION")
    create = project_commands.add_parser("create", help="create a project and print its DSN")
    create.add_argument("name", help="the project name")
    create.set_defaults(command=_project_create)
    listing = project_commands.add_parser("list", help="list projects with their DSNs")
    listing.set_defaults(command=_project_list)
    dsn = project_commands.add_parser("dsn", help="print the DSNs of a project's active keys")
    dsn.add_argument("project", help="project id or slug")
    dsn.set_defaults(command=_project_dsn)
    member = project_commands.add_parser("add-member", help="give a user access to a project")
    member.add_argument("project", help="project id or slug")
    member.add_argument("user", help="user id or username")
    member.set_defaults(command=_project_add_member)
    return parser


def _contact_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--telegram-chat-id", help="the Telegram chat notifications go to ('' to clear)"
    )
    parser.add_argument("--email", help="the address notifications are e-mailed to ('' to clear)")


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    config = settings.to_core_config(worker=False)

    async def run() -> None:
        async with open_worker(config) as worker, anyio.create_task_group() as group:

            async def stop_on_signal() -> None:
                with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                    async for _ in signals:
                        worker.stop()
                        return

            group.start_soon(stop_on_signal)
            print("worker started", file=sys.stderr, flush=True)
            await worker.run()
            group.cancel_scope.cancel()

    anyio.run(run)
    print("worker stopped", file=sys.stderr, flush=True)
    return EXIT_OK


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    if args.workers < 1:
        raise CliError("--workers must be at least 1")
    _with_core(settings, _first_start_hints)
    options = {
        "host": args.host,
        "port": args.port,
        "log_level": settings.log_level,
        # Access lines are INFO: above that, uvicorn would still build each one to drop it.
        "access_log": logging.getLevelName(settings.log_level.upper()) <= logging.INFO,
        # X-Forwarded-* only from RESENTRY_TRUSTED_PROXIES (uvicorn would trust 127.0.0.1).
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": ",".join(map(str, settings.trusted_proxies)) or None,
        "server_header": False,
        "http": "resentry_server:HttpProtocol",  # caps request heads (431)
    }
    if args.reload or args.workers > 1:
        # Each worker process builds its own app from the same environment and .env.
        uvicorn.run(
            "resentry_server._cli:serving_app",
            factory=True,
            reload=args.reload,
            workers=None if args.reload else args.workers,
            **options,
        )
        return EXIT_OK
    with _exit_cleanly_on_signals():
        uvicorn.run(serving_app(settings), **options)
    return EXIT_OK


def serving_app(settings: Settings | None = None) -> ASGIApp:
    """The app ``resentry serve`` runs: :func:`create_app`, with the process tuned once started.

    Everything alive once the app has started (modules, FastAPI, SQLAlchemy, the open core)
    lives as long as the process, so it is moved out of the garbage collector's reach
    (``gc.freeze``): full collections otherwise walk all of it and paused ingestion for 40 to
    250 ms under load. Memory freed after a burst of requests goes back to the operating
    system once the server is idle (:class:`~resentry_server._idle.IdleTrimmer`). These are
    the server process's choices; an app that mounts Resentry keeps its own.
    """
    app = create_app(settings)
    trim = malloc_trim()
    trimmer = IdleTrimmer(trim) if trim is not None else None

    async def tuned(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            if trimmer is not None:
                trimmer.touch()
            await app(scope, receive, send)
            return

        async def send_after_startup(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                gc.collect()
                gc.freeze()
            await send(message)

        async with anyio.create_task_group() as tasks:
            if trimmer is not None:
                tasks.start_soon(trimmer.run)
            await app(scope, receive, send_after_startup)
            tasks.cancel_scope.cancel()

    return tuned


async def _first_start_hints(core: Resentry) -> None:
    users = await core.storage.list_users()
    projects = await core.storage.list_projects()
    steps = []
    if not users:
        steps.append("resentry add-user admin --admin      # create the first (admin) user")
    if not projects:
        steps.append("resentry project create my-app      # create a project; prints its DSN")
    if steps:
        print("Resentry is ready. Next steps, in another shell with the same settings:")
        for step in steps:
            print(f"  {step}")
        sys.stdout.flush()


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    _with_core(settings, _nothing)
    print(f"database {_safe_url(settings.resolved_database_url)} is up to date")
    return EXIT_OK


async def _nothing(core: Resentry) -> None:
    """Opening the core migrates the database; there is nothing else to do."""


def _add_user(args: argparse.Namespace, settings: Settings) -> int:
    password = args.password if args.password is not None else _prompt_password()

    async def create(core: Resentry) -> User:
        return await core.accounts.create_user(
            args.name,
            password,
            is_admin=args.admin,
            telegram_chat_id=args.telegram_chat_id or None,
            email=args.email or None,
        )

    user = _with_core(settings, create)
    role = "admin" if user.is_admin else "user"
    print(f"created {role} {user.username!r} (id {user.id})")
    return EXIT_OK


def _user_update(args: argparse.Namespace, settings: Settings) -> int:
    def given(value: T | None) -> T | Unset:
        return UNSET if value is None else value

    async def update(core: Resentry) -> User:
        user = await _find_user(core, args.name)
        return await core.accounts.update_user(
            user.id,
            password=given(args.password),
            is_admin=given(args.admin),
            is_active=given(args.active),
            telegram_chat_id=given(args.telegram_chat_id),
            email=given(args.email),
        )

    user = _with_core(settings, update)
    print(
        f"updated {user.username!r} (id {user.id}): admin={user.is_admin} "
        f"active={user.is_active} telegram_chat_id={user.telegram_chat_id or '-'} "
        f"email={user.email or '-'}"
    )
    return EXIT_OK


def _prompt_password() -> str:
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != password:
        raise CliError("the passwords do not match")
    return password


def _project_create(args: argparse.Namespace, settings: Settings) -> int:
    async def create(core: Resentry) -> Project:
        return await core.projects.create_project(args.name)

    project = _with_core(settings, create)
    print(f"created project {project.id} ({project.slug})", file=sys.stderr)
    _warn_without_public_url(settings)
    for line in _dsns(settings, project):
        print(line)
    return EXIT_OK


def _project_list(args: argparse.Namespace, settings: Settings) -> int:
    async def projects(core: Resentry) -> list[Project]:
        return await core.storage.list_projects()

    rows = [("ID", "SLUG", "NAME", "DSN")]
    for project in _with_core(settings, projects):
        dsns = _dsns(settings, project) or ["-"]
        rows.extend((str(project.id), project.slug, project.name, dsn) for dsn in dsns)
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[3]]))
    return EXIT_OK


def _project_dsn(args: argparse.Namespace, settings: Settings) -> int:
    async def find(core: Resentry) -> Project:
        return await _find_project(core, args.project)

    project = _with_core(settings, find)
    dsns = _dsns(settings, project)
    if not dsns:
        raise CliError(f"project {project.slug!r} has no active key")
    _warn_without_public_url(settings)
    for line in dsns:
        print(line)
    return EXIT_OK


def _project_add_member(args: argparse.Namespace, settings: Settings) -> int:
    async def add(core: Resentry) -> tuple[Project, User]:
        project = await _find_project(core, args.project)
        user = await _find_user(core, args.user)
        await core.storage.add_member(project.id, user.id)
        return project, user

    project, user = _with_core(settings, add)
    print(f"{user.username!r} is now a member of project {project.id} ({project.slug})")
    return EXIT_OK


async def _find_project(core: Resentry, reference: str) -> Project:
    if reference.isdigit():
        with suppress(NotFoundError):
            return await core.storage.get_project(int(reference))
    for project in await core.storage.list_projects():
        if project.slug == reference:
            return project
    raise CliError(f"no project with id or slug {reference!r}")


async def _find_user(core: Resentry, reference: str) -> User:
    users = await core.storage.list_users()
    match = next((user for user in users if user.username == reference), None)
    if match is None and reference.isdigit():
        match = next((user for user in users if user.id == int(reference)), None)
    if match is None:
        raise CliError(f"no user with name or id {reference!r}")
    return match


def _dsns(settings: Settings, project: Project) -> list[str]:
    base_url = settings.public_url or DEFAULT_URL
    return [
        str(Dsn.build(base_url, key.public_key, project.id))
        for key in project.keys
        if key.is_active
    ]


def _warn_without_public_url(settings: Settings) -> None:
    if not settings.public_url:
        print(
            f"note: RESENTRY_PUBLIC_URL is not set; the DSN assumes {DEFAULT_URL}. Set it to "
            "the URL your SDKs reach this server at.",
            file=sys.stderr,
        )


def _with_core(settings: Settings, work: Callable[[Resentry], Awaitable[T]]) -> T:
    async def run() -> T:
        # An error raised inside the core's task group would leave it wrapped in an
        # ExceptionGroup; take it out of the ``async with`` and raise it as it is.
        failure: Exception | None = None
        async with Resentry.open(settings.to_core_config(worker=False)) as core:
            try:
                return await work(core)
            except Exception as exc:  # noqa: BLE001 - re-raised below, unwrapped
                failure = exc
        raise failure

    return anyio.run(run)


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


@contextmanager
def _exit_cleanly_on_signals() -> Iterator[None]:
    """Let SIGINT/SIGTERM end ``uvicorn.run`` gracefully and the process exit 0.

    Uvicorn drains in-flight requests and runs the lifespan shutdown, then re-raises the
    signal with the handler it found; with the default handler the process would then die of
    the signal (status -15, or a KeyboardInterrupt traceback). A no-op handler makes it exit 0.
    """
    saved = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """Receive a signal that uvicorn already handled."""
