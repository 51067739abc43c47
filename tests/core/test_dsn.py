"""DSN parsing and building, checked against sentry-python, sentry-rust and the JS SDK's rules."""

import re

import pytest
import sentry_sdk.utils
from hypothesis import given
from hypothesis import strategies as st

from resentry_core._dsn import Dsn
from resentry_core._errors import InvalidInputError

KEY = "0123456789abcdef0123456789abcdef"


# --- sentry-python tests/utils/test_general.py ---------------------------------------------


@pytest.mark.parametrize(
    ("given_dsn", "expected_envelope"),
    [
        ("https://foobar@sentry.io/123", "https://sentry.io/api/123/envelope/"),
        ("https://foobar@sentry.io/bam/123", "https://sentry.io/bam/api/123/envelope/"),
        ("https://foobar@sentry.io/bam/baz/123", "https://sentry.io/bam/baz/api/123/envelope/"),
    ],
)
def test_parse_dsn_paths(given_dsn: str, expected_envelope: str) -> None:
    """A path prefix is kept between the host and ``/api/`` (sentry-python)."""
    assert Dsn.parse(given_dsn).envelope_url() == expected_envelope


@pytest.mark.parametrize(
    "dsn",
    [
        "https://foobar@sentry.io",
        "https://foobar@sentry.io/",
        "https://foobar@sentry.io/asdf",
        "https://foobar@sentry.io/asdf/",
        "https://foobar@sentry.io/asdf/123/",
    ],
)
def test_parse_invalid_dsn(dsn: str) -> None:
    """No project id, a non-numeric one, or a trailing slash is refused (sentry-python)."""
    with pytest.raises(InvalidInputError):
        Dsn.parse(dsn)


@pytest.mark.parametrize(
    ("dsn", "error_message"),
    [
        ("foo://barbaz@sentry.io", "Unsupported scheme 'foo'"),
        ("https://foobar@", "Missing hostname"),
        ("https://@sentry.io", "Missing public key"),
    ],
)
def test_dsn_validations(dsn: str, error_message: str) -> None:
    """The error says what is wrong, in sentry-python's words."""
    with pytest.raises(InvalidInputError) as info:
        Dsn.parse(dsn)
    assert str(info.value) == error_message


# --- sentry-rust sentry-types/src/dsn.rs ----------------------------------------------------


def test_dsn_parsing() -> None:
    """Every component is parsed, and the DSN prints back as given (sentry-rust)."""
    url = "https://username:password@domain:8888/23"
    dsn = Dsn.parse(url)
    assert dsn == Dsn(
        scheme="https",
        public_key="username",
        secret_key="password",
        host="domain",
        port=8888,
        path="",
        project_id=23,
    )
    assert str(dsn) == url


def test_dsn_no_port() -> None:
    """Without a port the https default is used and the endpoints have none (sentry-rust)."""
    dsn = Dsn.parse("https://username@domain/42")
    assert dsn.port is None
    assert str(dsn) == "https://username@domain/42"
    assert dsn.store_url() == "https://domain/api/42/store/"
    assert dsn.envelope_url() == "https://domain/api/42/envelope/"


def test_insecure_dsn_no_port() -> None:
    """Without a port the http default is used (sentry-rust)."""
    dsn = Dsn.parse("http://username@domain/42")
    assert dsn.store_url() == "http://domain/api/42/store/"
    assert dsn.envelope_url() == "http://domain/api/42/envelope/"


def test_dsn_no_password() -> None:
    """``user:@host`` has no secret, and prints without the colon (sentry-rust)."""
    dsn = Dsn.parse("https://username:@domain:8888/42")
    assert dsn.secret_key is None
    assert str(dsn) == "https://username@domain:8888/42"
    assert dsn.envelope_url() == "https://domain:8888/api/42/envelope/"


def test_dsn_non_integer_project_id() -> None:
    """Unlike sentry-rust, a non-integer project id is refused: Python and JS SDKs refuse it."""
    with pytest.raises(InvalidInputError, match="Invalid project"):
        Dsn.parse("https://username:password@domain:8888/abc123youandme%21%21")


