"""Sentry request authentication: sources, header grammar, key and version checks, as Relay."""

import pytest
import sentry_sdk.utils
from hypothesis import given
from hypothesis import strategies as st

from resentry_core._dsn import (
    SentryAuth,
    envelope_sentry_auth,
    parse_sentry_auth,
    request_sentry_auth,
)
from resentry_core._errors import AuthenticationError, EnvelopeError, InvalidAuthError

KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"


def _header(key: str = KEY, *extra: str) -> str:
    return ", ".join([f"Sentry sentry_key={key}", "sentry_version=7", *extra])


def test_python_sdk_header() -> None:
    """The header sentry-python actually sends is understood."""
    dsn = sentry_sdk.utils.Dsn(f"https://{KEY}@example.com/42")
    header = dsn.to_auth(client="sentry.python/2.18.0").to_header()
    assert parse_sentry_auth(x_sentry_auth=header) == SentryAuth(
        public_key=KEY, version=7, client="sentry.python/2.18.0", source="header"
    )


def test_python_sdk_header_with_secret() -> None:
    """A DSN with a (deprecated) secret makes the SDK send sentry_secret, which is kept."""
    dsn = sentry_sdk.utils.Dsn(f"https://{KEY}:s3cret@example.com/42")
    auth = parse_sentry_auth(x_sentry_auth=dsn.to_auth().to_header())
    assert (auth.public_key, auth.secret) == (KEY, "s3cret")


def test_authorization_header_with_sentry_scheme() -> None:
    """``Authorization: Sentry …`` is read with the same grammar."""
    auth = parse_sentry_auth(authorization=_header())
    assert (auth.public_key, auth.source) == (KEY, "authorization")


def test_query_auth_as_browser_sdks_send_it() -> None:
    """The browser SDK's query string (percent-encoded client) is read from the raw query."""
    query = f"sentry_version=7&sentry_key={KEY}&sentry_client=sentry.javascript.browser%2F9.1.0"
    assert parse_sentry_auth(query=query) == SentryAuth(
        public_key=KEY, version=7, client="sentry.javascript.browser/9.1.0", source="query"
    )
    assert parse_sentry_auth(query="?" + query).public_key == KEY


def test_query_auth_from_decoded_pairs() -> None:
    """A framework's decoded query mapping works like the raw string."""
    auth = parse_sentry_auth(query={"sentry_key": KEY, "sentry_version": "7", "other": "x"})
    assert (auth.public_key, auth.source) == (KEY, "query")


def test_query_without_sentry_pairs_is_ignored() -> None:
    """A query that never mentions ``sentry_`` is not auth at all."""
    with pytest.raises(AuthenticationError, match="missing authorization information"):
        parse_sentry_auth(query="page=2&sort=desc")
    with pytest.raises(AuthenticationError, match="missing authorization information"):
        parse_sentry_auth(query={"page": "2"})


def test_envelope_dsn_only() -> None:
    """An envelope whose header carries the DSN authenticates itself."""
    auth = parse_sentry_auth(envelope_dsn=f"https://{KEY}@example.com/42")
    assert auth == SentryAuth(public_key=KEY, source="envelope")


def test_envelope_dsn_is_only_a_fallback() -> None:
    """With request auth present the envelope dsn is not a source (envelope_sentry_auth checks
    it agrees)."""
    auth = parse_sentry_auth(
        x_sentry_auth=_header(), envelope_dsn=f"https://{OTHER_KEY}@example.com/42"
    )
    assert (auth.public_key, auth.source) == (KEY, "header")


def test_unparsable_envelope_dsn() -> None:
    """An envelope dsn that is no DSN is a bad envelope authentication header (401)."""
    with pytest.raises(AuthenticationError, match="bad envelope authentication header"):
        parse_sentry_auth(envelope_dsn="not a dsn")


def test_missing_auth() -> None:
    """No source at all is 401 "missing authorization information"."""
    with pytest.raises(AuthenticationError, match="missing authorization information"):
        parse_sentry_auth()


