"""The storage interface, and the extension point for other backends: small Protocols at
use-case granularity (:class:`IngestStore`, :class:`ProjectStore`, :class:`UserStore`,
:class:`EventStore`; :class:`Storage` is all four).

:class:`~resentry_core._storage._sql.SqlStorage` implements it on SQLite (a file, or
``memory://``) and PostgreSQL. Another backend implements these methods with the semantics
documented here, and proves it by joining the ``storage`` fixture of ``tests/core/conftest.py``:
``tests/core/test_storage_contract_*.py`` run one suite against every backend. A backend stores
and reads; the domain rules that decide whether a change is allowed live in the core services
that call it.

Every method is atomic: it either does all of its work or, raising, none of it.

Rules shared by every method:

- Lists are paged with opaque cursors (``_cursor.py``); ``limit`` is clamped to 1..500. A
  "newest first" list is ordered by its time descending, ties by id descending; the next page
  holds the items strictly after the cursor, so items arriving meanwhile never shift a walk.
  ``next_cursor`` is ``None`` exactly when no item follows.
- Lists of an unknown project are empty, unless the method says it raises NotFoundError.
- Ids are positive integers, never reused (a deleted project's id never comes back).
- Datetimes passed in must be timezone-aware (else InvalidInputError); those returned are UTC.
- Returned values never alias the storage's state: mutating a returned mapping changes nothing
  stored, and neither does mutating a mapping after it was passed in.
"""

from collections.abc import Callable, Sequence
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
from resentry_core._storage._values import UNSET, Unset

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50

