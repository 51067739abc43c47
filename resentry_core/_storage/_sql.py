"""SqlStorage: the durable :class:`~resentry_core._storage._protocol.Storage`.

SQLAlchemy Core (no ORM) over SQLite (the standard library's ``sqlite3`` in worker threads, the
embedded default, in WAL mode) or PostgreSQL (``postgresql+asyncpg``, the ``postgres`` extra).
The schema comes only from the Alembic migrations shipped in ``resentry_core/_migrations``
(:meth:`SqlStorage.migrate`). Every method is one transaction, a synchronous function of a
``Tx``; the modules ``_sql_*`` hold those functions.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Concatenate, ParamSpec, Self, TypeVar

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
from resentry_core._notify._models import (
    Channel,
    ChannelKind,
    Delivery,
    DeliveryJob,
    Rule,
    Trigger,
)
from resentry_core._notify._webhook import WebhookFlavor
from resentry_core._records import PreparedEnvelope, Recorded
from resentry_core._storage import (
    _sql_admin,
    _sql_notify,
    _sql_notify_work,
    _sql_read,
    _sql_security,
    _sql_telemetry,
)
from resentry_core._storage._key_cache import KeyCache
from resentry_core._storage._protocol import DEFAULT_PAGE_SIZE, AdminCheck, EventFilter
from resentry_core._storage._sql_db import Database, IntegrityConflictError, TransientStorageError
from resentry_core._storage._sql_insights import SqlInsights
from resentry_core._storage._sql_notify_work import MonitorJudge, Outcome, Pending
from resentry_core._storage._sql_prune import prune_step
from resentry_core._storage._sql_record import record_batch, require_projects
from resentry_core._storage._sql_tx import Tx
from resentry_core._storage._values import UNSET, Unset

P = ParamSpec("P")
T = TypeVar("T")


class SqlStorage(SqlInsights):
    """A :class:`~resentry_core._storage._protocol.Storage` on SQLite or PostgreSQL.

    Build it with :meth:`from_url`, bring the schema up to date with :meth:`migrate`, and
    :meth:`aclose` it when done. Beyond the protocol it is the
    :class:`~resentry_core.NotificationStore` (channels, rules, the delivery log and the
    notification worker's transactions).
    """

    def __init__(self, database: Database) -> None:
        self._db = database
        self._keys = KeyCache()

    @classmethod
    def from_url(cls, url: str, *, echo: bool = False) -> Self:
        """A storage for a database URL; nothing connects until the first call.

        ``sqlite:///path.db`` runs on the standard library's ``sqlite3`` in worker threads
        (``sqlite+aiosqlite`` URLs are accepted as the same); ``postgresql://…`` gets asyncpg.

        Raises:
            InvalidInputError: the URL is malformed or not SQLite/PostgreSQL.
        """
        return cls(Database(url, echo=echo))

    async def migrate(self) -> None:
        """Upgrade the schema to the latest migration (Alembic ``upgrade head``).

        Safe to run from several processes at once. Raises StorageError.
        """
        await self._db.migrate()

    async def ping(self) -> None:
        """Check the database answers. Raises StorageError."""
        await self._db.ping()

    async def aclose(self) -> None:
        """Close the connections; every later call raises StorageError."""
        await self._db.aclose()

    async def _read(self, fn: Callable[Concatenate[Tx, P], T], *a: P.args, **k: P.kwargs) -> T:
        return await self._db.read(lambda conn: fn(Tx(conn), *a, **k))

    async def _write(self, fn: Callable[Concatenate[Tx, P], T], *a: P.args, **k: P.kwargs) -> T:
        return await self._db.write(lambda conn: fn(Tx(conn), *a, **k))

    async def _write_keys(
        self, fn: Callable[Concatenate[Tx, P], T], *a: P.args, **k: P.kwargs
    ) -> T:
        """A write that changes projects or keys: forget cached key answers, before and after."""
        self._forget_keys()
        try:
            return await self._write(fn, *a, **k)
        finally:
            self._forget_keys()

    def _forget_keys(self) -> None:
        self._keys.forget()

    # IngestStore

    async def project_for_key(self, project_id: int, public_key: str) -> Project | None:
        """The project if ``public_key`` is an active key of it, else None.

        Answers (including "no") are cached for up to one second per (project, key), and
        concurrent misses share one read (``_key_cache``); this instance's own project and key
        changes take effect at once.
        """
        return await self._keys.get(
            (project_id, public_key),
            lambda: self._read(_sql_admin.project_for_key, project_id, public_key),
        )

    async def record(self, batch: Sequence[PreparedEnvelope]) -> list[Recorded]:
        """Store a batch of envelopes in one transaction (see ``IngestStore.record``).

        When a concurrent writer stored one of the batch's event ids first (a unique
        violation) or PostgreSQL aborted the transaction in a deadlock, the whole batch is
        rolled back and retried once; the envelopes it lost to are then duplicates.

        Raises:
            NotFoundError: an envelope's project does not exist.
            InvalidInputError: a record names a missing item position, or a datetime is naive.
            StorageError: the database failed, or the retry conflicted again.
        """
        if not batch:
            return []
        try:
            return await self._record(batch)
        except (IntegrityConflictError, TransientStorageError):
            # A foreign key broken by a missing project is not worth a retry.
            await self._read(require_projects, {envelope.project_id for envelope in batch})
        try:
            return await self._record(batch)
        except (IntegrityConflictError, TransientStorageError) as exc:
            raise StorageError(
                f"the batch conflicted with concurrent writers twice: {exc}"
            ) from exc

    async def _record(self, batch: Sequence[PreparedEnvelope]) -> list[Recorded]:
        # Inline on SQLite: a batch is a few milliseconds of GIL-bound work (see Database.write).
        return await self._db.write(lambda conn: record_batch(Tx(conn), batch), inline=True)

    async def prune(self, project_id: int, older_than: datetime) -> int:
        """Delete the project's envelopes received before ``older_than`` with their data.

        In steps of about ``PRUNE_STEP`` envelopes, one transaction each (``_sql_prune``), so
        that writers are not held up by a long backlog; counters are exact after every step.
        """
        total = 0
        while True:
            deleted, done = await self._write(prune_step, project_id, older_than)
            total += deleted
            if done:
                return total

    # ProjectStore

    async def create_project(
        self,
        name: str,
        *,
        slug: str,
        allowed_origins: Sequence[str] = (),
        rate_limit_per_minute: int | None = None,
        retention_days: int | None = None,
    ) -> Project:
        """Create a project with one active key. Raises ConflictError."""
        try:
            return await self._write_keys(
                _sql_admin.create_project,
                name,
                slug=slug,
                allowed_origins=allowed_origins,
                rate_limit_per_minute=rate_limit_per_minute,
                retention_days=retention_days,
            )
        except IntegrityConflictError as exc:  # a concurrent writer took the slug first
            raise IntegrityConflictError("the slug is taken") from exc

    async def get_project(self, project_id: int) -> Project:
        """The project with its keys. Raises NotFoundError."""
        return await self._read(_sql_admin.get_project, project_id)

    async def list_projects(self, *, user_id: int | None = None) -> list[Project]:
        """Every project (or the user's), by id."""
        return await self._read(_sql_admin.list_projects, user_id)

    async def update_project(
        self,
        project_id: int,
        *,
        name: str | Unset = UNSET,
        allowed_origins: Sequence[str] | Unset = UNSET,
        rate_limit_per_minute: int | Unset | None = UNSET,
        retention_days: int | Unset | None = UNSET,
    ) -> Project:
        """Change the given fields. Raises NotFoundError."""
        return await self._write_keys(
            _sql_admin.update_project,
            project_id,
            name=name,
            allowed_origins=allowed_origins,
            rate_limit_per_minute=rate_limit_per_minute,
            retention_days=retention_days,
        )

    async def delete_project(self, project_id: int) -> None:
        """Delete the project and everything it owns. Raises NotFoundError."""
        await self._write_keys(_sql_admin.delete_project, project_id)

    async def create_key(self, project_id: int, *, label: str = "") -> ProjectKey:
        """Add an active key. Raises NotFoundError."""
        return await self._write_keys(_sql_admin.create_key, project_id, label)

    async def list_keys(self, project_id: int) -> list[ProjectKey]:
        """The project's keys, active and revoked, by id. Raises NotFoundError."""
        return await self._read(_sql_admin.list_keys, project_id)

    async def revoke_key(self, project_id: int, key_id: int) -> ProjectKey:
        """Deactivate a key of this project. Raises NotFoundError."""
        return await self._write_keys(_sql_admin.revoke_key, project_id, key_id)

    async def add_member(
        self,
        project_id: int,
        user_id: int,
        *,
        min_level: Level = "error",
        notify_new_issues: bool = True,
        notify_regressions: bool = True,
    ) -> Member:
        """Add or update a membership. Raises NotFoundError."""
        return await self._write(
            _sql_admin.add_member,
            project_id,
            user_id,
            min_level=min_level,
            notify_new_issues=notify_new_issues,
            notify_regressions=notify_regressions,
        )

    async def remove_member(self, project_id: int, user_id: int) -> None:
        """Remove a membership. Raises NotFoundError."""
        await self._write(_sql_admin.remove_member, project_id, user_id)

    async def list_members(self, project_id: int) -> list[Member]:
        """The project's members, by user id. Raises NotFoundError."""
        return await self._read(_sql_admin.list_members, project_id)

    async def is_member(self, project_id: int, user_id: int) -> bool:
        """Whether the user is a member of the project."""
        return await self._read(_sql_admin.is_member, project_id, user_id)

    # UserStore

    async def create_user(
        self,
        username: str,
        password_hash: str,
        *,
        is_admin: bool = False,
        telegram_chat_id: str | None = None,
        email: str | None = None,
    ) -> User:
        """Create an active user. Raises ConflictError."""
        try:
            return await self._write(
                _sql_admin.create_user,
                username,
                password_hash,
                is_admin=is_admin,
                telegram_chat_id=telegram_chat_id,
                email=email,
            )
        except IntegrityConflictError as exc:  # a concurrent writer took the username first
            raise IntegrityConflictError(f"the username {username!r} is taken") from exc

    async def get_user(self, user_id: int) -> User:
        """A user by id. Raises NotFoundError."""
        return _sql_admin.user_from_row(await self._read(_sql_admin.get_user_row, user_id))

    async def get_credentials(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash, or None."""
        return await self._read(_sql_admin.get_credentials, username)

    async def list_users(self) -> list[User]:
        """Every user, by id."""
        return await self._read(_sql_admin.list_users)

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
        """Change the given fields once ``check`` passes (see ``UserStore.update_user``)."""
        try:
            return await self._write(
                _sql_admin.update_user,
                user_id,
                username=username,
                password_hash=password_hash,
                is_admin=is_admin,
                is_active=is_active,
                telegram_chat_id=telegram_chat_id,
                email=email,
                end_sessions=end_sessions,
                check=check,
            )
        except IntegrityConflictError as exc:  # a concurrent writer took the username first
            raise IntegrityConflictError(f"the username {username!r} is taken") from exc

    async def delete_user(self, user_id: int, *, check: AdminCheck | None = None) -> None:
        """Delete a user and their memberships once ``check`` passes. Raises NotFoundError."""
        await self._write(_sql_admin.delete_user, user_id, check)

    # SessionStore

    async def end_sessions(self, user_id: int) -> None:
        """Raise the user's token generation. Raises NotFoundError."""
        await self._write(_sql_security.end_sessions, user_id)

    async def use_refresh_token(
        self,
        token_id: str,
        user_id: int,
        expires_at: datetime,
        *,
        now: datetime,
        grace_since: datetime | None = None,
    ) -> bool:
        """Record a refresh token as used; False when it was used before (by ``grace_since``
        when given)."""
        return await self._write(
            _sql_security.use_refresh_token, token_id, user_id, expires_at, now, grace_since
        )

    async def login_failures(
        self, keys: Sequence[str], *, since: datetime
    ) -> dict[str, tuple[int, datetime]]:
        """Failed logins and window start per key, for current windows."""
        return await self._read(_sql_security.login_failure_counts, keys, since)

    async def record_login_failure(
        self, keys: Sequence[str], *, now: datetime, since: datetime
    ) -> None:
        """Count a failed login for each key (expired windows begin again)."""
        await self._write(_sql_security.record_login_failure, keys, now, since)

    async def clear_login_failures(self, key: str) -> None:
        """Forget a key's failed logins."""
        await self._write(_sql_security.clear_login_failures, key)

    # EventStore

    async def list_events(
        self, where: EventFilter, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Event]:
        """Matching events, newest received first. Raises InvalidInputError."""
        return await self._read(_sql_read.list_events, where, cursor, limit)

    async def get_event(self, project_id: int, event_id: str) -> EventDetail:
        """One event with its payload and attachments. Raises NotFoundError."""
        return await self._read(_sql_read.get_event, project_id, event_id)

    async def get_attachment(self, project_id: int, attachment_id: int) -> tuple[Attachment, bytes]:
        """An attachment and its exact bytes. Raises NotFoundError."""
        return await self._read(_sql_read.get_attachment, project_id, attachment_id)

    async def get_envelope(self, project_id: int, envelope_id: int) -> StoredEnvelope:
        """A stored envelope with its raw body. Raises NotFoundError."""
        return await self._read(_sql_read.get_envelope, project_id, envelope_id)

    async def list_items(
        self,
        project_id: int,
        *,
        type: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[StoredItem]:
        """Stored items of the project (optionally one type), newest received first."""
        return await self._read(_sql_read.list_items, project_id, type, cursor, limit)

    async def get_item_payload(self, project_id: int, item_id: int) -> tuple[StoredItem, bytes]:
        """An item and its payload bytes. Raises NotFoundError."""
        return await self._read(_sql_read.get_item_payload, project_id, item_id)

    async def list_issues(
        self,
        project_id: int,
        *,
        status: IssueStatus | None = None,
        sort: str = "last_seen",
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Issue]:
        """The project's issues in ``sort`` order (descending). Raises InvalidInputError."""
        return await self._read(_sql_read.list_issues, project_id, status, sort, cursor, limit)

    async def get_issue(self, project_id: int, issue_id: int) -> Issue:
        """One issue of the project. Raises NotFoundError."""
        return await self._read(_sql_read.get_issue, project_id, issue_id)

    async def set_issue_status(self, project_id: int, issue_id: int, status: IssueStatus) -> Issue:
        """Set an issue's status. Raises NotFoundError."""
        return await self._write(_sql_read.set_issue_status, project_id, issue_id, status)

    async def release_health(self, project_id: int) -> list[ReleaseHealth]:
        """Session counts per release and environment."""
        return await self._read(_sql_telemetry.release_health, project_id)

    async def list_monitors(self, project_id: int) -> list[Monitor]:
        """The project's cron monitors, by slug."""
        return await self._read(_sql_telemetry.list_monitors, project_id)

    async def list_check_ins(
        self,
        project_id: int,
        monitor_slug: str,
        *,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[CheckIn]:
        """A monitor's check-ins, newest timestamp first. Raises NotFoundError."""
        return await self._read(
            _sql_telemetry.list_check_ins, project_id, monitor_slug, cursor, limit
        )

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
        return await self._read(
            _sql_telemetry.list_logs, project_id, level, trace_id, cursor, limit
        )

    async def list_feedback(
        self, project_id: int, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Feedback]:
        """The project's user feedback, newest received first."""
        return await self._read(_sql_telemetry.list_feedback, project_id, cursor, limit)

    async def discard_counters(self, project_id: int) -> list[DiscardCounter]:
        """What SDKs reported discarding, summed per reason and category."""
        return await self._read(_sql_telemetry.list_discard_counters, project_id)

    # Notifications (NotificationStore)

    async def create_channel(
        self,
        project_id: int,
        *,
        name: str,
        kind: ChannelKind,
        target: str,
        flavor: WebhookFlavor | None = None,
        secret: str | None = None,
    ) -> Channel:
        """Store a channel as given. Raises NotFoundError."""
        return await self._write(
            _sql_notify.create_channel,
            project_id,
            name=name,
            kind=kind,
            target=target,
            flavor=flavor,
            secret=secret,
            now=datetime.now(UTC),
        )

    async def get_channel(self, project_id: int, channel_id: int) -> Channel:
        """One channel of the project. Raises NotFoundError."""
        return await self._read(_sql_notify.get_channel, project_id, channel_id)

    async def list_channels(self, project_id: int) -> list[Channel]:
        """The project's channels, by id. Raises NotFoundError."""
        return await self._read(_sql_notify.list_channels, project_id)

    async def update_channel(
        self,
        project_id: int,
        channel_id: int,
        *,
        name: str | Unset = UNSET,
        target: str | Unset = UNSET,
        flavor: WebhookFlavor | Unset = UNSET,
    ) -> Channel:
        """Store the given fields as given. Raises NotFoundError."""
        return await self._write(
            _sql_notify.update_channel,
            project_id,
            channel_id,
            name=name,
            target=target,
            flavor=flavor,
        )

    async def delete_channel(self, project_id: int, channel_id: int) -> None:
        """Delete a channel with its rules and deliveries. Raises NotFoundError."""
        await self._write(_sql_notify.delete_channel, project_id, channel_id)

    async def create_rule(
        self,
        project_id: int,
        *,
        channel_id: int,
        trigger: Trigger,
        min_level: Level = "error",
        environment: str | None = None,
    ) -> Rule:
        """Store a rule of one of the project's channels as given."""
        return await self._write(
            _sql_notify.create_rule,
            project_id,
            channel_id=channel_id,
            trigger=trigger,
            min_level=min_level,
            environment=environment,
            now=datetime.now(UTC),
        )

    async def list_rules(self, project_id: int) -> list[Rule]:
        """The project's rules, by id. Raises NotFoundError."""
        return await self._read(_sql_notify.list_rules, project_id)

    async def get_rule(self, project_id: int, rule_id: int) -> Rule:
        """One rule of the project. Raises NotFoundError."""
        return await self._read(_sql_notify.get_rule, project_id, rule_id)

    async def update_rule(
        self,
        project_id: int,
        rule_id: int,
        *,
        channel_id: int | Unset = UNSET,
        trigger: Trigger | Unset = UNSET,
        min_level: Level | Unset = UNSET,
        environment: str | Unset | None = UNSET,
    ) -> Rule:
        """Store the given fields as given. Raises NotFoundError."""
        return await self._write(
            _sql_notify.update_rule,
            project_id,
            rule_id,
            channel_id=channel_id,
            trigger=trigger,
            min_level=min_level,
            environment=environment,
        )

    async def delete_rule(self, project_id: int, rule_id: int) -> None:
        """Delete a rule. Raises NotFoundError."""
        await self._write(_sql_notify.delete_rule, project_id, rule_id)

    async def list_deliveries(
        self,
        project_id: int,
        *,
        channel_id: int | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Delivery]:
        """The project's delivery log, newest first. Raises NotFoundError, InvalidInputError."""
        return await self._read(_sql_notify.list_deliveries, project_id, channel_id, cursor, limit)

    async def enqueue_test(self, project_id: int, channel_id: int) -> Delivery:
        """Queue a test message to a channel for the worker. Raises NotFoundError."""
        return await self._write(
            _sql_notify.enqueue_test, project_id, channel_id, datetime.now(UTC)
        )

    async def prune_deliveries(self, older_than: datetime) -> int:
        """Delete finished deliveries last updated before ``older_than``, and the outbox
        notices fanned out before it; return how many deliveries.

        In steps of ``PRUNE_DELIVERIES_STEP``, one transaction each, like :meth:`prune`.
        """
        await self._prune_in_steps(_sql_notify.prune_outbox_step, older_than)
        return await self._prune_in_steps(_sql_notify.prune_deliveries_step, older_than)

    async def _prune_in_steps(
        self, step: Callable[[Tx, datetime], int], older_than: datetime
    ) -> int:
        total = 0
        while True:
            deleted = await self._write(step, older_than)
            total += deleted
            if deleted < _sql_notify.PRUNE_DELIVERIES_STEP:
                return total

    async def fan_out(
        self, limit: int, *, now: datetime, window: timedelta, app_notifiers: int = 0
    ) -> int:
        """Expand due outbox notices into deliveries (see ``_sql_notify_work``)."""
        return await self._write(_sql_notify_work.fan_out, limit, now, window, app_notifiers)

    async def close_windows(self, limit: int, *, now: datetime, window: timedelta) -> int:
        """Queue digests for ended de-duplication windows; return how many."""
        return await self._write(_sql_notify_work.close_windows, now, window, limit)

    async def claim_deliveries(
        self, limit: int, *, now: datetime, lease: timedelta, app_notifiers: int = 0
    ) -> list[DeliveryJob]:
        """Lease up to ``limit`` due deliveries (``app:`` ones only with ``app_notifiers``)."""
        return await self._write(_sql_notify_work.claim, limit, now, lease, app_notifiers)

    async def settle_deliveries(self, outcomes: Sequence[Outcome]) -> None:
        """Record how claimed deliveries' attempts ended, in one transaction."""
        await self._write(_sql_notify_work.settle, outcomes)

    async def release_deliveries(self, delivery_ids: Sequence[int], *, now: datetime) -> None:
        """Give claimed deliveries back unsent (their attempt is not counted)."""
        await self._write(_sql_notify_work.release, delivery_ids, now)

    async def pending_work(
        self, *, now: datetime, judge: MonitorJudge, app_notifiers: int = 0
    ) -> Pending:
        """What the worker has to do at ``now``, read without a write lock."""
        return await self._read(_sql_notify_work.pending, now, app_notifiers, judge)

    async def check_monitors(
        self, monitor_ids: Sequence[int], *, now: datetime, judge: MonitorJudge
    ) -> int:
        """Write the notices that these monitors' states call for; return how many."""
        return await self._write(_sql_notify_work.check_monitors, now, judge, monitor_ids)