def test_same_key_from_several_sources_is_accepted() -> None:
    """The same key from header and query is fine (ingest_routes.md); the header wins as source."""
    auth = parse_sentry_auth(
        x_sentry_auth=_header(), authorization=_header(), query=f"sentry_key={KEY}"
    )
    assert (auth.public_key, auth.source) == (KEY, "header")


def test_same_key_with_and_without_flags_is_the_same_key() -> None:
    """``key.no-cache`` and ``key`` are one key."""
    auth = parse_sentry_auth(x_sentry_auth=_header(f"{KEY}.no-cache"), query=f"sentry_key={KEY}")
    assert auth.public_key == KEY


@pytest.mark.parametrize(
    "sources",
    [
        {"x_sentry_auth": _header(), "query": f"sentry_key={OTHER_KEY}"},
        {"x_sentry_auth": _header(), "authorization": _header(OTHER_KEY)},
        {"authorization": _header(), "query": {"sentry_key": OTHER_KEY}},
        {"x_sentry_auth": _header(), "query": "sentry_key=short"},
    ],
)
def test_different_keys_from_different_sources(sources: dict[str, object]) -> None:
    """Several sources with different keys are 401, before any format check."""
    with pytest.raises(AuthenticationError, match="different keys"):
        parse_sentry_auth(**sources)  # type: ignore[arg-type]


@pytest.mark.parametrize("query", ["sentry_release=1", "x=sentry_y", "sentry_version=7"])
def test_query_mentioning_sentry_without_a_key(query: str) -> None:
    """A ``sentry_`` query without ``sentry_key`` is a bad auth payload."""
    with pytest.raises(AuthenticationError, match="bad x-sentry-auth header"):
        parse_sentry_auth(query=query)


@pytest.mark.parametrize(
    "header", ["Bearer abc", f"Basic {KEY}", "Sentryx sentry_key=k", "Sentry", "", "   "]
)
def test_non_sentry_prefix_is_ignored(header: str) -> None:
    """Headers in another scheme are treated as absent."""
    with pytest.raises(AuthenticationError, match="missing authorization information"):
        parse_sentry_auth(x_sentry_auth=header, authorization=header)
    assert parse_sentry_auth(x_sentry_auth=header, query=f"sentry_key={KEY}").source == "query"


@pytest.mark.parametrize("prefix", ["Sentry ", "sentry ", "SENTRY ", "  Sentry "])
def test_prefix_is_case_insensitive(prefix: str) -> None:
    """The ``Sentry`` scheme name is matched case-insensitively."""
    assert parse_sentry_auth(x_sentry_auth=f"{prefix}sentry_key={KEY}").public_key == KEY


@pytest.mark.parametrize(("version", "expected"), [("7", 7), ("7.0", 7), ("6", 6), ("+7", 7)])
def test_accepted_versions(version: str, expected: int) -> None:
    """The text before the first dot is the version."""
    auth = parse_sentry_auth(x_sentry_auth=f"Sentry sentry_key={KEY}, sentry_version={version}")
    assert auth.version == expected


def test_missing_version_means_7() -> None:
    """Without ``sentry_version`` the protocol version is 7."""
    assert parse_sentry_auth(x_sentry_auth=f"Sentry sentry_key={KEY}").version == 7


@pytest.mark.parametrize("version", ["8", "8.0", "65535"])
def test_newer_version_is_unsupported(version: str) -> None:
    """A protocol newer than 7 is 400 "unsupported protocol version (N)"."""
    with pytest.raises(InvalidAuthError, match=rf"unsupported protocol version \({version[0]}"):
        parse_sentry_auth(x_sentry_auth=f"Sentry sentry_key={KEY}, sentry_version={version}")


@pytest.mark.parametrize("version", ["x", "", "-1", "7x", "65536", ".7"])
def test_non_numeric_version_is_bad_auth(version: str) -> None:
    """A version that is not a u16 is 401 "bad x-sentry-auth header"."""
    with pytest.raises(AuthenticationError, match="bad x-sentry-auth header"):
        parse_sentry_auth(x_sentry_auth=f"Sentry sentry_key={KEY}, sentry_version={version}")


