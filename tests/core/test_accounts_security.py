"""Accounts against a real database: throttling that every process shares and a restart keeps,
bounded by expiry; refresh tokens used once (or again within an opt-in grace); token
generations."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
from sqlalchemy import select

from resentry_core._accounts import Accounts
from resentry_core._errors import AuthenticationError, RateLimitedError
from resentry_core._passwords import PasswordHasher
from resentry_core._storage._sql import SqlStorage
from resentry_core._storage._tables import login_failures, used_refresh_tokens
from resentry_core._tokens import TokenCodec
from tests.core.conftest import open_sql_storage
from tests.core.test_tokens import ACCESS_TTL, REFRESH_TTL, SECRET, Clock

LOCKOUT = timedelta(minutes=5)


@pytest.fixture(params=["sqlite", "postgres"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite file's URL, then a migrated PostgreSQL database's."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'accounts.db'}"
    return str(request.getfixturevalue("migrated_postgres_url"))


@pytest.fixture
async def sql_storage(sql_url: str) -> AsyncIterator[SqlStorage]:
    """SqlStorage on SQLite and on PostgreSQL, migrated and empty."""
    storage = await open_sql_storage(sql_url)
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


GRACE = timedelta(seconds=30)


async def test_a_second_use_within_the_grace_renews_at_another_process(
    sql_storage: SqlStorage,
) -> None:
    """With a grace, the same refresh token presented again at another process soon after its
    first use gets a new pair of the same generation; both pairs stay valid."""
    clock = Clock()
    first, second = accounts(sql_storage, clock), accounts(sql_storage, clock)
    ann = await first.create_user("ann", "password one")
    pair = await first.login("ann", "password one")
    renewed = await first.refresh(pair.refresh_token, grace=GRACE)
    clock.now += GRACE - timedelta(seconds=1)
    again = await second.refresh(pair.refresh_token, grace=GRACE)
    assert len({renewed.refresh_token, again.refresh_token, pair.refresh_token}) == 3
    for token in (renewed.access_token, again.access_token):
        assert (await first.user_for_token(token)).id == ann.id
    assert (await second.refresh(again.refresh_token)).access_token
    assert (await first.refresh(renewed.refresh_token)).access_token


async def test_a_second_use_after_the_grace_ends_the_family(sql_storage: SqlStorage) -> None:
    """At the grace's end the same refresh token is a reuse: every token of the user ends."""
    clock = Clock()
    service = accounts(sql_storage, clock)
    await service.create_user("ann", "password one")
    pair = await service.login("ann", "password one")
    renewed = await service.refresh(pair.refresh_token, grace=GRACE)
    clock.now += GRACE
    with pytest.raises(AuthenticationError, match="already used"):
        await service.refresh(pair.refresh_token, grace=GRACE)
    with pytest.raises(AuthenticationError, match="ended"):
        await service.user_for_token(renewed.access_token)
    with pytest.raises(AuthenticationError, match="ended"):
        await service.refresh(renewed.refresh_token, grace=GRACE)


async def test_without_a_grace_a_second_use_is_a_reuse_even_right_away(
    sql_storage: SqlStorage,
) -> None:
    """The API's strict refresh: a token renewed with a grace, presented again without one
    (even at the same instant), ends the family."""
    clock = Clock()
    service = accounts(sql_storage, clock)
    await service.create_user("ann", "password one")
    pair = await service.login("ann", "password one")
    renewed = await service.refresh(pair.refresh_token, grace=GRACE)
    with pytest.raises(AuthenticationError, match="already used"):
        await service.refresh(pair.refresh_token)
    with pytest.raises(AuthenticationError, match="ended"):
        await service.user_for_token(renewed.access_token)


@pytest.mark.parametrize("ending", ["logout", "password change", "deactivation"])
async def test_the_grace_never_outlives_an_ended_family(
    sql_storage: SqlStorage, ending: str
) -> None:
    """A logout, a password change or a deactivation inside the grace ends the tokens issued
    within it, and the used refresh token renews no more."""
    clock = Clock()
    service = accounts(sql_storage, clock)
    ann = await service.create_user("ann", "password one")
    pair = await service.login("ann", "password one")
    renewed = await service.refresh(pair.refresh_token, grace=GRACE)
    again = await service.refresh(pair.refresh_token, grace=GRACE)
    if ending == "logout":
        await service.logout(renewed.access_token)
    elif ending == "password change":
        await service.update_user(ann.id, password="password two", current_password="password one")
    else:
        await service.update_user(ann.id, is_active=False)
    for token in (renewed.access_token, again.access_token):
        with pytest.raises(AuthenticationError):
            await service.user_for_token(token)
    for refresh in (pair.refresh_token, renewed.refresh_token, again.refresh_token):
        with pytest.raises(AuthenticationError, match=r"ended|inactive"):
            await service.refresh(refresh, grace=GRACE)


async def test_a_grace_must_be_positive(sql_storage: SqlStorage) -> None:
    """A zero or negative grace is a programming error, refused before the token is used."""
    clock = Clock()
    service = accounts(sql_storage, clock)
    await service.create_user("ann", "password one")
    pair = await service.login("ann", "password one")
    with pytest.raises(ValueError, match="positive"):
        await service.refresh(pair.refresh_token, grace=timedelta(0))
    assert (await service.refresh(pair.refresh_token)).access_token


@pytest.mark.parametrize("grace", [None, GRACE], ids=["strict", "grace"])
async def test_concurrent_first_uses_across_processes_make_exactly_one_first_use(
    sql_storage: SqlStorage, sql_url: str, grace: timedelta | None
) -> None:
    """Several storages (processes) recording the same token at once: one insert is the first
    use; without a grace every other one is a reuse, with a grace every other one passes."""
    clock = Clock()
    service = accounts(sql_storage, clock)
    ann = await service.create_user("ann", "password one")
    others = [await open_sql_storage(sql_url) for _ in range(3)]
    results: list[bool] = []
    grace_since = None if grace is None else clock.now - grace

    async def use(storage: SqlStorage) -> None:
        results.append(
            await storage.use_refresh_token(
                "jti-1", ann.id, clock.now + REFRESH_TTL, now=clock.now, grace_since=grace_since
            )
        )

    try:
        async with anyio.create_task_group() as tasks:
            for storage in [sql_storage, *others] * 2:
                tasks.start_soon(use, storage)
    finally:
        for storage in others:
            await storage.aclose()
    assert sorted(results) == ([False] * 7 + [True] if grace is None else [True] * 8)
    used_at = await sql_storage._read(
        lambda tx: tx.conn.execute(select(used_refresh_tokens.c.used_at)).scalars().all()
    )
    assert used_at == [clock.now]
