"""The :class:`Resentry` bundle: storage, ingestion and accounts opened together."""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import anyio
import anyio.abc

from resentry_core._accounts import Accounts
from resentry_core._clock import utc_now
from resentry_core._config import CoreConfig
from resentry_core._errors import InvalidInputError
from resentry_core._ingest import Ingestor
from resentry_core._issues import Issues
from resentry_core._notify._channels import Notifications
from resentry_core._notify._destinations import Destinations
from resentry_core._notify._http import LazyClient
from resentry_core._notify._notifier import Notifier
from resentry_core._notify._worker import Worker
from resentry_core._passwords import PasswordHasher
from resentry_core._projects import Projects
from resentry_core._retention import enforce_retention, sweep
from resentry_core._storage._protocol import Storage
from resentry_core._storage._sql import SqlStorage
from resentry_core._tokens import TokenCodec


async def open_storage(database_url: str) -> Storage:
    """Open (and migrate) the storage a URL names: ``memory://`` (a private in-memory SQLite
    database) or a SQLite or PostgreSQL URL."""
    storage = SqlStorage.from_url(database_url)
    try:
        await storage.migrate()
    except BaseException:
        await storage.aclose()
        raise
    return storage


@dataclass(frozen=True, slots=True, kw_only=True)
class Resentry:
    """Everything an application needs, opened with :meth:`open`.

    Attributes:
        config: the configuration it was opened with.
        storage: the storage backend (reads, and writes that follow no rule of their own).
        ingestor: accepts envelopes (group commit runs while the bundle is open).
        accounts: users (their rules), logins and tokens for the management API.
        projects: creates and changes projects, checking their settings.
        issues: issue status changes.
        notifications: each project's channels, rules, test messages, delivery log and
            members' notification settings (on a storage other than :class:`SqlStorage`,
            which keeps none, its methods raise InvalidInputError).
    """

    config: CoreConfig
    storage: Storage
    ingestor: Ingestor
    accounts: Accounts
    projects: Projects
    issues: Issues
    notifications: Notifications

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        config: CoreConfig,
        *,
        storage: Storage | None = None,
        notifiers: Sequence[Notifier] = (),
    ) -> AsyncIterator["Resentry"]:
        """Open storage (migrating it), start the group-commit writer, and yield the bundle.

        Unless ``config.worker`` is off, the background worker runs while it is open
        (:func:`open_worker`): it delivers notifications, sends digests, watches cron-monitor
        deadlines and prunes projects that set ``retention_days`` every
        ``config.retention_interval``. ``notifiers`` are the application's own: each receives
        the new issues and regressions (at ``error`` or above) and the monitor notices of
        every project. On a storage other than :class:`SqlStorage` the worker only prunes.

        A ``storage`` passed in is used as it is and left open on exit; otherwise one is opened
        from ``config.database_url`` and closed on exit.
        """
        store = storage if storage is not None else await open_storage(config.database_url)
        try:
            ingestor = Ingestor(
                store,
                limits=config.limits,
                clock=utc_now,
                default_rate_limit_per_minute=config.default_rate_limit_per_minute,
            )
            accounts = Accounts(
                store,
                PasswordHasher(
                    rounds=config.bcrypt_rounds,
                    max_concurrent=config.max_concurrent_password_checks,
                ),
                TokenCodec(
                    config.secret_key,
                    access_ttl=config.access_token_ttl,
                    refresh_ttl=config.refresh_token_ttl,
                    clock=utc_now,
                ),
                clock=utc_now,
                max_failures=config.login_max_failures,
                max_address_failures=config.login_max_address_failures,
                lockout=config.login_lockout,
            )
            async with (
                ingestor.group_commit(max_batch=config.batch_max_envelopes),
                anyio.create_task_group() as background,
            ):
                if config.worker and isinstance(store, SqlStorage):
                    await background.start(_run_worker, store, config, notifiers, ingestor.busy)
                elif config.worker and config.retention_interval is not None:
                    background.start_soon(
                        partial(enforce_retention, clock=utc_now),
                        store,
                        config.retention_interval,
                    )
                try:
                    yield cls(
                        config=config,
                        storage=store,
                        ingestor=ingestor,
                        accounts=accounts,
                        projects=Projects(store),
                        issues=Issues(store),
                        notifications=Notifications(
                            store if isinstance(store, SqlStorage) else None,
                            allow_private=config.webhook_allow_private,
                        ),
                    )
                finally:
                    background.cancel_scope.cancel()
        finally:
            if storage is None:
                await store.aclose()


async def _run_worker(
    storage: SqlStorage,
    config: CoreConfig,
    notifiers: Sequence[Notifier],
    paced: Callable[[], bool],
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    async with open_worker(config, storage=storage, notifiers=notifiers, paced=paced) as worker:
        task_status.started()
        await worker.run()


@asynccontextmanager
async def open_worker(
    config: CoreConfig,
    *,
    storage: Storage | None = None,
    notifiers: Sequence[Notifier] = (),
    clock: Callable[[], datetime] = utc_now,
    paced: Callable[[], bool] = lambda: False,
) -> AsyncIterator[Worker]:
    """A background :class:`Worker` on ``storage``, for a process that runs it on its own
    (``resentry worker``); :meth:`Resentry.open` runs one by itself. Its HTTP client is made
    when a webhook or Telegram delivery first needs it, and closed on exit.

    A ``storage`` passed in is used as it is and left open; otherwise one is opened (and
    migrated) from ``config.database_url`` and closed on exit. ``paced`` tells the worker when
    to yield to ingestion in the same process (``Resentry.open`` passes ``Ingestor.busy``).

    Raises:
        InvalidInputError: the storage keeps no notifications (it is not a SqlStorage).
    """
    store = storage if storage is not None else await open_storage(config.database_url)
    try:
        if not isinstance(store, SqlStorage):
            raise InvalidInputError("the notification worker needs a SQL database")
        client = LazyClient(timeout=10.0)
        try:
            destinations = Destinations(
                telegram=config.telegram,
                smtp=config.smtp,
                client=client,
                allow_private=config.webhook_allow_private,
            )
            yield Worker(
                store,
                config,
                resolve=destinations.resolve,
                notifiers=notifiers,
                clock=clock,
                sweep=partial(sweep, store),
                paced=paced,
            )
        finally:
            with anyio.CancelScope(shield=True):
                await client.aclose()
    finally:
        if storage is None:
            await store.aclose()
