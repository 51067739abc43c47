"""The storage interface: small Protocols at use-case granularity.

Every method is atomic: it either does all of its work or, raising, none of it.
:class:`~resentry_core._storage._memory.MemoryStorage` defines the semantics;
``SqlStorage`` must behave the same (``tests/core/test_storage_contract.py`` runs one suite
against both). Lists are paged with opaque cursors; ``limit`` is clamped to 1..500.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class EventFilter:
    """Which events ``list_events`` returns; ``None`` fields do not filter.

    ``project_ids=None`` means every project; an empty tuple means none.
    """

    project_ids: tuple[int, ...] | None = None
    issue_id: int | None = None
    type: str | None = None
    level: str | None = None
    release: str | None = None
    environment: str | None = None
    since: datetime | None = None  # received_at >= since
    until: datetime | None = None  # received_at < until


class IngestStore(Protocol):
    """What ingestion needs."""

    async def project_for_key(self, project_id: int, public_key: str) -> Project | None:
        """The project if ``public_key`` is an active key of project ``project_id``, else None.

        Implementations may cache answers for at most one second; their own key and project
        changes take effect at once.
        """
        ...

    async def record(self, batch: Sequence[PreparedEnvelope]) -> list[Recorded]:
        """Store a batch of envelopes in one transaction: all of them, or (raising) none.

        Per envelope, in order: if it carries events and the first event's
        ``(project_id, event_id)`` is already stored (earlier, or earlier in this batch), it is a
        duplicate and nothing of it is written. Otherwise the envelope, its items and every
        record are stored; each grouped event upserts its issue (``times_seen`` + 1, ``last_seen``,
        ``last_event_id``, ``level``; a resolved issue is reopened and reported as a
        regression; an ignored one stays ignored); sessions upsert by ``sid`` (a higher ``seq``
        wins); check-ins upsert their monitor (``monitor_config`` replaces its config) and
        replace an earlier check-in with the same ``check_in_id``; discard counts add up.
        Returns one :class:`Recorded` per envelope, in order.
        """
        ...

    async def prune(self, project_id: int, older_than: datetime) -> int:
        """Delete the project's envelopes received before ``older_than`` with all their data.

        Issues keep exact counters for what remains: ``times_seen``, ``first_seen``,
        ``last_seen`` and ``last_event_id`` are recomputed from the remaining events, and an issue
        left with no event is deleted. Returns the number of envelopes deleted.
        """
        ...


class ProjectStore(Protocol):
    """Projects, their keys and their members."""

    async def create_project(
        self,
        name: str,
        *,
        slug: str | None = None,
        allowed_origins: Sequence[str] = (),
        rate_limit_per_minute: int | None = None,
        retention_days: int | None = None,
    ) -> Project:
        """Create a project with one active key; the slug defaults to a slugified name.

        Raises:
            ConflictError: the slug is taken.
        """
        ...

    async def get_project(self, project_id: int) -> Project:
        """The project with its keys. Raises NotFoundError."""
        ...

    async def list_projects(self, *, user_id: int | None = None) -> list[Project]:
        """Every project (``user_id=None``) or those the user is a member of, by id."""
        ...

    async def update_project(
        self,
        project_id: int,
        *,
        name: str | None = None,
        allowed_origins: Sequence[str] | None = None,
        rate_limit_per_minute: int | None = None,
        retention_days: int | None = None,
    ) -> Project:
        """Change the given fields (``None``: unchanged). Raises NotFoundError."""
        ...

    async def delete_project(self, project_id: int) -> None:
        """Delete the project and everything it owns. Raises NotFoundError."""
        ...

    async def create_key(self, project_id: int, *, label: str = "") -> ProjectKey:
        """Add an active key (32 random lowercase hex). Raises NotFoundError."""
        ...

    async def list_keys(self, project_id: int) -> list[ProjectKey]:
        """The project's keys, active and revoked. Raises NotFoundError."""
        ...

    async def revoke_key(self, project_id: int, key_id: int) -> ProjectKey:
        """Deactivate a key of this project. Raises NotFoundError (also for another's key)."""
        ...

    async def add_member(
        self,
        project_id: int,
        user_id: int,
        *,
        min_level: Level = "error",
        notify_new_issues: bool = True,
        notify_regressions: bool = True,
    ) -> Member:
        """Add (or update) a membership. Raises NotFoundError for a missing project or user."""
        ...

    async def remove_member(self, project_id: int, user_id: int) -> None:
        """Remove a membership. Raises NotFoundError when there is none."""
        ...

    async def list_members(self, project_id: int) -> list[Member]:
        """The project's members, by user id. Raises NotFoundError."""
        ...

    async def is_member(self, project_id: int, user_id: int) -> bool:
        """Whether the user is a member of the project."""
        ...


