"""MemoryStorage: the reference semantics of :class:`~resentry_core._storage._protocol.Storage`.

Plain dicts guarded by one :class:`anyio.Lock`, so every method is atomic; a write that raises
is rolled back through its :class:`~resentry_core._storage._memory_state.Journal`. Values
returned are frozen models with copied mappings, never the state itself. Nothing persists: use
it for tests, demos and embedding; ``SqlStorage`` is the durable backend.
"""

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

import anyio

from resentry_core._errors import StorageError
from resentry_core._models import (
    Attachment,
    CheckIn,
    DiscardCounter,
    Event,
    EventDetail,
    Feedback,
    Issue,
    IssueStatus,
    Level,
    LogEntry,
    Member,
    Monitor,
    Page,
    Project,
    ProjectKey,
    ReleaseHealth,
    StoredEnvelope,
    StoredItem,
    User,
)
from resentry_core._records import PreparedEnvelope, Recorded
from resentry_core._storage import _memory_admin as admin
from resentry_core._storage import _memory_read as read
from resentry_core._storage._memory_ingest import prune, record_envelope
from resentry_core._storage._memory_state import Journal, State
from resentry_core._storage._protocol import DEFAULT_PAGE_SIZE, EventFilter
from resentry_core._storage._values import UNSET, Unset

P = ParamSpec("P")
T = TypeVar("T")


def _record(state: State, journal: Journal, batch: Sequence[PreparedEnvelope]) -> list[Recorded]:
    return [record_envelope(state, journal, prepared) for prepared in batch]


def _set_issue_status(
    state: State, journal: Journal, project_id: int, issue_id: int, status: IssueStatus
) -> Issue:
    issue = replace(read.get_issue(state, project_id, issue_id), status=read.check_status(status))
    journal.put(state.issues, issue_id, issue)
    return issue


