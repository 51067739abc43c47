"""bcrypt password hashing in a worker thread, on asyncio and trio."""

import threading

import anyio
import bcrypt
import pytest

from resentry_core._errors import InvalidInputError
from resentry_core._passwords import PasswordHasher


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Core code runs on both anyio backends."""
    backend: str = request.param
    return backend


@pytest.fixture
def hasher() -> PasswordHasher:
    """A hasher at bcrypt's lowest cost, for speed."""
    return PasswordHasher(rounds=4)


async def test_hash_then_verify(hasher: PasswordHasher) -> None:
    """A hashed password verifies; another password does not."""
    hashed = await hasher.hash("correct horse battery staple")
    assert hashed.startswith("$2b$04$") and len(hashed) == 60
    assert await hasher.verify("correct horse battery staple", hashed)
    assert not await hasher.verify("correct horse battery stapler", hashed)
    assert not await hasher.verify("Correct horse battery staple", hashed)


async def test_each_hash_has_its_own_salt(hasher: PasswordHasher) -> None:
    """Hashing the same password twice gives two different hashes that both verify."""
    first, second = await hasher.hash("pw"), await hasher.hash("pw")
    assert first != second
    assert await hasher.verify("pw", first) and await hasher.verify("pw", second)


async def test_rounds_are_the_cost_factor() -> None:
    """The configured cost is recorded in the hash."""
    assert (await PasswordHasher(rounds=5).hash("pw")).startswith("$2b$05$")


async def test_seventy_two_bytes_are_accepted(hasher: PasswordHasher) -> None:
    """72 UTF-8 bytes, bcrypt's maximum, hash and verify."""
    password = "€" * 24  # 3 bytes each
    assert len(password.encode()) == 72
    assert await hasher.verify(password, await hasher.hash(password))


@pytest.mark.parametrize("password", ["a" * 73, "€" * 25, "a" * 71 + "é"])
async def test_over_seventy_two_bytes_is_invalid_input(
    hasher: PasswordHasher, password: str
) -> None:
    """More than 72 UTF-8 bytes (counted in bytes, not characters) cannot be hashed."""
    with pytest.raises(InvalidInputError, match="72 bytes"):
        await hasher.hash(password)


async def test_over_seventy_two_bytes_never_verifies(hasher: PasswordHasher) -> None:
    """A long password whose first 72 bytes match is not accepted (bcrypt would truncate)."""
    hashed = await hasher.hash("a" * 72)
    assert not await hasher.verify("a" * 73, hashed)


async def test_empty_password_is_invalid_input(hasher: PasswordHasher) -> None:
    """An empty password cannot be set, and never verifies."""
    with pytest.raises(InvalidInputError, match="empty"):
        await hasher.hash("")
    assert not await hasher.verify("", await hasher.hash("x"))


async def test_lone_surrogate_is_invalid_input(hasher: PasswordHasher) -> None:
    """A string that is not valid Unicode cannot be hashed, and never verifies."""
    with pytest.raises(InvalidInputError, match="Unicode"):
        await hasher.hash("pw\ud800")
    assert not await hasher.verify("pw\ud800", await hasher.hash("pw"))


async def test_nul_characters_are_significant(hasher: PasswordHasher) -> None:
    """Characters after a NUL count (no C-string truncation)."""
    hashed = await hasher.hash("a\x00b")
    assert await hasher.verify("a\x00b", hashed)
    assert not await hasher.verify("a\x00c", hashed)
    assert not await hasher.verify("a", hashed)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$2b$04$",
        "$2b$04$" + "x" * 53,
        "$2b$99$" + "a" * 53,
        "$2b$04$ü" + "a" * 52,
    ],
)
async def test_malformed_stored_hash_does_not_verify(hasher: PasswordHasher, stored: str) -> None:
    """A malformed stored hash gives False, not an exception."""
    assert not await hasher.verify("pw", stored)


async def test_hashes_from_other_bcrypt_tools_verify(hasher: PasswordHasher) -> None:
    """``$2a$``/``$2b$`` hashes made elsewhere (e.g. passlib, other rounds) verify."""
    stored = bcrypt.hashpw(b"legacy", bcrypt.gensalt(5, prefix=b"2a")).decode()
    assert await hasher.verify("legacy", stored)
    assert not await hasher.verify("legacy!", stored)


@pytest.mark.parametrize("rounds", [3, 32, -1])
def test_rounds_out_of_range(rounds: int) -> None:
    """bcrypt's cost must be 4..31."""
    with pytest.raises(InvalidInputError, match="rounds"):
        PasswordHasher(rounds=rounds)


async def test_bcrypt_runs_off_the_event_loop_thread(
    hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing and checking run in a worker thread, never on the event loop's thread."""
    threads: list[int] = []

    def recording(real: object) -> object:
        def call(*args: bytes) -> object:
            threads.append(threading.get_ident())
            return real(*args)  # type: ignore[operator]

        return call

    monkeypatch.setattr(bcrypt, "hashpw", recording(bcrypt.hashpw))
    monkeypatch.setattr(bcrypt, "checkpw", recording(bcrypt.checkpw))
    assert await hasher.verify("pw", await hasher.hash("pw"))
    assert len(threads) == 2
    assert threading.get_ident() not in threads


async def test_at_most_max_concurrent_checks_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A flood of password checks runs two at a time, so logins cannot take every core."""
    running, peak = 0, 0
    lock = threading.Lock()
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(password: bytes, hashed: bytes) -> bool:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            threading.Event().wait(0.05)
            return real_checkpw(password, hashed)
        finally:
            with lock:
                running -= 1

    hasher = PasswordHasher(rounds=4, max_concurrent=2)
    hashed = await hasher.hash("pw")
    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)
    async with anyio.create_task_group() as group:
        for _ in range(8):
            group.start_soon(hasher.verify, "pw", hashed)
    assert peak == 2


def test_max_concurrent_under_one_is_refused() -> None:
    """At least one check must be able to run."""
    with pytest.raises(InvalidInputError, match="max_concurrent"):
        PasswordHasher(rounds=4, max_concurrent=0)
