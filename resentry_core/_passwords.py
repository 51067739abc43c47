"""Password hashing with bcrypt, off the event loop."""

from typing import Final

import anyio.to_thread
import bcrypt

from resentry_core._errors import InvalidInputError

_MAX_PASSWORD_BYTES: Final = 72  # bcrypt ignores (bcrypt >= 5: refuses) anything longer
_MIN_ROUNDS: Final = 4
_MAX_ROUNDS: Final = 31


class PasswordHasher:
    """Hashes and verifies passwords with bcrypt in a worker thread.

    A bcrypt hash at cost 12 takes about a quarter of a second of CPU, which must not
    block the event loop.

    Args:
        rounds: the bcrypt cost factor (log2 of the iterations), 4 to 31.

    Raises:
        InvalidInputError: ``rounds`` is out of range.
    """

    def __init__(self, rounds: int = 12) -> None:
        if not _MIN_ROUNDS <= rounds <= _MAX_ROUNDS:
            raise InvalidInputError(
                f"bcrypt rounds must be between {_MIN_ROUNDS} and {_MAX_ROUNDS}, not {rounds}"
            )
        self._rounds = rounds

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
        hashed = await anyio.to_thread.run_sync(bcrypt.hashpw, secret, salt)
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
            return await anyio.to_thread.run_sync(bcrypt.checkpw, secret, hashed.encode("ascii"))
        except ValueError:  # "Invalid salt": not a bcrypt hash
            return False


def _encode(password: str) -> bytes | None:
    try:
        return password.encode("utf-8")
    except UnicodeEncodeError:
        return None
