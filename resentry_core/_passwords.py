"""Password hashing with bcrypt, off the event loop."""

from typing import Final

import anyio
import anyio.to_thread
import bcrypt

from resentry_core._errors import InvalidInputError

_MAX_PASSWORD_BYTES: Final = 72  # bcrypt ignores (bcrypt >= 5: refuses) anything longer
_MIN_ROUNDS: Final = 4
_MAX_ROUNDS: Final = 31


class PasswordHasher:
    """Hashes and verifies passwords with bcrypt in a worker thread.

    A bcrypt hash at cost 12 takes about a quarter of a second of CPU, which must not
    block the event loop; and at most ``max_concurrent`` run at once, so that a flood of
    logins waits its turn instead of taking every core from ingestion.

    Args:
        rounds: the bcrypt cost factor (log2 of the iterations), 4 to 31.
        max_concurrent: how many hashes and checks may run at the same time.

    Raises:
        InvalidInputError: ``rounds`` is out of range, or ``max_concurrent`` under one.
    """

    def __init__(self, rounds: int = 12, *, max_concurrent: int = 2) -> None:
        if not _MIN_ROUNDS <= rounds <= _MAX_ROUNDS:
            raise InvalidInputError(
                f"bcrypt rounds must be between {_MIN_ROUNDS} and {_MAX_ROUNDS}, not {rounds}"
            )
        if max_concurrent < 1:
            raise InvalidInputError(f"max_concurrent must be at least 1, not {max_concurrent}")
        self._rounds = rounds
        self._limiter = anyio.CapacityLimiter(max_concurrent)

    async def hash(self, password: str) -> str:
        """Hash ``password`` with a fresh salt.

        Returns:
            The ``$2b$…`` hash, 60 ASCII characters.

        Raises:
            InvalidInputError: the password is empty, longer than 72 UTF-8 bytes, or not
                encodable (a lone surrogate).
        """
        secret = _encode(password)
        if secret is None:
            raise InvalidInputError("password must be valid Unicode text (no lone surrogates)")
        if not secret:
            raise InvalidInputError("password must not be empty")
        if len(secret) > _MAX_PASSWORD_BYTES:
            raise InvalidInputError(
                f"password must be at most {_MAX_PASSWORD_BYTES} bytes in UTF-8"
            )
        salt = bcrypt.gensalt(self._rounds)
        hashed = await anyio.to_thread.run_sync(bcrypt.hashpw, secret, salt, limiter=self._limiter)
        return hashed.decode("ascii")

    async def verify(self, password: str, hashed: str) -> bool:
        """Tell whether ``password`` matches ``hashed``.

        Returns:
            ``True`` on a match; ``False`` otherwise, including for a password that
            :meth:`hash` would refuse and for a malformed stored hash.
        """
        secret = _encode(password)
        if not secret or len(secret) > _MAX_PASSWORD_BYTES or not hashed.isascii():
            return False
        try:
            return await anyio.to_thread.run_sync(
                bcrypt.checkpw, secret, hashed.encode("ascii"), limiter=self._limiter
            )
        except ValueError:  # "Invalid salt": not a bcrypt hash
            return False


def _encode(password: str) -> bytes | None:
    try:
        return password.encode("utf-8")
    except UnicodeEncodeError:
        return None
