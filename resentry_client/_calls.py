"""Every management API operation, written once as a pure request builder.

A builder takes the operation's arguments and returns a :class:`Call` (one request and the
parser of its answer) or a :class:`ListCall` (a paged list). It does no I/O: ``Client`` and
``AsyncClient`` run the same calls (see ``_resources.py``), so an endpoint cannot drift
between them.
"""

import enum
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import IO, Any, Final, Generic, Literal, Protocol, TypeVar
from urllib.parse import quote

from resentry_client._models import (
    Channel,
    CheckIn,
    CreatedChannel,
    Delivery,
    DiscardCounter,
    Download,
    Event,
    EventDetail,
    Feedback,
    Health,
    Issue,
    LogRecord,
    Member,
    Monitor,
    Page,
    Project,
    ProjectKey,
    ReleaseHealth,
    Rule,
    StoredItem,
    Tokens,
    User,
    parse,
    parse_page,
)

T = TypeVar("T")

Destination = str | os.PathLike[str] | IO[bytes]
"""Where a download goes: a file path, an existing directory (the server's file name is used
inside it), or a binary stream opened for writing."""

Level = Literal["debug", "info", "warning", "error", "fatal"]
IssueStatus = Literal["unresolved", "resolved", "ignored"]
IssueSort = Literal["last_seen", "first_seen", "times_seen"]
ChannelKind = Literal["telegram", "email", "webhook"]
WebhookFlavor = Literal["resentry", "slack", "discord"]
Trigger = Literal[
    "new_issue", "regression", "level", "monitor_missed", "monitor_failed", "monitor_timeout"
]


class NotGiven(enum.Enum):
    """The type of :data:`NOT_GIVEN`: "leave this field out", as opposed to ``None`` (null)."""

    NOT_GIVEN = enum.auto()

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN
"""Leave a field out of an update (it keeps its value); ``None`` sends null (clears it)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Generic[T]):
    """One request and how to read its answer.

    Attributes:
        method: the HTTP method.
        path: the path below the server's base URL, or an absolute URL.
        parse: reads the decoded JSON body (``None`` for an empty body) into the result.
        params: query parameters (``None`` values are left out).
        json: the JSON body, if any.
        authenticated: send the access token (and refresh it once on 401).
        tokens: what the answer does to the client's tokens: ``"store"`` the pair it
            returns, ``"forget"`` them, or ``None``.
        uses_refresh_token: send ``{"refresh_token": ...}`` with the client's refresh
            token when ``json`` is None.
        destination: stream the answer's bytes there instead of parsing JSON.
        raw: with ``destination``, write the bytes as sent (without undoing a
            ``Content-Encoding``).
    """

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    authenticated: bool = True
    tokens: Literal["store", "forget"] | None = None
    uses_refresh_token: bool = False
    destination: Destination | None = None
    raw: bool = False

    @property
    def idempotent(self) -> bool:
        """Whether sending the request twice does what sending it once does (RFC 9110 9.2.2)."""
        return self.method in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListCall(Generic[T]):
    """A paged list: the call of its first page, followed through ``next_cursor``.

    Attributes:
        first: the call of the first page (its params carry ``limit``).
        max_items: stop after this many items in all (None: the whole list).
    """

    first: Call[Page[T]]
    max_items: int | None = None

    def page(self, cursor: str | None) -> Call[Page[T]]:
        """The call of the page at ``cursor`` (None: the first)."""
        if cursor is None:
            return self.first
        return replace(self.first, params={**self.first.params, "cursor": cursor})


def _list(
    model: type[T],
    path: str,
    *,
    limit: int | None,
    max_items: int | None,
    params: Mapping[str, Any] | None = None,
) -> ListCall[T]:
    if max_items is not None and max_items < 0:
        raise ValueError(f"max_items must be 0 or more, got {max_items}")
    query = {**(params or {}), "limit": limit}
    first = Call(method="GET", path=path, params=query, parse=lambda body: parse_page(model, body))
    return ListCall(first=first, max_items=max_items)


def _project_path(project_id: int) -> str:
    return f"/api/v1/projects/{_seg(project_id)}"


def _project_item(project_id: int, collection: str, item_id: object) -> str:
    return f"{_project_path(project_id)}/{collection}/{_seg(item_id)}"


class ProjectList(Protocol[T]):
    """The builder of a plain list of a project's objects."""

    def __call__(
        self, project_id: int, *, limit: int | None = None, max_items: int | None = None
    ) -> ListCall[T]: ...


