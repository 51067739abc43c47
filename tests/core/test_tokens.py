"""JWT access/refresh tokens: HS256 only, injected clock, every rejection an AuthenticationError."""

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resentry_core._errors import AuthenticationError, InvalidInputError
from resentry_core._tokens import Claims, TokenCodec, TokenKind

SECRET = "s" * 64
OTHER_SECRET = "o" * 64
START = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=7)


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A clock stopped at START."""
    return Clock()


@pytest.fixture
def codec(clock: Clock) -> TokenCodec:
    """A codec on the test clock."""
    return TokenCodec(SECRET, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL, clock=clock)


def _claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "7",
        "kind": "access",
        "iat": int(START.timestamp()),
        "exp": int((START + ACCESS_TTL).timestamp()),
        "jti": "abc",
        "gen": 0,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _sign(claims: dict[str, Any], key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def test_issue_and_verify_a_pair(codec: TokenCodec) -> None:
    """Both tokens verify as their own kind with the user, times and distinct ids."""
    pair = codec.issue_pair(7, generation=3)
    access = codec.verify(pair.access_token, kind="access")
    refresh = codec.verify(pair.refresh_token, kind="refresh")
    assert access == Claims(
        user_id=7,
        kind="access",
        issued_at=START,
        expires_at=START + ACCESS_TTL,
        token_id=access.token_id,
        generation=3,
    )
    assert (refresh.kind, refresh.expires_at, refresh.generation) == (
        "refresh",
        START + REFRESH_TTL,
        3,
    )
    assert refresh.user_id == 7
    assert access.token_id != refresh.token_id


def test_token_ids_are_unique(codec: TokenCodec) -> None:
    """Every issued token has its own id, so one can be revoked alone."""
    ids = set()
    for _ in range(20):
        pair = codec.issue_pair(1, generation=0)
        ids.add(codec.verify(pair.access_token, kind="access").token_id)
        ids.add(codec.verify(pair.refresh_token, kind="refresh").token_id)
    assert len(ids) == 40


def test_header_pins_hs256(codec: TokenCodec) -> None:
    """Issued tokens are HS256 JWTs."""
    token = codec.issue_pair(1, generation=0).access_token
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


@pytest.mark.parametrize(("kind", "ttl"), [("access", ACCESS_TTL), ("refresh", REFRESH_TTL)])
def test_expiry_follows_the_injected_clock(
    codec: TokenCodec, clock: Clock, kind: TokenKind, ttl: timedelta
) -> None:
    """A token is valid up to one second before ``exp`` and expired from ``exp`` on."""
    pair = codec.issue_pair(3, generation=0)
    token = pair.access_token if kind == "access" else pair.refresh_token
    clock.now = START + ttl - timedelta(seconds=1)
    assert codec.verify(token, kind=kind).user_id == 3
    clock.now = START + ttl
    with pytest.raises(AuthenticationError, match="expired"):
        codec.verify(token, kind=kind)


def test_refresh_token_is_not_an_access_token(codec: TokenCodec) -> None:
    """A refresh token is refused where an access token is needed."""
    with pytest.raises(AuthenticationError, match="refresh token, not access"):
        codec.verify(codec.issue_pair(1, generation=0).refresh_token, kind="access")


def test_access_token_is_not_a_refresh_token(codec: TokenCodec) -> None:
    """An access token is refused where a refresh token is needed."""
    with pytest.raises(AuthenticationError, match="access token, not refresh"):
        codec.verify(codec.issue_pair(1, generation=0).access_token, kind="refresh")


def test_alg_none_is_refused(codec: TokenCodec) -> None:
    """An unsigned token (``alg: none``) is refused."""
    token = jwt.encode(_claims(), "", algorithm="none")  # "" means no key
    with pytest.raises(AuthenticationError, match="alg"):
        codec.verify(token, kind="access")


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_algorithms_are_refused(codec: TokenCodec, algorithm: str) -> None:
    """A token signed with the right key but another algorithm is refused."""
    with pytest.raises(AuthenticationError, match="alg"):
        codec.verify(_sign(_claims(), algorithm=algorithm), kind="access")


def test_forged_alg_header_is_refused(codec: TokenCodec) -> None:
    """Rewriting a valid token's header to ``alg: none`` and dropping the signature fails."""
    _, payload, _ = codec.issue_pair(1, generation=0).access_token.split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    with pytest.raises(AuthenticationError):
        codec.verify(f"{header}.{payload}.", kind="access")


def test_tampered_signature_is_refused(codec: TokenCodec) -> None:
    """Changing one character of the signature invalidates the token."""
    token = codec.issue_pair(1, generation=0).access_token
    head, _, signature = token.rpartition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(AuthenticationError, match="Signature verification failed"):
        codec.verify(f"{head}.{flipped}", kind="access")


def test_tampered_payload_is_refused(codec: TokenCodec) -> None:
    """Swapping in a payload for another user keeps the old signature, which then fails."""
    header, _, signature = codec.issue_pair(1, generation=0).access_token.split(".")
    forged = json.dumps(_claims(sub="1000")).encode()
    payload = base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    with pytest.raises(AuthenticationError, match="Signature verification failed"):
        codec.verify(f"{header}.{payload}.{signature}", kind="access")