def test_extra_spaces_reordering_secret_and_timestamp() -> None:
    """Spacing, order and deprecated pairs do not matter."""
    header = (
        f"Sentry   sentry_timestamp=1700000000.5 ,sentry_client = raven-js/3.27.0,"
        f"  sentry_secret=abc ,  sentry_key =  {KEY}  , sentry_version=7 "
    )
    assert parse_sentry_auth(x_sentry_auth=header) == SentryAuth(
        public_key=KEY, version=7, client="raven-js/3.27.0", secret="abc", source="header"
    )


def test_key_flags_are_stripped() -> None:
    """Relay's ``key.flags`` suffix is not part of the key."""
    assert parse_sentry_auth(x_sentry_auth=_header(f"{KEY}.no-cache")).public_key == KEY


@pytest.mark.parametrize(
    "key", [KEY[:-1], KEY + "0", "short", ".no-cache", KEY[:-1] + "\u00e9", f"{KEY[:-1]}.x"]
)
def test_key_of_wrong_length_is_bad_public_key(key: str) -> None:
    """A key that is not exactly 32 ASCII characters is 400 "bad sentry DSN public key"."""
    with pytest.raises(InvalidAuthError, match="bad sentry DSN public key"):
        parse_sentry_auth(x_sentry_auth=_header(key))


@pytest.mark.parametrize(
    "header", ["Sentry sentry_version=7", "Sentry sentry_key=", "Sentry sentry_key", "Sentry , ,"]
)
def test_missing_key_is_bad_auth(header: str) -> None:
    """A Sentry header without a key is 401 "bad x-sentry-auth header"."""
    with pytest.raises(AuthenticationError, match="bad x-sentry-auth header"):
        parse_sentry_auth(x_sentry_auth=header)


def test_header_grammar_quirks() -> None:
    """Items without ``=`` are skipped, unknown keys ignored, duplicates resolved last-wins,
    and a value holding ``=`` keeps only its first part (sentry-types ``Auth::from_str``)."""
    header = (
        f"Sentry garbage, sentry_key={OTHER_KEY}, sentry_key={KEY}, unknown=1, "
        "sentry_client=a=b, sentry_version=6, sentry_version=7"
    )
    assert parse_sentry_auth(x_sentry_auth=header) == SentryAuth(
        public_key=KEY, version=7, client="a", source="header"
    )


def test_version_of_every_source_is_checked() -> None:
    """A newer version in a second, agreeing source is still refused."""
    with pytest.raises(InvalidAuthError, match="unsupported protocol version"):
        parse_sentry_auth(x_sentry_auth=_header(), query=f"sentry_key={KEY}&sentry_version=8")


# --- Envelope header dsn consistency (Relay's test_parse_request_validate_*) -----------------


HEADER_AUTH = SentryAuth(public_key=KEY, source="header")


def test_parse_request_validate_project() -> None:
    """An envelope dsn naming another project is refused (Relay test_parse_request_validate_*)."""
    for request_auth in (HEADER_AUTH, None):
        with pytest.raises(EnvelopeError, match="project id mismatch between envelope and request"):
            envelope_sentry_auth(
                f"https://{KEY}@example.com/43", project_id=42, request_auth=request_auth
            )


def test_parse_request_validate_key() -> None:
    """An envelope dsn naming another key is a conflicting credential: 401, not 400."""
    with pytest.raises(
        AuthenticationError, match="public key mismatch between envelope and request"
    ):
        envelope_sentry_auth(
            f"https://{OTHER_KEY}@example.com/42", project_id=42, request_auth=HEADER_AUTH
        )


def test_matching_envelope_dsn_passes() -> None:
    """An envelope dsn naming the request's project and key is fine, whatever its host."""
    dsn = f"http://{KEY}@other-host:9000/prefix/42"
    assert envelope_sentry_auth(dsn, project_id=42, request_auth=HEADER_AUTH) == HEADER_AUTH


def test_invalid_envelope_dsn_is_an_envelope_error() -> None:
    """Besides request auth, an envelope dsn that is no DSN is a malformed envelope header (400)."""
    with pytest.raises(EnvelopeError, match="dsn"):
        envelope_sentry_auth("nonsense", project_id=42, request_auth=HEADER_AUTH)


