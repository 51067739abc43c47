"""User accounts: password login with throttling, token refresh, and token → user."""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Final, Protocol

from resentry_core._errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from resentry_core._models import User
from resentry_core._passwords import PasswordHasher
from resentry_core._rules import check_email, keep_an_active_admin
from resentry_core._storage._protocol import AdminCheck, SessionStore, UserStore
from resentry_core._storage._values import UNSET, Unset
from resentry_core._tokens import Claims, TokenCodec, TokenPair
from resentry_core._usernames import check_username, username_key

_BAD_LOGIN: Final = "incorrect username or password"
_ENDED: Final = "the token has been ended (logout, password change or deactivation); log in again"
_REUSED: Final = (
    "the refresh token was already used: as a stolen token might have been, every session "
    "of this user has been ended; log in again"
)


class AccountStore(UserStore, SessionStore, Protocol):
    """The storage :class:`Accounts` needs."""


class Accounts:
    """Who may use the management API, and the tokens that prove it.

    Every token carries its user's token generation; a token whose generation is no longer
    the user's is refused. A logout, a password change (by the user or an admin), a
    deactivation and a reused refresh token raise the generation, ending every earlier token
    of that user, in every process sharing the database. A web session cookie is one more
    such token, verified by :meth:`user_for_token`, so the same events end it.

    Failed logins are counted in the database per username and per client address, in a
    window that starts at the first failure; at ``max_failures`` (per username) or
    ``max_address_failures`` (per address) further attempts answer RateLimitedError until
    the window ends, without checking the password.

    Args:
        store: where users, token generations and failed logins live.
        passwords: hashes and checks passwords (off the event loop, a bounded number at once).
        tokens: issues and verifies access and refresh tokens.
        clock: the current time, UTC-aware.
        max_failures: failed logins for one username before it is throttled.
        max_address_failures: failed logins from one client address before it is throttled.
        lockout: how long a throttled username or address waits, from its first failure.
    """

    def __init__(
        self,
        store: AccountStore,
        passwords: PasswordHasher,
        tokens: TokenCodec,
        *,
        clock: Callable[[], datetime],
        max_failures: int = 5,
        max_address_failures: int = 20,
        lockout: timedelta = timedelta(minutes=5),
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._tokens = tokens
        self._clock = clock
        self._limits = {"user": max_failures, "address": max_address_failures}
        self._lockout = lockout
        self._dummy_hash: str | None = None

    async def login(
        self, username: str, password: str, *, client_address: str | None = None
    ) -> TokenPair:
        """Check a username and password and issue a token pair.

        Args:
            username: compared case-insensitively after NFKC.
            password: the password.
            client_address: the caller's address, throttled on its own; None when unknown.

        Raises:
            AuthenticationError: unknown user, wrong password or inactive user.
            RateLimitedError: too many recent failures for this username or address.
        """
        keys = _throttle_keys(username, client_address)
        await self._check_throttle(keys)
        credentials = await self._store.get_credentials(username)
        if credentials is None:
            await self._passwords.verify(password, await self._dummy())  # same cost as a miss
        else:
            user, hashed = credentials
            if await self._passwords.verify(password, hashed) and user.is_active:
                await self._store.clear_login_failures(keys[0])
                return self._tokens.issue_pair(user.id, generation=user.token_generation)
        await self._record_failure(keys)
        raise AuthenticationError(_BAD_LOGIN)

    async def refresh(self, refresh_token: str, *, grace: timedelta | None = None) -> TokenPair:
        """Exchange a refresh token for a new pair; the refresh token is used up.

        Presenting a refresh token that was already used ends every token of its user.

        Args:
            refresh_token: a current refresh token of an active user.
            grace: opt-in (the web UI's concurrent renewals): the same refresh token presented
                again within ``grace`` of its first use, in any process, gets another new pair
                instead of counting as a reuse. None: strictly once (the API).

        Raises:
            AuthenticationError: the token is invalid, expired, ended, or already used.
            ValueError: ``grace`` is not positive.
        """
        if grace is not None and grace <= timedelta(0):
            raise ValueError("the refresh grace must be positive")
        claims = self._tokens.verify(refresh_token, kind="refresh")
        user = await self._current_user(claims)
        now = self._clock()
        fresh = await self._store.use_refresh_token(
            claims.token_id,
            user.id,
            claims.expires_at,
            now=now,
            grace_since=None if grace is None else now - grace,
        )
        if not fresh:
            await self._store.end_sessions(user.id)
            raise AuthenticationError(_REUSED)
        return self._tokens.issue_pair(user.id, generation=user.token_generation)

    async def logout(self, access_token: str) -> None:
        """End every token of the access token's user. Raises AuthenticationError."""
        user = await self.user_for_token(access_token)
        await self._store.end_sessions(user.id)

    async def user_for_token(self, access_token: str) -> User:
        """The active user a current access token belongs to. Raises AuthenticationError."""
        return await self._current_user(self._tokens.verify(access_token, kind="access"))

    async def user_named(self, username: str) -> User:
        """The user called ``username`` (as stored). Raises NotFoundError."""
        credentials = await self._store.get_credentials(username)
        if credentials is None:
            raise NotFoundError(f"user {username!r} not found")
        return credentials[0]

    async def create_user(
        self,
        username: str,
        password: str,
        *,
        is_admin: bool = False,
        telegram_chat_id: str | None = None,
        email: str | None = None,
    ) -> User:
        """Create a user with a bcrypt-hashed password.

        Raises:
            InvalidInputError: empty or too long username, unacceptable password, or an
                e-mail address that is not one.
            ConflictError: the username is taken.
        """
        name = check_username(username).display
        address = check_email(email)
        hashed = await self._passwords.hash(password)
        return await self._store.create_user(
            name,
            hashed,
            is_admin=is_admin,
            telegram_chat_id=telegram_chat_id,
            email=address,
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
        email: str | Unset | None = UNSET,
        changed_by: User | None = None,
        current_password: str | None = None,
    ) -> User:
        """Change the fields given (:data:`UNSET`: unchanged); a new password is hashed.

        A new password and a deactivation end every token of the user.

        Users changing their own password (``changed_by`` is the user, admin or not) must give
        their ``current_password``; an admin changing another user's password need not, nor
        need trusted callers that pass no ``changed_by`` (the admin CLI). Wrong current
        passwords count as failed logins of that username.

        Raises:
            PermissionDeniedError: the current password is missing or wrong; nothing changes.
            RateLimitedError: too many recent failures for this username.
            NotFoundError: no such user.
            InvalidInputError: bad username, password or e-mail address.
            ConflictError: username taken, or the last active admin would be lost.
        """
        if password is not UNSET and changed_by is not None and changed_by.id == user_id:
            await self._check_current_password(changed_by.username, current_password)
        losing_an_admin = is_admin is False or is_active is False
        return await self._store.update_user(
            user_id,
            username=username if username is UNSET else check_username(username).display,
            password_hash=password if password is UNSET else await self._passwords.hash(password),
            is_admin=is_admin,
            is_active=is_active,
            telegram_chat_id=telegram_chat_id,
            email=email if email is UNSET else check_email(email),
            end_sessions=password is not UNSET or is_active is False,
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
        keys = _throttle_keys(username, None)
        await self._check_throttle(keys)
        credentials = await self._store.get_credentials(username)
        if credentials is None or not await self._passwords.verify(password, credentials[1]):
            await self._record_failure(keys)
            raise PermissionDeniedError("the current password is wrong")

    async def _active_user(self, user_id: int) -> User:
        try:
            user = await self._store.get_user(user_id)
        except NotFoundError:
            raise AuthenticationError("the token's user no longer exists") from None
        if not user.is_active:
            raise AuthenticationError("the user is inactive")
        return user

    async def _current_user(self, claims: Claims) -> User:
        user = await self._active_user(claims.user_id)
        if claims.generation != user.token_generation:
            raise AuthenticationError(_ENDED)
        return user

    async def _check_throttle(self, keys: Sequence[str]) -> None:
        now = self._clock()
        counts = await self._store.login_failures(keys, since=now - self._lockout)
        for key, (failures, first) in counts.items():
            scope = key.partition(":")[0]
            if failures >= self._limits[scope]:
                what = "username" if scope == "user" else "client address"
                raise RateLimitedError(
                    f"too many failed logins for this {what}; try again later",
                    retry_after=(first + self._lockout - now).total_seconds(),
                )

    async def _record_failure(self, keys: Sequence[str]) -> None:
        now = self._clock()
        await self._store.record_login_failure(keys, now=now, since=now - self._lockout)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._passwords.hash("resentry-timing-equalizer")
        return self._dummy_hash


def _throttle_keys(username: str, client_address: str | None) -> list[str]:
    # The username key first: a successful login clears it (never the address's count).
    keys = [f"user:{username_key(username)}"]
    if client_address:
        keys.append(f"address:{client_address}")
    return keys


def _admin_check(user_id: int, change: str) -> AdminCheck:
    return partial(keep_an_active_admin, user_id, change=change)