def test_wrong_secret_is_refused(codec: TokenCodec, clock: Clock) -> None:
    """A token from a codec with another key is refused."""
    other = TokenCodec(OTHER_SECRET, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL, clock=clock)
    with pytest.raises(AuthenticationError, match="Signature verification failed"):
        codec.verify(other.issue_pair(1, generation=0).access_token, kind="access")


@pytest.mark.parametrize("claim", ["sub", "kind", "iat", "exp", "jti", "gen"])
def test_missing_claim_is_refused(codec: TokenCodec, claim: str) -> None:
    """A correctly signed token without one of the required claims is refused."""
    with pytest.raises(AuthenticationError, match=claim):
        codec.verify(_sign(_claims(**{claim: None})), kind="access")


@pytest.mark.parametrize(
    "overrides",
    [
        {"sub": "abc"},
        {"sub": "-1"},
        {"sub": "007"},
        {"kind": "admin"},
        {"kind": ["access"]},
        {"jti": ""},
        {"jti": 5},
        {"iat": "1735732800"},
        {"exp": 1735733700.5},
        {"exp": True},
        {"exp": 2**41},
        {"gen": -1},
        {"gen": "0"},
    ],
)
def test_malformed_claims_are_refused(codec: TokenCodec, overrides: dict[str, Any]) -> None:
    """Correctly signed tokens with claims of the wrong shape are refused."""
    with pytest.raises(AuthenticationError, match="invalid token"):
        codec.verify(_sign(_claims(**overrides)), kind="access")


def test_well_formed_foreign_token_with_our_key_is_accepted(codec: TokenCodec) -> None:
    """A token built by hand with every claim and our key verifies (the format is the contract)."""
    claims = codec.verify(_sign(_claims()), kind="access")
    assert (claims.user_id, claims.token_id) == (7, "abc")


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "a.b", "....", "eyJ.eyJ.sig", "ü.ü.ü"])
def test_garbage_tokens_are_refused(codec: TokenCodec, token: str) -> None:
    """Strings that are not JWTs are refused as AuthenticationError."""
    with pytest.raises(AuthenticationError, match="invalid token"):
        codec.verify(token, kind="access")


@pytest.mark.parametrize("secret", ["", "short", "x" * 31, "é" * 15])
def test_weak_secret_is_refused(secret: str) -> None:
    """Keys shorter than 32 bytes (RFC 7518 §3.2) are refused."""
    with pytest.raises(InvalidInputError, match="32 bytes"):
        TokenCodec(secret, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL)


def test_thirty_two_byte_secret_is_enough() -> None:
    """A 32-byte key (counted in UTF-8 bytes) is accepted."""
    TokenCodec("é" * 16, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL)


@pytest.mark.parametrize(
    ("access_ttl", "refresh_ttl"),
    [(timedelta(0), REFRESH_TTL), (ACCESS_TTL, timedelta(milliseconds=500))],
)
def test_ttl_under_a_second_is_refused(access_ttl: timedelta, refresh_ttl: timedelta) -> None:
    """Token lifetimes are whole seconds, at least one."""
    with pytest.raises(InvalidInputError, match="ttl"):
        TokenCodec(SECRET, access_ttl=access_ttl, refresh_ttl=refresh_ttl)


@pytest.mark.parametrize(("user_id", "generation"), [(-1, 0), (1, -1)])
def test_negative_user_id_or_generation_is_refused(
    codec: TokenCodec, user_id: int, generation: int
) -> None:
    """User ids and token generations are not negative."""
    with pytest.raises(InvalidInputError):
        codec.issue_pair(user_id, generation=generation)


def test_naive_clock_is_refused() -> None:
    """A clock returning a naive datetime would shift expiry by the local offset: refused."""
    codec = TokenCodec(
        SECRET, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL, clock=lambda: datetime(2025, 1, 1)
    )
    with pytest.raises(InvalidInputError, match="aware"):
        codec.issue_pair(1, generation=0)


def test_default_clock_is_the_wall_clock() -> None:
    """Without a clock, tokens are issued now and valid now."""
    codec = TokenCodec(SECRET, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL)
    before = datetime.now(UTC).replace(microsecond=0)
    claims = codec.verify(codec.issue_pair(2, generation=0).access_token, kind="access")
    assert before <= claims.issued_at <= datetime.now(UTC)


@given(st.text(max_size=300))
def test_arbitrary_strings_are_authentication_errors(token: str) -> None:
    """No input makes verify raise anything but AuthenticationError."""
    codec = TokenCodec(SECRET, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL, clock=Clock())
    with pytest.raises(AuthenticationError):
        codec.verify(token, kind="access")


@given(
    st.dictionaries(
        st.sampled_from(["sub", "kind", "iat", "exp", "jti", "x"]),
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    )
)
def test_arbitrary_signed_claims_verify_or_raise_authentication_error(
    claims: dict[str, Any],
) -> None:
    """Any correctly signed claim set either verifies to sane Claims or is refused."""
    codec = TokenCodec(SECRET, access_ttl=ACCESS_TTL, refresh_ttl=REFRESH_TTL, clock=Clock())
    try:
        verified = codec.verify(_sign(claims), kind="access")
    except AuthenticationError:
        return
    assert verified.kind == "access" and verified.user_id >= 0
    assert verified.expires_at > START