def test_dsn_more_than_one_non_integer_path() -> None:
    """Several prefix segments are kept as the path (sentry-rust)."""
    dsn = Dsn.parse("http://username@domain:8888/pathone/pathtwo/42")
    assert dsn.path == "/pathone/pathtwo"
    assert dsn.project_id == 42
    assert dsn.envelope_url() == "http://domain:8888/pathone/pathtwo/api/42/envelope/"


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("https://:password@domain:8888/23", "Missing public key"),  # test_dsn_no_username
        ("random string", "expected scheme://key@host/project_id"),  # test_dsn_invalid_url
        ("https://username:password@:8888/42", "Missing hostname"),  # test_dsn_no_host
        ("https://username:password@domain:8888/", "Missing project id"),  # _no_project_id
        ("ftp://username:password@domain:8888/1", "Unsupported scheme 'ftp'"),  # invalid_scheme
    ],
)
def test_dsn_rust_rejections(dsn: str, message: str) -> None:
    """The DSNs sentry-rust rejects are rejected with a clear message."""
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        Dsn.parse(dsn)


# --- Resentry's own rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "dsn",
    [
        "https://pub-key@h/1",  # JS SDK: key must match \w+
        "https://key:sec-ret@h/1",  # ... and so must the secret
        "https://k%41y@h/1",
        "https://k@ho st/1",
        "https://k@h:0/1",
        "https://k@h:65536/1",
        "https://k@h:8x/1",
        "https://k@h:/1",
        "https://k@h/1?sentry_key=x",
        "https://k@h/1#fragment",
        "https://k@h//1",
        "https://k@h/a//1",
        "https://k@h/../1",
        "https://k@h/a b/1",
        "https://k@h/+1",
        "https://k@h/-1",
        "https://k@h/18446744073709551616",  # > u64, Relay's ProjectId
        "https://k@[::1/1",
        "https://k@[not-ipv6]/1",
        "https://k@[::1]x/1",
        "https://k@h/\u0661",  # an Arabic-Indic digit, which int() would accept
        "https:/k@h/1",
        "",
    ],
)
def test_dsns_some_sdk_would_refuse_are_refused(dsn: str) -> None:
    """Anything outside what every SDK accepts raises InvalidInputError (a ValueError)."""
    with pytest.raises(ValueError, match=r"."):
        Dsn.parse(dsn)


def test_scheme_and_host_are_lower_cased_and_default_port_dropped() -> None:
    """Case-insensitive parts are normalized and an explicit default port is omitted."""
    dsn = Dsn.parse("HTTPS://Key@Sentry.Example.COM:443/7")
    assert str(dsn) == "https://Key@sentry.example.com/7"
    assert Dsn.parse("http://k@h:80/7").port is None
    assert Dsn.parse("http://k@h:443/7").port == 443


def test_surrounding_whitespace_is_ignored() -> None:
    """A DSN pasted with a trailing newline parses."""
    assert str(Dsn.parse("  http://k@h/7\n")) == "http://k@h/7"


def test_ipv6_host_keeps_its_brackets() -> None:
    """An IPv6 host is kept bracketed, so URLs built from it are valid."""
    dsn = Dsn.parse("http://k@[2001:DB8::1]:9000/errors/7")
    assert dsn.host == "[2001:db8::1]"
    assert dsn.envelope_url() == "http://[2001:db8::1]:9000/errors/api/7/envelope/"
    assert str(Dsn.parse(str(dsn))) == str(dsn)


def test_leading_zeros_in_the_project_id_are_dropped() -> None:
    """The project id is a number; it prints without leading zeros, as SDKs send it."""
    assert Dsn.parse("http://k@h/007").project_id == 7


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://localhost:8000", f"http://{KEY}@localhost:8000/42"),
        ("http://localhost:8000/", f"http://{KEY}@localhost:8000/42"),
        ("http://host:8000/errors", f"http://{KEY}@host:8000/errors/42"),
        ("https://example.com:443/a/b/", f"https://{KEY}@example.com/a/b/42"),
    ],
)
def test_build_from_the_server_base_url(base_url: str, expected: str) -> None:
    """A server's public URL, with any mount prefix, gives the DSN SDKs need (ingest_routes.md)."""
    dsn = Dsn.build(base_url, KEY, 42)
    assert str(dsn) == expected
    assert dsn.envelope_url() == f"{base_url.rstrip('/').replace(':443', '')}/api/42/envelope/"