class UserStore(Protocol):
    """Users of the management API."""

    async def create_user(
        self,
        username: str,
        password_hash: str,
        *,
        is_admin: bool = False,
        telegram_chat_id: str | None = None,
    ) -> User:
        """Create a user. Raises ConflictError when the username is taken."""
        ...

    async def get_user(self, user_id: int) -> User:
        """Raises NotFoundError."""
        ...

    async def get_credentials(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash, or None when there is no such user."""
        ...

    async def list_users(self) -> list[User]:
        """Every user, by id."""
        ...

    async def update_user(
        self,
        user_id: int,
        *,
        username: str | None = None,
        password_hash: str | None = None,
        is_admin: bool | None = None,
        is_active: bool | None = None,
        telegram_chat_id: str | None = None,
    ) -> User:
        """Change the given fields (``None``: unchanged).

        Raises:
            NotFoundError: no such user.
            ConflictError: the username is taken, or this would demote or deactivate the last
                active admin.
        """
        ...

    async def delete_user(self, user_id: int) -> None:
        """Delete a user and their memberships.

        Raises:
            NotFoundError: no such user.
            ConflictError: the user is the last active admin.
        """
        ...


class EventStore(Protocol):
    """Reading events, issues and the other kinds of stored data."""

    async def list_events(
        self, where: EventFilter, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Event]:
        """Matching events, newest received first. Raises InvalidInputError for a bad cursor."""
        ...

    async def get_event(self, project_id: int, event_id: str) -> EventDetail:
        """One event with its payload and attachments. Raises NotFoundError."""
        ...

    async def get_attachment(self, project_id: int, attachment_id: int) -> tuple[Attachment, bytes]:
        """An attachment and its exact bytes. Raises NotFoundError."""
        ...

    async def get_envelope(self, project_id: int, envelope_id: int) -> StoredEnvelope:
        """A stored envelope with its raw body. Raises NotFoundError."""
        ...

    async def list_items(
        self,
        project_id: int,
        *,
        type: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[StoredItem]:
        """Stored envelope items of the project (optionally one type), newest first."""
        ...

    async def get_item_payload(self, project_id: int, item_id: int) -> tuple[StoredItem, bytes]:
        """An item and its payload bytes. Raises NotFoundError."""
        ...

    async def list_issues(
        self,
        project_id: int,
        *,
        status: IssueStatus | None = None,
        sort: str = "last_seen",
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Issue]:
        """The project's issues; ``sort`` is ``last_seen``, ``first_seen`` or ``times_seen``
        (descending). Raises InvalidInputError for a bad sort or cursor."""
        ...

    async def get_issue(self, project_id: int, issue_id: int) -> Issue:
        """Raises NotFoundError (also for another project's issue)."""
        ...

    async def set_issue_status(self, project_id: int, issue_id: int, status: IssueStatus) -> Issue:
        """Resolve, ignore or reopen an issue. Raises NotFoundError."""
        ...

    async def release_health(self, project_id: int) -> list[ReleaseHealth]:
        """Session counts per release and environment, from ``session`` and ``sessions`` items.

        A session counts once in ``started``; once in ``errored`` if it ever reported errors
        or ended errored/crashed/abnormal; once in its terminal status (exited, crashed,
        abnormal). Aggregate buckets add their counts (``started`` = their sum).
        """
        ...

    async def list_monitors(self, project_id: int) -> list[Monitor]:
        """The project's cron monitors, by slug."""
        ...

    async def list_check_ins(
        self,
        project_id: int,
        monitor_slug: str,
        *,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[CheckIn]:
        """A monitor's check-ins, newest first. Raises NotFoundError for an unknown slug."""
        ...

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
        ...

    async def list_feedback(
        self, project_id: int, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Feedback]:
        """The project's user feedback, newest first."""
        ...

    async def discard_counters(self, project_id: int) -> list[DiscardCounter]:
        """What SDKs reported discarding, per reason and category."""
        ...


class Storage(IngestStore, ProjectStore, UserStore, EventStore, Protocol):
    """Everything Resentry stores."""

    async def ping(self) -> None:
        """Check the backend answers. Raises StorageError."""
        ...

    async def aclose(self) -> None:
        """Release connections. The storage is unusable afterwards."""
        ...