def _project_list(model: type[T], segment: str, doc: str) -> ProjectList[T]:
    def build(
        project_id: int, *, limit: int | None = None, max_items: int | None = None
    ) -> ListCall[T]:
        path = f"{_project_path(project_id)}/{segment}"
        return _list(model, path, limit=limit, max_items=max_items)

    build.__doc__ = doc
    build.__name__ = build.__qualname__ = "list_" + segment.strip("/").replace("-", "_")
    return build


def _get(model: type[T], path: str, **params: Any) -> Call[T]:
    return Call(method="GET", path=path, params=params, parse=lambda body: parse(model, body))


def _send(method: str, model: type[T], path: str, body: Mapping[str, Any]) -> Call[T]:
    # Fields left NOT_GIVEN are not sent; None is sent as null.
    sent = {name: value for name, value in body.items() if value is not NOT_GIVEN}
    return Call(method=method, path=path, json=sent, parse=lambda data: parse(model, data))


def _no_content(path: str) -> Call[None]:
    return Call(method="DELETE", path=path, parse=lambda _: None)


def _download(path: str, destination: Destination, *, raw: bool = False) -> Call[Download]:
    # The body is streamed to the destination, never parsed; the result is the Download.
    return Call(method="GET", path=path, parse=_unparsed, destination=destination, raw=raw)


def _unparsed(_: object) -> Download:
    raise ValueError("a download has no JSON body")


def _seg(value: object) -> str:
    return quote(str(value), safe="")