@pytest.mark.parametrize(
    ("base_url", "key", "project_id"),
    [
        ("ftp://host", KEY, 1),
        ("http://user@host", KEY, 1),
        ("http://host/?x=1", KEY, 1),
        ("http://host//", KEY, 1),
        ("host:8000", KEY, 1),
        ("http://host", "bad-key", 1),
        ("http://host", "", 1),
        ("http://host", KEY, -1),
        ("http://host", KEY, 2**64),
    ],
)
def test_build_refuses_what_would_make_a_bad_dsn(base_url: str, key: str, project_id: int) -> None:
    """Building never produces a DSN that an SDK would refuse."""
    with pytest.raises(InvalidInputError):
        Dsn.build(base_url, key, project_id)


def test_base_url_has_no_trailing_slash() -> None:
    """``base_url()`` is the prefix the ``/api/...`` paths hang off."""
    assert Dsn.parse("https://k@h:8443/errors/3").base_url() == "https://h:8443/errors"
    assert Dsn.parse("https://k@h/3").base_url() == "https://h"


# --- Differential: what our DSNs mean to the SDKs ---------------------------------------------

# sentry-javascript packages/core/src/utils/dsn.ts (dsnFromString) and api.ts, transcribed.
_JS_DSN_REGEX = re.compile(
    r"^(?:(\w+):)\/\/(?:(\w+)(?::(\w+)?)?@)((?:\[[:.%\w]+\]|[\w.-]+))(?::(\d+))?\/(.+)", re.ASCII
)


def _js_envelope_url(dsn: str) -> str:
    match = _JS_DSN_REGEX.match(dsn)
    assert match is not None, f"the JS SDK would not parse {dsn}"
    protocol, _key, _secret, host, port, last_path = match.groups()
    path, _, project_id = last_path.rpartition("/")
    digits = re.match(r"^\d+", project_id)
    project_id = digits.group(0) if digits else project_id
    assert protocol in ("http", "https")
    assert re.fullmatch(r"\d+", project_id), f"the JS SDK would reject project id {project_id}"
    port_part = f":{port}" if port else ""
    path_part = f"/{path}" if path else ""
    return f"{protocol}://{host}{port_part}{path_part}/api/{project_id}/envelope/"


_WORDS = st.from_regex(r"[A-Za-z0-9_]{1,40}", fullmatch=True)
_LABELS = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,15}", fullmatch=True)
_SEGMENTS = st.from_regex(r"[A-Za-z0-9._~-]{1,12}", fullmatch=True).filter(
    lambda s: s not in (".", "..")
)


@st.composite
def dsn_strings(draw: st.DrawFn) -> str:
    """Valid DSN strings with every optional part (named hosts only)."""
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    key = draw(_WORDS)
    secret = draw(st.none() | _WORDS)
    host = ".".join(draw(st.lists(_LABELS, min_size=1, max_size=4)))
    port = draw(st.none() | st.integers(1, 65535))
    path = "".join(f"/{segment}" for segment in draw(st.lists(_SEGMENTS, max_size=3)))
    project_id = draw(st.integers(0, 2**64 - 1))
    userinfo = key if secret is None else f"{key}:{secret}"
    port_part = "" if port is None else f":{port}"
    return f"{scheme}://{userinfo}@{host}{port_part}{path}/{project_id}"


@given(dsn_strings())
def test_str_round_trips(value: str) -> None:
    """Printing a parsed DSN and parsing it again gives the same DSN."""
    dsn = Dsn.parse(value)
    assert Dsn.parse(str(dsn)) == dsn


@given(dsn_strings())
def test_sentry_python_reads_our_dsns_as_we_do(value: str) -> None:
    """sentry_sdk accepts every DSN we print and derives the same envelope URL and key."""
    ours = Dsn.parse(value)
    theirs = sentry_sdk.utils.Dsn(str(ours))
    assert theirs.to_auth().get_api_url() == ours.envelope_url()
    assert theirs.public_key == ours.public_key
    assert theirs.secret_key == ours.secret_key
    assert theirs.project_id == str(ours.project_id)


@given(dsn_strings())
def test_javascript_rules_read_our_dsns_as_we_do(value: str) -> None:
    """The JS SDK's parsing rules accept every DSN we print and give the same envelope URL."""
    ours = Dsn.parse(value)
    assert _js_envelope_url(str(ours)) == ours.envelope_url()


@given(st.text(max_size=80))
def test_arbitrary_text_parses_or_raises_invalid_input(value: str) -> None:
    """Arbitrary text gives a Dsn or InvalidInputError, and a parsed one round-trips."""
    try:
        dsn = Dsn.parse(value)
    except InvalidInputError:
        return
    assert Dsn.parse(str(dsn)) == dsn