def test_envelope_dsn_alone_is_the_credential() -> None:
    """Without request auth the dsn authenticates: its key, checked like any other (400), and an
    unparsable one is a bad envelope authentication header (401)."""
    auth = envelope_sentry_auth(f"https://{KEY}@example.com/42", project_id=42, request_auth=None)
    assert auth == SentryAuth(public_key=KEY, source="envelope")
    with pytest.raises(InvalidAuthError, match="bad sentry DSN public key"):
        envelope_sentry_auth("https://short@example.com/42", project_id=42, request_auth=None)
    with pytest.raises(AuthenticationError, match="bad envelope authentication header"):
        envelope_sentry_auth("nonsense", project_id=42, request_auth=None)


def test_request_without_sentry_credentials_has_none() -> None:
    """Missing request credentials are not an error yet (the envelope may carry a dsn), but
    malformed or conflicting ones are."""
    assert request_sentry_auth(authorization="Bearer abc", query="page=2") is None
    assert request_sentry_auth(x_sentry_auth=_header()) == SentryAuth(
        public_key=KEY, version=7, source="header"
    )
    with pytest.raises(AuthenticationError, match="bad x-sentry-auth header"):
        request_sentry_auth(x_sentry_auth="Sentry sentry_version=7")
    with pytest.raises(AuthenticationError, match="multiple authorization payloads"):
        request_sentry_auth(x_sentry_auth=_header(), query=f"sentry_key={OTHER_KEY}")


# --- Properties -------------------------------------------------------------------------------

_AUTH_ERRORS = (AuthenticationError, InvalidAuthError)


def _parses_or_refuses(**sources: object) -> None:
    try:
        auth = parse_sentry_auth(**sources)  # type: ignore[arg-type]
    except _AUTH_ERRORS:
        return
    assert len(auth.public_key) == 32
    assert auth.version <= 7


@given(st.text(max_size=200), st.text(max_size=200))
def test_arbitrary_headers_parse_or_raise_auth_errors(header: str, authorization: str) -> None:
    """Arbitrary header values give a valid SentryAuth or an auth error, nothing else."""
    _parses_or_refuses(x_sentry_auth=header, authorization=authorization)


@given(st.text(max_size=200))
def test_arbitrary_sentry_headers_parse_or_raise_auth_errors(items: str) -> None:
    """Arbitrary text after ``Sentry `` gives a valid SentryAuth or an auth error."""
    _parses_or_refuses(x_sentry_auth="Sentry " + items)


@given(
    st.text(max_size=200) | st.dictionaries(st.text(max_size=20), st.text(max_size=40)),
    st.none() | st.text(max_size=100),
)
def test_arbitrary_queries_and_dsns_parse_or_raise_auth_errors(
    query: str | dict[str, str], envelope_dsn: str | None
) -> None:
    """Arbitrary queries and envelope dsns give a valid SentryAuth or an auth error."""
    _parses_or_refuses(query=query, envelope_dsn=envelope_dsn)


@given(
    key=st.from_regex(r"[0-9a-f]{32}", fullmatch=True),
    version=st.integers(0, 7),
    client=st.from_regex(r"[a-z.]{1,20}/[0-9.]{1,10}", fullmatch=True),
)
def test_well_formed_headers_round_trip(key: str, version: int, client: str) -> None:
    """Any well-formed header yields exactly its key, version and client."""
    header = f"Sentry sentry_key={key}, sentry_version={version}, sentry_client={client}"
    assert parse_sentry_auth(x_sentry_auth=header) == SentryAuth(
        public_key=key, version=version, client=client, source="header"
    )


@pytest.mark.parametrize("padding", [0, 2000], ids=["cached", "too long to cache"])
def test_repeated_requests_get_the_same_answers(padding: int) -> None:
    """A header seen before gives the same credentials, and a bad one is refused every time,
    whether or not the answer was remembered."""
    header = _header(KEY, "sentry_client=" + "x" * padding)
    bad = _header("short", "sentry_client=" + "x" * padding)
    for _ in range(2):
        assert parse_sentry_auth(x_sentry_auth=header).public_key == KEY
        with pytest.raises(InvalidAuthError):
            parse_sentry_auth(x_sentry_auth=bad)