AdminCheck = Callable[[Sequence[int]], None]
"""A rule a user change must pass (``UserStore.update_user``/``delete_user``): called inside the
change's transaction with the ids of every active admin, by id, which no concurrent change can
alter before the transaction ends; what it raises aborts the change."""


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
        record are stored (a later event of the envelope whose id is already stored is skipped:
        event ids are unique per project). Then:

        - Each grouped event (``fingerprint`` set) upserts the project's issue of that
          fingerprint. A new issue takes the event's title, culprit and level. Every event adds
          1 to ``times_seen``; ``first_seen``/``last_seen`` are the earliest/latest
          ``received_at`` of its events; ``last_event_id`` and ``level`` follow the latest
          received event (on a tie, the one recorded later). The status follows
          ``_rules.status_after_event``: a resolved issue is reopened (``unresolved``) and
          reported as a regression; an ignored one stays ignored.
          ``Recorded.issue_id``/``new_issue``/``regression`` describe the envelope's first
          grouped event.
        - Sessions upsert by ``(project, sid)``: an update whose ``seq`` is at least the stored
          one replaces release, environment and status; a lower one arriving late changes
          nothing, except that a session that ever reported errors (``errors > 0`` or status
          errored/crashed/abnormal) stays errored.
        - A check-in upserts its monitor by ``(project, monitor_slug)``: created on first
          sight (config ``None`` unless ``monitor_config``), ``monitor_config`` replaces the
          config. A check-in with the same ``check_in_id`` on that monitor is updated in place
          (a nil id, 32 zeros, never matches): it keeps its id and ``timestamp``, takes the new
          status, the new duration (when absent and the status is not ``in_progress``: the
          seconds since its ``timestamp``), and environment, release and trace id when given.
          The monitor's ``last_check_in``/``last_status`` follow the latest check-in
          timestamp seen.
        - Logs, feedback and discard counts are stored per envelope (counts add up on read).

        Returns one :class:`Recorded` per envelope, in order.

        Raises:
            NotFoundError: an envelope's project does not exist.
            InvalidInputError: a record names an item position the envelope does not have, or
                a datetime is naive.
        """
        ...

    async def prune(self, project_id: int, older_than: datetime) -> int:
        """Delete the project's envelopes received before ``older_than`` with all their data.

        "All their data": items, events, attachments, logs, feedback and discard counts of those
        envelopes, and the sessions and check-ins those envelopes last wrote. Monitors stay.
        Issues keep exact counters for what remains: ``times_seen``, ``first_seen``,
        ``last_seen`` and ``last_event_id`` are recomputed from the remaining events, and an issue
        left with no event is deleted. Returns the number of envelopes deleted (0 for an unknown
        project).
        """
        ...


class ProjectStore(Protocol):
    """Projects, their keys and their members."""

    async def create_project(
        self,
        name: str,
        *,
        slug: str,
        allowed_origins: Sequence[str] = (),
        rate_limit_per_minute: int | None = None,
        retention_days: int | None = None,
    ) -> Project:
        """Create a project, as given, with one active key labelled ``Default``.

        The values are stored as they are (``Projects`` checks them first).

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
        name: str | Unset = UNSET,
        allowed_origins: Sequence[str] | Unset = UNSET,
        rate_limit_per_minute: int | Unset | None = UNSET,
        retention_days: int | Unset | None = UNSET,
    ) -> Project:
        """Change the fields given (:data:`UNSET`: unchanged), as given; the slug never changes.

        ``None`` clears a limit: no rate limit, or events kept forever. Raises NotFoundError.
        """
        ...

    async def delete_project(self, project_id: int) -> None:
        """Delete the project and everything it owns. Raises NotFoundError."""
        ...

    async def create_key(self, project_id: int, *, label: str = "") -> ProjectKey:
        """Add an active key (32 random lowercase hex, unique). Raises NotFoundError."""
        ...

    async def list_keys(self, project_id: int) -> list[ProjectKey]:
        """The project's keys, active and revoked. Raises NotFoundError."""
        ...

    async def revoke_key(self, project_id: int, key_id: int) -> ProjectKey:
        """Deactivate a key of this project (again: no change).

        Raises NotFoundError (also for another project's key).
        """
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
        email: str | None = None,
    ) -> User:
        """Create an active user, as given.

        Usernames are compared case-insensitively after NFKC, and a name whose Unicode TR 39
        skeleton equals another user's is taken too (``resentry_core._usernames``).

        Raises ConflictError when the username, or one it can be confused with, is taken.
        """
        ...

    async def get_user(self, user_id: int) -> User:
        """Raises NotFoundError."""
        ...

    async def get_credentials(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash, or None when there is no such user.

        The username is compared case-insensitively after NFKC.
        """
        ...

    async def list_users(self) -> list[User]:
        """Every user, by id."""
        ...

    async def update_user(
        self,
        user_id: int,
        *,
        username: str | Unset = UNSET,
        password_hash: str | Unset = UNSET,
        is_admin: bool | Unset = UNSET,
        is_active: bool | Unset = UNSET,
        telegram_chat_id: str | Unset | None = UNSET,
        email: str | Unset | None = UNSET,
        end_sessions: bool = False,
        check: AdminCheck | None = None,
    ) -> User:
        """Change the fields given (:data:`UNSET`: unchanged), once ``check`` passes.

        ``telegram_chat_id=None`` (or ``""``) clears the chat id; ``email`` likewise;
        ``end_sessions`` raises the
        user's token generation in the same transaction.

        Raises:
            NotFoundError: no such user.
            ConflictError: the username is taken.
            Exception: whatever ``check`` raises; nothing changes.
        """
        ...

    async def delete_user(self, user_id: int, *, check: AdminCheck | None = None) -> None:
        """Delete a user and their memberships, once ``check`` passes.

        Raises:
            NotFoundError: no such user.
            Exception: whatever ``check`` raises; nothing changes.
        """
        ...


class SessionStore(Protocol):
    """What ends tokens and throttles logins, shared by every process on the database."""

    async def end_sessions(self, user_id: int) -> None:
        """Raise the user's token generation, ending every token issued before.

        Raises:
            NotFoundError: no such user.
        """
        ...

    async def use_refresh_token(
        self,
        token_id: str,
        user_id: int,
        expires_at: datetime,
        *,
        now: datetime,
        grace_since: datetime | None = None,
    ) -> bool:
        """Record a refresh token as used at ``now``, until it expires. Of concurrent first
        uses, exactly one is the first, in every process on the database.

        Args:
            grace_since: when given, a token first used after this instant counts as unused
                again (the first use's time stays); None: a token is used once.

        Returns:
            ``False`` when it had been used before (nothing changes), else ``True``.
        """
        ...

    async def login_failures(
        self, keys: Sequence[str], *, since: datetime
    ) -> dict[str, tuple[int, datetime]]:
        """Failed logins and the window's first failure, per key whose window began after
        ``since``."""
        ...

    async def record_login_failure(
        self, keys: Sequence[str], *, now: datetime, since: datetime
    ) -> None:
        """Count a failed login for each key, atomically; a window that began by ``since``
        begins again at ``now``, and such expired windows are deleted."""
        ...

    async def clear_login_failures(self, key: str) -> None:
        """Forget a key's failed logins."""
        ...


class EventStore(Protocol):
    """Reading events, issues and the other kinds of stored data."""

    async def list_events(
        self, where: EventFilter, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Event]:
        """Matching events, newest received first. Raises InvalidInputError for a bad cursor."""
        ...

    async def get_event(self, project_id: int, event_id: str) -> EventDetail:
        """One event with its payload and attachments. Raises NotFoundError.

        ``event_id`` is 32 lowercase hex. ``attachments`` are those of the event's envelope and
        the project's attachments sent later for this event id (``AttachmentRecord.event_id``),
        by id.
        """
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
        """Stored envelope items of the project (optionally one type), newest received first."""
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
        (descending, ties by id descending). A cursor belongs to one sort.

        Raises InvalidInputError for a bad sort, status or cursor.
        """
        ...

    async def get_issue(self, project_id: int, issue_id: int) -> Issue:
        """Raises NotFoundError (also for another project's issue)."""
        ...

    async def set_issue_status(self, project_id: int, issue_id: int, status: IssueStatus) -> Issue:
        """Set an issue's status. Raises NotFoundError (also for another project's issue)."""
        ...

    async def release_health(self, project_id: int) -> list[ReleaseHealth]:
        """Session counts per release and environment, from ``session`` and ``sessions`` items.

        A session counts once in ``started``; once in ``errored`` if it ever reported errors
        or ended errored/crashed/abnormal; once in its terminal status (exited, crashed,
        abnormal). A ``sessions`` bucket counts the same way as that many sessions:
        ``started`` += exited + errored + abnormal + crashed; its exited sessions count in
        ``exited``; its errored ones (ended with errors) in ``errored`` and ``exited``; its
        crashed ones in ``errored`` and ``crashed``; its abnormal ones in ``errored`` and
        ``abnormal``. Ordered by release, then environment (``None`` first).
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
        """A monitor's check-ins, newest ``timestamp`` first. Raises NotFoundError (no slug)."""
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
        """The project's user feedback, newest received first."""
        ...

    async def discard_counters(self, project_id: int) -> list[DiscardCounter]:
        """What SDKs reported discarding, summed per reason and category, ordered by both."""
        ...


class Storage(IngestStore, ProjectStore, UserStore, SessionStore, EventStore, Protocol):
    """Everything Resentry stores."""

    async def ping(self) -> None:
        """Check the backend answers. Raises StorageError."""
        ...

    async def aclose(self) -> None:
        """Release connections. The storage is unusable afterwards."""
        ...
