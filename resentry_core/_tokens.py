"""JWT access and refresh tokens for the management API (HS256, PyJWT)."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal
from uuid import uuid4

from resentry_core._clock import utc_now
from resentry_core._errors import AuthenticationError, InvalidInputError

TokenKind = Literal["access", "refresh"]

_ALGORITHM: Final = "HS256"
_MIN_SECRET_BYTES: Final = 32  # RFC 7518 §3.2: an HS256 key must be at least 256 bits
_REQUIRED_CLAIMS: Final = ("sub", "kind", "iat", "exp", "jti", "gen")
_USER_ID: Final = re.compile(r"0|[1-9][0-9]{0,18}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Claims:
    """What a verified token says.

    Attributes:
        user_id: the user the token was issued to.
        kind: ``access`` (API calls) or ``refresh`` (to get a new pair).
        issued_at: when it was issued (UTC, whole seconds).
        expires_at: when it stops being accepted (UTC, whole seconds).
        token_id: a unique id (the ``jti`` claim): a refresh token is used once by it.
        generation: the user's token generation when it was issued (the ``gen`` claim); a
            token whose generation is no longer the user's has been ended.
    """

    user_id: int
    kind: TokenKind
    issued_at: datetime
    expires_at: datetime
    token_id: str
    generation: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenPair:
    """An access token and the refresh token that renews it."""

    access_token: str
    refresh_token: str


class TokenCodec:
    """Issues and verifies HS256-signed JWTs.

    Expiry is checked against the injected ``clock``, never the wall clock, so it is testable
    without sleeping. Only HS256 is accepted: ``alg: none`` and every other algorithm fail.

    Args:
        secret_key: the signing key; at least 32 bytes in UTF-8. There is no default.
        access_ttl: how long an access token is valid.
        refresh_ttl: how long a refresh token is valid.
        clock: returns the current time as an aware datetime.

    Raises:
        InvalidInputError: the key is shorter than 32 bytes, or a TTL is under one second.
    """

    def __init__(
        self,
        secret_key: str,
        *,
        access_ttl: timedelta,
        refresh_ttl: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        key = secret_key.encode("utf-8")
        if len(key) < _MIN_SECRET_BYTES:
            raise InvalidInputError(f"secret key must be at least {_MIN_SECRET_BYTES} bytes")
        for name, ttl in (("access_ttl", access_ttl), ("refresh_ttl", refresh_ttl)):
            if ttl < timedelta(seconds=1):
                raise InvalidInputError(f"{name} must be at least one second, not {ttl}")
        self._key = key
        self._ttls: Mapping[TokenKind, timedelta] = {
            "access": access_ttl,
            "refresh": refresh_ttl,
        }
        self._clock = clock

    def issue_pair(self, user_id: int, *, generation: int) -> TokenPair:
        """Issue a fresh access token and refresh token for ``user_id``.

        Args:
            user_id: the user.
            generation: the user's current token generation, carried in both tokens.

        Raises:
            InvalidInputError: ``user_id`` or ``generation`` is negative.
        """
        if user_id < 0 or generation < 0:
            raise InvalidInputError(
                f"user id and generation must not be negative, not {user_id}, {generation}"
            )
        issued_at = int(self._now().timestamp())
        return TokenPair(
            access_token=self._issue(user_id, "access", issued_at, generation),
            refresh_token=self._issue(user_id, "refresh", issued_at, generation),
        )

    def verify(self, token: str, *, kind: TokenKind) -> Claims:
        """Check a token's signature, claims, kind and expiry.

        Args:
            token: the encoded JWT.
            kind: the kind the caller needs; a refresh token is no access token, and back.

        Raises:
            AuthenticationError: the token is malformed, not HS256, signed with another key,
                missing a claim, of the other kind, or expired.
        """
        import jwt  # here, not at the top: PyJWT brings cryptography (~100 ms to import)

        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                options={
                    "require": list(_REQUIRED_CLAIMS),
                    # Checked below against the injected clock.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from None
        claims = _claims(payload)
        if claims.kind != kind:
            raise AuthenticationError(f"invalid token: a {claims.kind} token, not {kind}")
        if self._now() >= claims.expires_at:
            raise AuthenticationError("invalid token: expired")
        return claims

    def _issue(self, user_id: int, kind: TokenKind, issued_at: int, generation: int) -> str:
        import jwt  # see verify

        expires_at = issued_at + int(self._ttls[kind].total_seconds())
        payload = {
            "sub": str(user_id),
            "kind": kind,
            "iat": issued_at,
            "exp": expires_at,
            "jti": uuid4().hex,
            "gen": generation,
        }
        return jwt.encode(payload, self._key, algorithm=_ALGORITHM)

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise InvalidInputError("the clock must return an aware datetime")
        return now


def _claims(payload: dict[str, Any]) -> Claims:
    sub, kind, jti = payload["sub"], payload["kind"], payload["jti"]
    iat, exp, gen = payload["iat"], payload["exp"], payload["gen"]
    if not (isinstance(sub, str) and _USER_ID.fullmatch(sub)):
        raise AuthenticationError("invalid token: malformed 'sub' claim")
    if kind not in ("access", "refresh"):
        raise AuthenticationError("invalid token: malformed 'kind' claim")
    if not (isinstance(jti, str) and jti):
        raise AuthenticationError("invalid token: malformed 'jti' claim")
    for name, value in (("iat", iat), ("exp", exp), ("gen", gen)):
        if type(value) is not int or not 0 <= value < 2**40:
            raise AuthenticationError(f"invalid token: malformed {name!r} claim")
    return Claims(
        user_id=int(sub),
        kind=kind,
        issued_at=datetime.fromtimestamp(iat, UTC),
        expires_at=datetime.fromtimestamp(exp, UTC),
        token_id=jti,
        generation=gen,
    )
