"""Accounts against a real database: throttling that every process shares and a restart keeps,
bounded by expiry; refresh tokens used once; token generations."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from resentry_core._accounts import Accounts
from resentry_core._errors import AuthenticationError, RateLimitedError
from resentry_core._passwords import PasswordHasher
from resentry_core._storage._sql import SqlStorage
from resentry_core._storage._tables import login_failures
from resentry_core._tokens import TokenCodec
from tests.core.conftest import open_sql_storage
from tests.core.test_tokens import ACCESS_TTL, REFRESH_TTL, SECRET, Clock

LOCKOUT = timedelta(minutes=5)


@pytest.fixture(params=["sqlite", "postgres"])
async def sql_storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStorage]:
    """SqlStorage on SQLite and on PostgreSQL, migrated and empty."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'accounts.db'}"
    else:
        url = str(request.getfixturevalue("migrated_postgres_url"))
    storage = await open_sql_storage(url)
    yield storage
    await storage.aclose()


def accounts(storage: SqlStorage, clock: Clock) -> Accounts:
    """A fresh Accounts on ``storage``: what another process, or a restart, would build."""
    tokens = TokenCodec(SECRET, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL, clock=clock)
    return Accounts(
        storage,
        PasswordHasher(rounds=4),
        tokens,
        clock=clock,
        max_failures=3,
        max_address_failures=100,
        lockout=LOCKOUT,
    )


async def _failures_rows(storage: SqlStorage) -> int:
    return await storage._read(lambda tx: len(tx.conn.execute(login_failures.select()).all()))


async def test_failures_counted_by_one_process_lock_out_the_next(
    sql_storage: SqlStorage,
) -> None:
    """Failures recorded through one Accounts throttle logins through another (two worker
    processes, or the same one after a restart); the window ends the lockout."""
    clock = Clock()
    first = accounts(sql_storage, clock)
    await first.create_user("admin", "right password")
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            await first.login("admin", "wrong", client_address="192.0.2.1")
    second = accounts(sql_storage, clock)
    with pytest.raises(RateLimitedError) as throttled:
        await second.login("ADMIN", "right password", client_address="192.0.2.2")
    assert throttled.value.retry_after == LOCKOUT.total_seconds()
    clock.now += LOCKOUT
    assert (await second.login("admin", "right password")).access_token


async def test_a_username_spray_neither_unlocks_nor_grows_the_table_forever(
    sql_storage: SqlStorage,
) -> None:
    """Failures on hundreds of other usernames leave the locked one locked; once their window
    has passed, the next failure deletes their rows."""
    clock = Clock()
    service = accounts(sql_storage, clock)
    await service.create_user("admin", "right password")
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            await service.login("admin", "wrong")
    for number in range(300):
        with pytest.raises(AuthenticationError):
            await service.login(f"nobody-{number}", "x" * 80)  # over 72 bytes: no bcrypt
    with pytest.raises(RateLimitedError):
        await service.login("admin", "right password")
    assert await _failures_rows(sql_storage) == 301
    clock.now += LOCKOUT + timedelta(seconds=1)
    with pytest.raises(AuthenticationError):
        await service.login("someone", "wrong")
    assert await _failures_rows(sql_storage) == 1


async def test_a_refresh_token_replayed_through_another_process_ends_the_family(
    sql_storage: SqlStorage,
) -> None:
    """Refresh tokens are used once across processes; a replay ends every token of the user."""
    clock = Clock()
    first, second = accounts(sql_storage, clock), accounts(sql_storage, clock)
    await first.create_user("ann", "password one")
    pair = await first.login("ann", "password one")
    rotated = await first.refresh(pair.refresh_token)
    with pytest.raises(AuthenticationError, match="already used"):
        await second.refresh(pair.refresh_token)
    for token in (rotated.access_token, pair.access_token):
        with pytest.raises(AuthenticationError, match="ended"):
            await second.user_for_token(token)
    with pytest.raises(AuthenticationError):
        await second.refresh(rotated.refresh_token)