def _when(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


# --- service and auth ---------------------------------------------------------------------------


def health() -> Call[Health]:
    """Liveness and database check (no login needed)."""
    return Call(
        method="GET", path="/health/", authenticated=False, parse=lambda b: parse(Health, b)
    )


def login(username: str, password: str) -> Call[Tokens]:
    """Log in; the client keeps the token pair and sends it from then on."""
    return Call(
        method="POST",
        path="/api/v1/auth/login",
        json={"username": username, "password": password},
        authenticated=False,
        tokens="store",
        parse=lambda b: parse(Tokens, b),
    )


def refresh(refresh_token: str | None = None) -> Call[Tokens]:
    """Exchange a refresh token (by default the client's) for a new pair, which the client keeps."""
    return Call(
        method="POST",
        path="/api/v1/auth/refresh_token",
        json=None if refresh_token is None else {"refresh_token": refresh_token},
        uses_refresh_token=refresh_token is None,
        authenticated=False,
        tokens="store",
        parse=lambda b: parse(Tokens, b),
    )


def logout() -> Call[None]:
    """End every token of the caller on the server (every device); the client forgets its pair."""
    return Call(method="POST", path="/api/v1/auth/logout", tokens="forget", parse=lambda _: None)


def me() -> Call[User]:
    """The user the access token belongs to."""
    return _get(User, "/api/v1/auth/me")


# --- users --------------------------------------------------------------------------------------


def list_users(*, limit: int | None = None, max_items: int | None = None) -> ListCall[User]:
    """Every user, by id (admins only)."""
    return _list(User, "/api/v1/users/", limit=limit, max_items=max_items)


def get_user(user_id: int) -> Call[User]:
    """A user (admins: anyone; others: themself)."""
    return _get(User, f"/api/v1/users/{_seg(user_id)}")


def create_user(
    username: str,
    password: str,
    *,
    is_admin: bool = False,
    telegram_chat_id: str | NotGiven | None = NOT_GIVEN,
    email: str | NotGiven | None = NOT_GIVEN,
) -> Call[User]:
    """Create a user (admins only); ``telegram_chat_id`` and ``email`` are where the user's
    notifications go."""
    body = {
        "username": username,
        "password": password,
        "is_admin": is_admin,
        "telegram_chat_id": telegram_chat_id,
        "email": email,
    }
    return _send("POST", User, "/api/v1/users/", body)


def update_user(
    user_id: int,
    *,
    username: str | NotGiven = NOT_GIVEN,
    password: str | NotGiven = NOT_GIVEN,
    current_password: str | NotGiven = NOT_GIVEN,
    is_admin: bool | NotGiven = NOT_GIVEN,
    is_active: bool | NotGiven = NOT_GIVEN,
    telegram_chat_id: str | NotGiven | None = NOT_GIVEN,
    email: str | NotGiven | None = NOT_GIVEN,
) -> Call[User]:
    """Change the given fields of a user; ``current_password`` with one's own new password;
    ``None`` (or ``""``) clears ``telegram_chat_id`` or ``email``."""
    body = {
        "username": username,
        "password": password,
        "current_password": current_password,
        "is_admin": is_admin,
        "is_active": is_active,
        "telegram_chat_id": telegram_chat_id,
        "email": email,
    }
    return _send("PATCH", User, f"/api/v1/users/{_seg(user_id)}", body)


def delete_user(user_id: int) -> Call[None]:
    """Delete a user and their memberships (admins only)."""
    return _no_content(f"/api/v1/users/{_seg(user_id)}")


# --- projects, keys, members --------------------------------------------------------------------


def list_projects(*, limit: int | None = None, max_items: int | None = None) -> ListCall[Project]:
    """The projects the caller may see, by id."""
    return _list(Project, "/api/v1/projects/", limit=limit, max_items=max_items)


def get_project(project_id: int) -> Call[Project]:
    """A project with its keys and DSNs."""
    return _get(Project, _project_path(project_id))


def create_project(
    name: str,
    *,
    slug: str | NotGiven = NOT_GIVEN,
    allowed_origins: list[str] | NotGiven = NOT_GIVEN,
    rate_limit_per_minute: int | NotGiven | None = NOT_GIVEN,
    retention_days: int | NotGiven | None = NOT_GIVEN,
) -> Call[Project]:
    """Create a project with one active key (admins only)."""
    body = {
        "name": name,
        "slug": slug,
        "allowed_origins": allowed_origins,
        "rate_limit_per_minute": rate_limit_per_minute,
        "retention_days": retention_days,
    }
    return _send("POST", Project, "/api/v1/projects/", body)


def update_project(
    project_id: int,
    *,
    name: str | NotGiven = NOT_GIVEN,
    allowed_origins: list[str] | NotGiven = NOT_GIVEN,
    rate_limit_per_minute: int | NotGiven | None = NOT_GIVEN,
    retention_days: int | NotGiven | None = NOT_GIVEN,
) -> Call[Project]:
    """Change the given fields of a project (admins only); ``None`` clears a limit."""
    body = {
        "name": name,
        "allowed_origins": allowed_origins,
        "rate_limit_per_minute": rate_limit_per_minute,
        "retention_days": retention_days,
    }
    return _send("PATCH", Project, _project_path(project_id), body)


def delete_project(project_id: int) -> Call[None]:
    """Delete a project with all its data (admins only)."""
    return _no_content(_project_path(project_id))


list_keys = _project_list(ProjectKey, "keys/", "A project's keys, active and revoked.")


def create_key(project_id: int, *, label: str = "") -> Call[ProjectKey]:
    """Add an active key to a project (admins only)."""
    path = _project_path(project_id) + "/keys/"
    return _send("POST", ProjectKey, path, {"label": label})


def revoke_key(project_id: int, key_id: int) -> Call[ProjectKey]:
    """Revoke a key (admins only); it stays listed, inactive."""
    path = _project_item(project_id, "keys", key_id)
    return Call(method="DELETE", path=path, parse=lambda b: parse(ProjectKey, b))


list_members = _project_list(Member, "members/", "A project's members.")


def add_member(
    project_id: int,
    *,
    user_id: int | NotGiven = NOT_GIVEN,
    username: str | NotGiven = NOT_GIVEN,
    min_level: Level | NotGiven = NOT_GIVEN,
    notify_new_issues: bool | NotGiven = NOT_GIVEN,
    notify_regressions: bool | NotGiven = NOT_GIVEN,
) -> Call[Member]:
    """Add a member by ``user_id`` or ``username`` (exactly one), or update their settings."""
    body = {
        "user_id": user_id,
        "username": username,
        "min_level": min_level,
        "notify_new_issues": notify_new_issues,
        "notify_regressions": notify_regressions,
    }
    return _send("POST", Member, _project_path(project_id) + "/members/", body)


def update_member(
    project_id: int,
    user_id: int,
    *,
    min_level: Level | NotGiven = NOT_GIVEN,
    notify_new_issues: bool | NotGiven = NOT_GIVEN,
    notify_regressions: bool | NotGiven = NOT_GIVEN,
) -> Call[Member]:
    """Change a member's notification settings (at least one): a member their own, an admin
    anyone's."""
    body = {
        "min_level": min_level,
        "notify_new_issues": notify_new_issues,
        "notify_regressions": notify_regressions,
    }
    return _send("PATCH", Member, _project_item(project_id, "members", user_id), body)


def remove_member(project_id: int, user_id: int) -> Call[None]:
    """Remove a member (admins only)."""
    return _no_content(_project_item(project_id, "members", user_id))


# --- notifications: channels, rules, the delivery log -------------------------------------------


list_channels = _project_list(
    Channel, "channels/", "A project's notification channels, by id (admins only; no secrets)."
)


def get_channel(project_id: int, channel_id: int) -> Call[Channel]:
    """One channel (admins only)."""
    return _get(Channel, _project_item(project_id, "channels", channel_id))


def create_channel(
    project_id: int,
    name: str,
    kind: ChannelKind,
    target: str,
    *,
    flavor: WebhookFlavor | NotGiven = NOT_GIVEN,
) -> Call[CreatedChannel]:
    """Create a channel (admins only). ``target``: a Telegram chat id, comma-separated e-mail
    addresses, or a webhook's ``http(s)`` URL (public addresses only, unless the server allows
    private ones). A webhook's ``secret`` is in this answer only."""
    body = {"name": name, "kind": kind, "target": target, "flavor": flavor}
    return _send("POST", CreatedChannel, _project_path(project_id) + "/channels/", body)


def update_channel(
    project_id: int,
    channel_id: int,
    *,
    name: str | NotGiven = NOT_GIVEN,
    target: str | NotGiven = NOT_GIVEN,
    flavor: WebhookFlavor | NotGiven = NOT_GIVEN,
) -> Call[Channel]:
    """Change the given fields of a channel (admins only); targets are checked as on creation."""
    body = {"name": name, "target": target, "flavor": flavor}
    return _send("PATCH", Channel, _project_item(project_id, "channels", channel_id), body)


def delete_channel(project_id: int, channel_id: int) -> Call[None]:
    """Delete a channel with its rules and delivery log (admins only)."""
    return _no_content(_project_item(project_id, "channels", channel_id))


def queue_test_message(project_id: int, channel_id: int) -> Call[Delivery]:
    """Queue a test message to a channel (admins only); the server's worker sends it and the
    delivery log shows how it went."""
    path = _project_item(project_id, "channels", channel_id) + "/test"
    return Call(method="POST", path=path, parse=lambda b: parse(Delivery, b))


list_rules = _project_list(Rule, "rules/", "A project's notification rules, by id (admins only).")


def create_rule(
    project_id: int,
    channel_id: int,
    trigger: Trigger,
    *,
    min_level: Level | NotGiven = NOT_GIVEN,
    environment: str | NotGiven | None = NOT_GIVEN,
) -> Call[Rule]:
    """Add a rule to a channel of the project (admins only); ``min_level`` is ``error`` unless
    given. A channel with no rule gets new issues, regressions and monitor alerts; once it has
    rules, only what they name."""
    body = {
        "channel_id": channel_id,
        "trigger": trigger,
        "min_level": min_level,
        "environment": environment,
    }
    return _send("POST", Rule, _project_path(project_id) + "/rules/", body)


def update_rule(
    project_id: int,
    rule_id: int,
    *,
    channel_id: int | NotGiven = NOT_GIVEN,
    trigger: Trigger | NotGiven = NOT_GIVEN,
    min_level: Level | NotGiven = NOT_GIVEN,
    environment: str | NotGiven | None = NOT_GIVEN,
) -> Call[Rule]:
    """Change the given fields of a rule (admins only; at least one); ``environment=None``
    clears its environment filter."""
    body = {
        "channel_id": channel_id,
        "trigger": trigger,
        "min_level": min_level,
        "environment": environment,
    }
    return _send("PATCH", Rule, _project_item(project_id, "rules", rule_id), body)


def delete_rule(project_id: int, rule_id: int) -> Call[None]:
    """Delete a rule (admins only)."""
    return _no_content(_project_item(project_id, "rules", rule_id))


def list_deliveries(
    project_id: int,
    *,
    channel_id: int | None = None,
    limit: int | None = None,
    max_items: int | None = None,
) -> ListCall[Delivery]:
    """The delivery log, newest first (admins only), optionally of one channel."""
    path = _project_path(project_id) + "/deliveries/"
    params = {"channel_id": channel_id}
    return _list(Delivery, path, limit=limit, max_items=max_items, params=params)


# --- events, downloads --------------------------------------------------------------------------


def _event_filters(
    level: Level | None,
    issue_id: int | None,
    release: str | None,
    environment: str | None,
    type: str | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any]:
    return {
        "level": level,
        "issue_id": issue_id,
        "release": release,
        "environment": environment,
        "type": type,
        "since": _when(since),
        "until": _when(until),
    }


def list_events(
    project_id: int,
    *,
    level: Level | None = None,
    issue_id: int | None = None,
    release: str | None = None,
    environment: str | None = None,
    type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    max_items: int | None = None,
) -> ListCall[Event]:
    """A project's events, newest received first; ``since``/``until`` bound ``received_at``
    (naive datetimes are read as UTC)."""
    filters = _event_filters(level, issue_id, release, environment, type, since, until)
    path = _project_path(project_id) + "/events/"
    return _list(Event, path, limit=limit, max_items=max_items, params=filters)


def list_all_events(
    *,
    level: Level | None = None,
    issue_id: int | None = None,
    release: str | None = None,
    environment: str | None = None,
    type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    max_items: int | None = None,
) -> ListCall[Event]:
    """The events of every project the caller sees, with the same filters."""
    filters = _event_filters(level, issue_id, release, environment, type, since, until)
    path = "/api/v1/projects/events"
    return _list(Event, path, limit=limit, max_items=max_items, params=filters)


def get_event(project_id: int, event_id: str) -> Call[EventDetail]:
    """An event with its payload, attachments and envelope URL."""
    return _get(EventDetail, _project_item(project_id, "events", event_id))


def download_attachment(
    project_id: int, attachment_id: int, destination: Destination
) -> Call[Download]:
    """Stream an attachment's exact bytes to ``destination``."""
    path = _project_path(project_id) + f"/attachments/{_seg(attachment_id)}"
    return _download(path, destination)


def download_envelope(
    project_id: int, envelope_id: int, destination: Destination, *, raw: bool = False
) -> Call[Download]:
    """Stream an event's envelope to ``destination``; ``raw=True`` keeps the bytes as the SDK
    sent them (still compressed if it compressed them)."""
    path = _project_path(project_id) + f"/envelopes/{_seg(envelope_id)}"
    return _download(path, destination, raw=raw)


# --- issues -------------------------------------------------------------------------------------


def list_issues(
    project_id: int,
    *,
    status: IssueStatus | None = None,
    sort: IssueSort | None = None,
    limit: int | None = None,
    max_items: int | None = None,
) -> ListCall[Issue]:
    """A project's issues, optionally of one status; sorted by ``sort``, descending."""
    path = _project_path(project_id) + "/issues/"
    params = {"status": status, "sort": sort}
    return _list(Issue, path, limit=limit, max_items=max_items, params=params)


def get_issue(project_id: int, issue_id: int) -> Call[Issue]:
    """One issue."""
    return _get(Issue, _project_item(project_id, "issues", issue_id))


def set_issue_status(project_id: int, issue_id: int, status: IssueStatus) -> Call[Issue]:
    """Set an issue's status: ``resolved``, ``ignored`` or ``unresolved``."""
    path = _project_item(project_id, "issues", issue_id)
    return _send("PUT", Issue, path, {"status": status})  # PUT: safe to retry


def resolve_issue(project_id: int, issue_id: int) -> Call[Issue]:
    """Resolve an issue (a new event of it reopens it as a regression)."""
    return set_issue_status(project_id, issue_id, "resolved")


def ignore_issue(project_id: int, issue_id: int) -> Call[Issue]:
    """Ignore an issue (it stays ignored when new events come)."""
    return set_issue_status(project_id, issue_id, "ignored")


def reopen_issue(project_id: int, issue_id: int) -> Call[Issue]:
    """Reopen an issue (status ``unresolved``)."""
    return set_issue_status(project_id, issue_id, "unresolved")


def list_issue_events(
    project_id: int, issue_id: int, *, limit: int | None = None, max_items: int | None = None
) -> ListCall[Event]:
    """An issue's events, newest first."""
    path = _project_path(project_id) + f"/issues/{_seg(issue_id)}/events/"
    return _list(Event, path, limit=limit, max_items=max_items)


# --- other data ---------------------------------------------------------------------------------


list_release_health = _project_list(
    ReleaseHealth, "sessions/", "Release health: session counts per release and environment."
)


list_monitors = _project_list(Monitor, "monitors/", "A project's cron monitors, by slug.")


def list_check_ins(
    project_id: int,
    monitor_slug: str,
    *,
    limit: int | None = None,
    max_items: int | None = None,
) -> ListCall[CheckIn]:
    """A monitor's check-ins, newest first."""
    path = _project_path(project_id) + f"/monitors/{_seg(monitor_slug)}/check-ins/"
    return _list(CheckIn, path, limit=limit, max_items=max_items)


def list_logs(
    project_id: int,
    *,
    level: str | None = None,
    trace_id: str | None = None,
    limit: int | None = None,
    max_items: int | None = None,
) -> ListCall[LogRecord]:
    """A project's log records, newest first, optionally of one level or trace."""
    path = _project_path(project_id) + "/logs/"
    params = {"level": level, "trace_id": trace_id}
    return _list(LogRecord, path, limit=limit, max_items=max_items, params=params)


list_feedback = _project_list(Feedback, "feedback/", "User feedback, newest first.")


list_client_reports = _project_list(
    DiscardCounter, "client-reports/", "What SDKs reported discarding, per reason and category."
)


def list_items(
    project_id: int,
    *,
    type: str | None = None,
    limit: int | None = None,
    max_items: int | None = None,
) -> ListCall[StoredItem]:
    """Every stored envelope item (optionally of one type), newest first."""
    path = _project_path(project_id) + "/items/"
    return _list(StoredItem, path, limit=limit, max_items=max_items, params={"type": type})


def download_item(project_id: int, item_id: int, destination: Destination) -> Call[Download]:
    """Stream an item's payload bytes to ``destination``."""
    path = _project_path(project_id) + f"/items/{_seg(item_id)}/payload"
    return _download(path, destination)
