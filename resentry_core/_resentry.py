"""The :class:`Resentry` bundle: storage, ingestion and accounts opened together."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

import anyio

from resentry_core._accounts import Accounts
from resentry_core._clock import utc_now
from resentry_core._config import CoreConfig
from resentry_core._ingest import Ingestor
from resentry_core._issues import Issues
from resentry_core._passwords import PasswordHasher
from resentry_core._projects import Projects
from resentry_core._retention import enforce_retention
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
    """

    config: CoreConfig
    storage: Storage
    ingestor: Ingestor
    accounts: Accounts
    projects: Projects
    issues: Issues

    @classmethod
    @asynccontextmanager
    async def open(
        cls, config: CoreConfig, *, storage: Storage | None = None
    ) -> AsyncIterator["Resentry"]:
        """Open storage (migrating it), start the group-commit writer, and yield the bundle.

        While it is open, projects that set ``retention_days`` are pruned every
        ``config.retention_interval`` (``_retention``).

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
                if config.retention_interval is not None:
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
                    )
                finally:
                    background.cancel_scope.cancel()
        finally:
            if storage is None:
                await store.aclose()
