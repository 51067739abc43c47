"""User accounts: password login with throttling, token refresh, and token → user."""

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from resentry_core._errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from resentry_core._models import User
from resentry_core._passwords import PasswordHasher
from resentry_core._rules import check_username, keep_an_active_admin
from resentry_core._storage._protocol import AdminCheck, UserStore
from resentry_core._storage._values import UNSET, Unset
from resentry_core._tokens import TokenCodec, TokenPair

_BAD_LOGIN = "incorrect username or password"


class Accounts:
    """Who may use the management API, and the tokens that prove it.

    Args:
        store: where users live.
        passwords: hashes and checks passwords (off the event loop).
        tokens: issues and verifies access and refresh tokens.
        clock: the current time, UTC-aware.
        max_failures: failed logins for one username before it is throttled.
        lockout: how long a throttled username waits, counted from its first failure.
    """

    def __init__(
        self,
        store: UserStore,
        passwords: PasswordHasher,
        tokens: TokenCodec,
        *,
        clock: Callable[[], datetime],
        max_failures: int = 5,
        lockout: timedelta = timedelta(minutes=5),
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._tokens = tokens
        self._clock = clock
        self._max_failures = max_failures
        self._lockout = lockout
        self._failures: dict[str, tuple[int, datetime]] = {}
        self._dummy_hash: str | None = None

    async def login(self, username: str, password: str) -> TokenPair:
        """Check a username and password and issue a token pair.

        Raises:
            AuthenticationError: unknown user, wrong password or inactive user.
            RateLimitedError: too many recent failures for this username.
        """
        self._check_throttle(username)
        credentials = await self._store.get_credentials(username)
        if credentials is None:
            await self._passwords.verify(password, await self._dummy())  # same cost as a miss
        else:
            user, hashed = credentials
            if await self._passwords.verify(password, hashed) and user.is_active:
                self._failures.pop(username, None)
                return self._tokens.issue_pair(user.id)
        self._record_failure(username)
        raise AuthenticationError(_BAD_LOGIN)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Exchange a valid refresh token for a new pair. Raises AuthenticationError."""
        user = await self._active_user(self._tokens.verify(refresh_token, kind="refresh").user_id)
        return self._tokens.issue_pair(user.id)

    async def user_for_token(self, access_token: str) -> User:
        """The active user an access token belongs to. Raises AuthenticationError."""
        return await self._active_user(self._tokens.verify(access_token, kind="access").user_id)

    async def create_user(
        self,
        username: str,
        password: str,
        *,
        is_admin: bool = False,
        telegram_chat_id: str | None = None,
    ) -> User:
        """Create a user with a bcrypt-hashed password.

        Raises:
            InvalidInputError: empty or too long username, or unacceptable password.
            ConflictError: the username is taken.
        """
        hashed = await self._passwords.hash(password)
        return await self._store.create_user(
            check_username(username), hashed, is_admin=is_admin, telegram_chat_id=telegram_chat_id
        )

    async def update_user(
        self,
        user_id: int,
        *,
        username: str | Unset = UNSET,
        password: str | Unset = UNSET,
        is_admin: bool | Unset = UNSET,
        is_active: bool | Unset = UNSET,
        telegram_chat_id: str | Unset | None = UNSET,
        changed_by: User | None = None,
        current_password: str | None = None,
    ) -> User:
        """Change the fields given (:data:`UNSET`: unchanged); a new password is hashed.

        Users changing their own password (``changed_by`` is the user, admin or not) must give
        their ``current_password``; an admin changing another user's password need not, nor
        need trusted callers that pass no ``changed_by`` (the admin CLI). Wrong current
        passwords count as failed logins of that username.

        Raises:
            PermissionDeniedError: the current password is missing or wrong; nothing changes.
            RateLimitedError: too many recent failures for this username.
            NotFoundError: no such user.
            InvalidInputError: bad username or password.
            ConflictError: username taken, or the last active admin would be lost.
        """
        if password is not UNSET and changed_by is not None and changed_by.id == user_id:
            await self._check_current_password(changed_by.username, current_password)
        losing_an_admin = is_admin is False or is_active is False
        return await self._store.update_user(
            user_id,
            username=username if username is UNSET else check_username(username),
            password_hash=password if password is UNSET else await self._passwords.hash(password),
            is_admin=is_admin,
            is_active=is_active,
            telegram_chat_id=telegram_chat_id,
            check=_admin_check(user_id, "demoted or deactivated") if losing_an_admin else None,
        )

    async def delete_user(self, user_id: int) -> None:
        """Delete a user and their memberships.

        Raises:
            NotFoundError: no such user.
            ConflictError: the user is the last active admin.
        """
        await self._store.delete_user(user_id, check=_admin_check(user_id, "deleted"))

    async def _check_current_password(self, username: str, password: str | None) -> None:
        if password is None:
            raise PermissionDeniedError(
                "changing your own password needs your current password (current_password)"
            )
        self._check_throttle(username)
        credentials = await self._store.get_credentials(username)
        if credentials is None or not await self._passwords.verify(password, credentials[1]):
            self._record_failure(username)
            raise PermissionDeniedError("the current password is wrong")

    async def _active_user(self, user_id: int) -> User:
        try:
            user = await self._store.get_user(user_id)
        except NotFoundError:
            raise AuthenticationError("the token's user no longer exists") from None
        if not user.is_active:
            raise AuthenticationError("the user is inactive")
        return user

    def _check_throttle(self, username: str) -> None:
        count, first = self._failures.get(username, (0, self._clock()))
        wait = (first + self._lockout - self._clock()).total_seconds()
        if wait <= 0:
            self._failures.pop(username, None)
        elif count >= self._max_failures:
            raise RateLimitedError(
                "too many failed logins for this username; try again later", retry_after=wait
            )

    def _record_failure(self, username: str) -> None:
        if len(self._failures) > 10_000:  # bounded memory under a username-spraying attack
            self._failures.clear()
        count, first = self._failures.get(username, (0, self._clock()))
        self._failures[username] = (count + 1, first)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._passwords.hash("resentry-timing-equalizer")
        return self._dummy_hash


def _admin_check(user_id: int, change: str) -> AdminCheck:
    return partial(keep_an_active_admin, user_id, change=change)