class MemoryStorage:
    """An in-memory :class:`~resentry_core._storage._protocol.Storage`."""

    def __init__(self) -> None:
        self._state = State()
        self._lock = anyio.Lock()
        self._closed = False
        self._used_refresh_tokens: dict[str, datetime] = {}
        self._login_failures: dict[str, tuple[int, datetime]] = {}

    async def _read(self, fn: Callable[Concatenate[State, P], T], *a: P.args, **k: P.kwargs) -> T:
        async with self._lock:
            self._check_open()
            return fn(self._state, *a, **k)

    async def _write(
        self, fn: Callable[Concatenate[State, Journal, P], T], *a: P.args, **k: P.kwargs
    ) -> T:
        async with self._lock:
            self._check_open()
            journal = Journal()
            try:
                return fn(self._state, journal, *a, **k)
            except BaseException:
                journal.rollback()
                raise

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the storage is closed")

    # Storage

    async def ping(self) -> None:
        """Check the storage answers. Raises StorageError once closed."""
        await self._read(lambda state: None)

    async def aclose(self) -> None:
        """Drop the data; every later call raises StorageError."""
        async with self._lock:
            self._closed = True
            self._state = State()

    # IngestStore

    async def project_for_key(self, project_id: int, public_key: str) -> Project | None:
        """The project if ``public_key`` is one of its active keys, else None."""
        return await self._read(admin.project_for_key, project_id, public_key)

    async def record(self, batch: Sequence[PreparedEnvelope]) -> list[Recorded]:
        """Store a batch of envelopes atomically; one :class:`Recorded` per envelope."""
        return await self._write(_record, batch)

    async def prune(self, project_id: int, older_than: datetime) -> int:
        """Delete the project's envelopes received before ``older_than`` with their data."""
        return await self._write(prune, project_id, older_than)

    # ProjectStore

    async def create_project(
        self,
        name: str,
        *,
        slug: str | None = None,
        allowed_origins: Sequence[str] = (),
        rate_limit_per_minute: int | None = None,
        retention_days: int | None = None,
    ) -> Project:
        """Create a project with one active key."""
        return await self._write(
            admin.create_project,
            name,
            slug=slug,
            allowed_origins=allowed_origins,
            rate_limit_per_minute=rate_limit_per_minute,
            retention_days=retention_days,
        )

    async def get_project(self, project_id: int) -> Project:
        """The project with its keys."""
        return await self._read(admin.get_project, project_id)

    async def list_projects(self, *, user_id: int | None = None) -> list[Project]:
        """Every project, or the user's, by id."""
        return await self._read(admin.list_projects, user_id)

    async def update_project(
        self,
        project_id: int,
        *,
        name: str | Unset = UNSET,
        allowed_origins: Sequence[str] | Unset = UNSET,
        rate_limit_per_minute: int | Unset | None = UNSET,
        retention_days: int | Unset | None = UNSET,
    ) -> Project:
        """Change the given fields."""
        return await self._write(
            admin.update_project,
            project_id,
            name=name,
            allowed_origins=allowed_origins,
            rate_limit_per_minute=rate_limit_per_minute,
            retention_days=retention_days,
        )

    async def delete_project(self, project_id: int) -> None:
        """Delete the project and everything it owns."""
        await self._write(admin.delete_project, project_id)

    async def create_key(self, project_id: int, *, label: str = "") -> ProjectKey:
        """Add an active key."""
        return await self._write(admin.create_key, project_id, label)

    async def list_keys(self, project_id: int) -> list[ProjectKey]:
        """The project's keys, by id."""
        return await self._read(admin.list_keys, project_id)

    async def revoke_key(self, project_id: int, key_id: int) -> ProjectKey:
        """Deactivate a key of this project."""
        return await self._write(admin.revoke_key, project_id, key_id)

    async def add_member(
        self,
        project_id: int,
        user_id: int,
        *,
        min_level: Level = "error",
        notify_new_issues: bool = True,
        notify_regressions: bool = True,
    ) -> Member:
        """Add or update a membership."""
        return await self._write(
            admin.add_member,
            project_id,
            user_id,
            min_level=min_level,
            notify_new_issues=notify_new_issues,
            notify_regressions=notify_regressions,
        )

    async def remove_member(self, project_id: int, user_id: int) -> None:
        """Remove a membership."""
        await self._write(admin.remove_member, project_id, user_id)

    async def list_members(self, project_id: int) -> list[Member]:
        """The project's members, by user id."""
        return await self._read(admin.list_members, project_id)

    async def is_member(self, project_id: int, user_id: int) -> bool:
        """Whether the user is a member of the project."""
        return await self._read(lambda state: (project_id, user_id) in state.members)

    # UserStore

    async def create_user(
        self,
        username: str,
        password_hash: str,
        *,
        is_admin: bool = False,
        telegram_chat_id: str | None = None,
    ) -> User:
        """Create an active user."""
        return await self._write(
            admin.create_user,
            username,
            password_hash,
            is_admin=is_admin,
            telegram_chat_id=telegram_chat_id,
        )

    async def get_user(self, user_id: int) -> User:
        """A user by id."""
        return (await self._read(admin.get_user_row, user_id)).user

    async def get_credentials(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash, or None."""
        return await self._read(admin.get_credentials, username)

    async def list_users(self) -> list[User]:
        """Every user, by id."""
        return await self._read(admin.list_users)

    async def update_user(
        self,
        user_id: int,
        *,
        username: str | Unset = UNSET,
        password_hash: str | Unset = UNSET,
        is_admin: bool | Unset = UNSET,
        is_active: bool | Unset = UNSET,
        telegram_chat_id: str | Unset | None = UNSET,
        end_sessions: bool = False,
    ) -> User:
        """Change the given fields."""
        return await self._write(
            admin.update_user,
            user_id,
            username=username,
            password_hash=password_hash,
            is_admin=is_admin,
            is_active=is_active,
            telegram_chat_id=telegram_chat_id,
            end_sessions=end_sessions,
        )

    async def delete_user(self, user_id: int) -> None:
        """Delete a user and their memberships."""
        await self._write(admin.delete_user, user_id)

    # SessionStore (kept per process: MemoryStorage serves one process only)

    async def end_sessions(self, user_id: int) -> None:
        """Raise the user's token generation."""
        await self.update_user(user_id, end_sessions=True)

    async def use_refresh_token(
        self, token_id: str, user_id: int, expires_at: datetime, *, now: datetime
    ) -> bool:
        """Record a refresh token as used; False when it was used before."""
        used = self._used_refresh_tokens
        for expired in [token for token, until in used.items() if until <= now]:
            del used[expired]
        if token_id in used:
            return False
        used[token_id] = expires_at
        return True

    async def login_failures(
        self, keys: Sequence[str], *, since: datetime
    ) -> dict[str, tuple[int, datetime]]:
        """Failed logins and window start per key, for current windows."""
        found = {key: self._login_failures.get(key) for key in keys}
        return {key: value for key, value in found.items() if value and value[1] > since}

    async def record_login_failure(
        self, keys: Sequence[str], *, now: datetime, since: datetime
    ) -> None:
        """Count a failed login for each key (expired windows begin again)."""
        current = await self.login_failures(list(self._login_failures), since=since)
        for key in keys:
            failures, start = current.get(key, (0, now))
            current[key] = (failures + 1, start)
        self._login_failures = current

    async def clear_login_failures(self, key: str) -> None:
        """Forget a key's failed logins."""
        self._login_failures.pop(key, None)

    # EventStore

    async def list_events(
        self, where: EventFilter, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Event]:
        """Matching events, newest received first."""
        return await self._read(read.list_events, where, cursor, limit)

    async def get_event(self, project_id: int, event_id: str) -> EventDetail:
        """One event with its payload and attachments."""
        return await self._read(read.get_event, project_id, event_id)

    async def get_attachment(self, project_id: int, attachment_id: int) -> tuple[Attachment, bytes]:
        """An attachment and its exact bytes."""
        return await self._read(read.get_attachment, project_id, attachment_id)

    async def get_envelope(self, project_id: int, envelope_id: int) -> StoredEnvelope:
        """A stored envelope with its raw body."""
        return await self._read(read.get_envelope, project_id, envelope_id)

    async def list_items(
        self,
        project_id: int,
        *,
        type: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[StoredItem]:
        """Stored items of the project, newest received first."""
        return await self._read(read.list_items, project_id, type, cursor, limit)

    async def get_item_payload(self, project_id: int, item_id: int) -> tuple[StoredItem, bytes]:
        """An item and its payload bytes."""
        return await self._read(read.get_item_payload, project_id, item_id)

    async def list_issues(
        self,
        project_id: int,
        *,
        status: IssueStatus | None = None,
        sort: str = "last_seen",
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Issue]:
        """The project's issues in ``sort`` order (descending)."""
        return await self._read(read.list_issues, project_id, status, sort, cursor, limit)

    async def get_issue(self, project_id: int, issue_id: int) -> Issue:
        """One issue of the project."""
        return await self._read(read.get_issue, project_id, issue_id)

    async def set_issue_status(self, project_id: int, issue_id: int, status: IssueStatus) -> Issue:
        """Resolve, ignore or reopen an issue."""
        return await self._write(_set_issue_status, project_id, issue_id, status)

    async def release_health(self, project_id: int) -> list[ReleaseHealth]:
        """Session counts per release and environment."""
        return await self._read(read.release_health, project_id)

    async def list_monitors(self, project_id: int) -> list[Monitor]:
        """The project's cron monitors, by slug."""
        return await self._read(read.list_monitors, project_id)

    async def list_check_ins(
        self,
        project_id: int,
        monitor_slug: str,
        *,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[CheckIn]:
        """A monitor's check-ins, newest first."""
        return await self._read(read.list_check_ins, project_id, monitor_slug, cursor, limit)

    async def list_logs(
        self,
        project_id: int,
        *,
        level: str | None = None,
        trace_id: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[LogEntry]:
        """The project's log records, newest timestamp first."""
        return await self._read(read.list_logs, project_id, level, trace_id, cursor, limit)

    async def list_feedback(
        self, project_id: int, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Feedback]:
        """The project's user feedback, newest first."""
        return await self._read(read.list_feedback, project_id, cursor, limit)

    async def discard_counters(self, project_id: int) -> list[DiscardCounter]:
        """What SDKs reported discarding, per reason and category."""
        return await self._read(read.discard_counters, project_id)
