"""Sentry DSNs and Sentry request authentication.

The protocol: https://develop.sentry.dev/sdk/foundations/transport/authentication/

A DSN is ``{scheme}://{public_key}[:{secret_key}]@{host}[:{port}]{path}/{project_id}``; SDKs
derive ``{scheme}://{host}[:{port}]{path}/api/{project_id}/envelope/`` from it. :class:`Dsn`
accepts only what every SDK accepts, so a DSN it prints works everywhere:

- sentry-python (``sentry_sdk.utils.Dsn``): scheme http/https, integer project id, and no
  trailing slash (``https://k@h/42/`` raises ``BadDsn``);
- sentry-javascript (``dsnFromString`` in ``packages/core/src/utils/dsn.ts``): the regex
  ``^(?:(\\w+):)\\/\\/(?:(\\w+)(?::(\\w+)?)?@)((?:\\[[:.%\\w]+\\]|[\\w.-]+))(?::(\\d+))?\\/(.+)``,
  so the keys are ``\\w+`` (no ``-``) and the host is a name or a bracketed IPv6 address.

Request auth follows Relay's ``auth_from_parts`` (``relay-server/src/extractors/request_meta.rs``)
and sentry-types' ``Auth::from_str`` (getsentry/sentry-rust ``sentry-types/src/auth.rs``), with
one Resentry rule (``docs/ingest_routes.md``, Authentication): the same key from several
sources is accepted.
"""

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal, Self
from urllib.parse import parse_qsl

from resentry_core._errors import (
    AuthenticationError,
    EnvelopeError,
    InvalidAuthError,
    InvalidInputError,
)

PROTOCOL_VERSION: Final = 7
"""The newest Sentry protocol version (Relay's ``PROTOCOL_VERSION``); newer ones are refused."""

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_WORD: Final = re.compile(r"\w+", re.ASCII)  # the JS SDK's (\w+) for both keys
_HOST_NAME: Final = re.compile(r"[\w.-]+", re.ASCII)
_IPV6_CHARS: Final = re.compile(r"[:.%\w]+", re.ASCII)
_PORT: Final = re.compile(r"[0-9]{1,5}")
_PATH_SEGMENT: Final = re.compile(r"[\w.~-]+", re.ASCII)  # RFC 3986 unreserved characters
_PROJECT_ID: Final = re.compile(r"[0-9]{1,20}")
_MAX_PROJECT_ID: Final = 2**64 - 1  # Relay's ProjectId is a u64
_VERSION: Final = re.compile(r"\+?[0-9]{1,5}")  # Rust's u16::from_str
_PROJECT_KEY_LENGTH: Final = 32  # Relay's ProjectKey: exactly 32 ASCII characters
_MAX_CACHED_CHARS: Final = 1024  # sources of one request; real ones are about 150 characters
MISSING_AUTH: Final = "missing authorization information"  # Relay's message


@dataclass(frozen=True, slots=True, kw_only=True)
class Dsn:
    """A parsed Sentry DSN.

    Attributes:
        scheme: ``http`` or ``https``.
        public_key: the key SDKs send as ``sentry_key``.
        secret_key: the deprecated secret, if the DSN has one.
        host: lower-cased host name, or a bracketed IPv6 address (``[::1]``).
        port: the port, or ``None`` when it is the scheme's default.
        path: the prefix before the project id: ``""`` or ``"/errors"`` (no trailing slash).
        project_id: the numeric project id.
    """

    scheme: str
    public_key: str
    secret_key: str | None = None
    host: str
    port: int | None = None
    path: str = ""
    project_id: int

    @classmethod
    def parse(cls, value: str) -> Self:
        """Parse a DSN, refusing anything a Sentry SDK would refuse or mangle.

        Surrounding whitespace is ignored; an explicit default port is dropped.

        Raises:
            InvalidInputError: ``value`` is not a DSN every SDK accepts.
        """
        scheme, authority, path = _split_url(value.strip())
        userinfo, _, host_port = authority.rpartition("@")
        public_key, _, secret_key = userinfo.partition(":")
        if not public_key:
            raise InvalidInputError("Missing public key")
        _check_word(public_key, "public key")
        if secret_key:
            _check_word(secret_key, "secret key")
        host, port = _split_host_port(host_port, scheme)
        if path in ("", "/"):
            raise InvalidInputError("Missing project id")
        if path.endswith("/"):
            raise InvalidInputError("Invalid DSN: it must not end with '/'")
        prefix, _, project = path.rpartition("/")
        if not _PROJECT_ID.fullmatch(project) or int(project) > _MAX_PROJECT_ID:
            raise InvalidInputError(f"Invalid project in DSN ({project!r})")
        return cls(
            scheme=scheme,
            public_key=public_key,
            secret_key=secret_key or None,
            host=host,
            port=port,
            path=_check_path(prefix),
            project_id=int(project),
        )

    @classmethod
    def build(cls, base_url: str, public_key: str, project_id: int) -> Self:
        """Build the DSN of a project key on a server reachable at ``base_url``.

        Args:
            base_url: the server's public URL, with any mount prefix
                (``http://host:8000/errors``); one trailing slash is ignored.
            public_key: the project key.
            project_id: the project id.

        Raises:
            InvalidInputError: the URL, key or id cannot make a valid DSN.
        """
        scheme, authority, path = _split_url(base_url.strip())
        if "@" in authority:
            raise InvalidInputError("Invalid base URL: it must not contain credentials")
        if isinstance(project_id, bool) or not 0 <= project_id <= _MAX_PROJECT_ID:
            raise InvalidInputError(f"Invalid project id {project_id!r}")
        return cls.parse(
            f"{scheme}://{public_key}@{authority}{path.removesuffix('/')}/{project_id}"
        )

    def base_url(self) -> str:
        """``{scheme}://{host}[:{port}]{path}``, the URL the API paths hang off."""
        port = "" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}{self.path}"

    def envelope_url(self) -> str:
        """The envelope endpoint SDKs derive from this DSN."""
        return f"{self.base_url()}/api/{self.project_id}/envelope/"

    def store_url(self) -> str:
        """The legacy store endpoint SDKs derive from this DSN."""
        return f"{self.base_url()}/api/{self.project_id}/store/"

    def __str__(self) -> str:
        secret = f":{self.secret_key}" if self.secret_key else ""
        port = "" if self.port is None else f":{self.port}"
        return (
            f"{self.scheme}://{self.public_key}{secret}@{self.host}{port}"
            f"{self.path}/{self.project_id}"
        )


def _split_url(value: str) -> tuple[str, str, str]:
    """Split ``scheme://authority/path``; refuse other schemes, queries and fragments."""
    scheme, separator, rest = value.partition("://")
    if not separator:
        raise InvalidInputError("Invalid DSN: expected scheme://key@host/project_id")
    scheme = scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidInputError(f"Unsupported scheme {scheme!r}")
    if "?" in rest or "#" in rest:
        raise InvalidInputError("Invalid DSN: it must not have a query or fragment")
    authority, slash, path = rest.partition("/")
    return scheme, authority, slash + path


def _split_host_port(host_port: str, scheme: str) -> tuple[str, int | None]:
    if host_port.startswith("["):
        address, bracket, after = host_port[1:].partition("]")
        if not bracket or not _IPV6_CHARS.fullmatch(address) or not _is_ipv6(address):
            raise InvalidInputError(f"Invalid IPv6 host {host_port!r}")
        host = f"[{address.lower()}]"
        if after and not after.startswith(":"):
            raise InvalidInputError(f"Invalid host {host_port!r}")
        has_port, port_text = bool(after), after[1:]
    else:
        host, colon, port_text = host_port.partition(":")
        if not host:
            raise InvalidInputError("Missing hostname")
        if not _HOST_NAME.fullmatch(host):
            raise InvalidInputError(f"Invalid hostname {host!r}")
        host, has_port = host.lower(), bool(colon)
    if not has_port:
        return host, None
    if not _PORT.fullmatch(port_text) or not 0 < int(port_text) <= 65535:
        raise InvalidInputError(f"Invalid port {port_text!r}")
    port = int(port_text)
    return host, None if port == _DEFAULT_PORTS[scheme] else port


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _check_word(value: str, what: str) -> None:
    if not _WORD.fullmatch(value):
        raise InvalidInputError(
            f"Invalid {what} {value!r}: only ASCII letters, digits and '_' work in every SDK"
        )


def _check_path(prefix: str) -> str:
    for segment in prefix.split("/")[1:]:
        if not _PATH_SEGMENT.fullmatch(segment) or segment in (".", ".."):
            raise InvalidInputError(f"Invalid DSN path segment {segment!r}")
    return prefix


AuthSource = Literal["header", "authorization", "query", "envelope"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SentryAuth:
    """Sentry credentials of one ingest request.

    Attributes:
        public_key: the project key, without Relay's ``.flags`` suffix (``key.no-cache``).
        version: the ``sentry_version`` major number (7 when absent).
        client: ``sentry_client`` (``sentry.python/2.18.0``), if sent.
        secret: the deprecated ``sentry_secret``, if sent.
        source: where the credentials came from (the first source when several agree).
    """

    public_key: str
    version: int = PROTOCOL_VERSION
    client: str | None = None
    secret: str | None = None
    source: AuthSource


def parse_sentry_auth(
    *,
    x_sentry_auth: str | None = None,
    authorization: str | None = None,
    query: Mapping[str, str] | str | None = None,
    envelope_dsn: str | None = None,
) -> SentryAuth:
    """Find and check the Sentry credentials of a request.

    Sources, in Relay's order: ``X-Sentry-Auth`` and ``Authorization`` when they start with
    ``Sentry `` (any case; other schemes such as ``Bearer`` count as absent); the query when
    it contains ``sentry_`` (``?sentry_key=…&sentry_version=7``); and, only when none of
    those is present, the ``dsn`` of the envelope header. To also check that an envelope's
    ``dsn`` agrees with the request, use :func:`envelope_sentry_auth`.

    Args:
        x_sentry_auth: the ``X-Sentry-Auth`` header.
        authorization: the ``Authorization`` header.
        query: the raw query string (a leading ``?`` is ignored) or its decoded pairs.
        envelope_dsn: the envelope header's ``dsn``; pass it for the envelope endpoint only.

    Raises:
        AuthenticationError: no credentials; several sources with different keys; a
            malformed header, query or envelope dsn; no ``sentry_key``; or a non-numeric
            ``sentry_version`` (401).
        InvalidAuthError: a key that is not 32 ASCII characters, or a ``sentry_version``
            newer than 7 (400).
    """
    auth = request_sentry_auth(
        x_sentry_auth=x_sentry_auth, authorization=authorization, query=query
    )
    if auth is not None:
        return auth
    if envelope_dsn is None:
        raise AuthenticationError(MISSING_AUTH)
    try:
        dsn = Dsn.parse(envelope_dsn)
    except InvalidInputError:
        raise AuthenticationError(_BAD_ENVELOPE_AUTH) from None
    return _dsn_auth(dsn)


def request_sentry_auth(
    *,
    x_sentry_auth: str | None = None,
    authorization: str | None = None,
    query: Mapping[str, str] | str | None = None,
) -> SentryAuth | None:
    """The credentials of a request's headers and query, read and checked once.

    Like :func:`parse_sentry_auth` without the envelope, except that a request none of whose
    sources carries Sentry credentials gives ``None``: the envelope's ``dsn`` may still
    authenticate it.

    Raises:
        AuthenticationError: as :func:`parse_sentry_auth`, except for missing credentials.
        InvalidAuthError: as :func:`parse_sentry_auth`.
    """
    if isinstance(query, Mapping):
        return _parse_auth(x_sentry_auth, authorization, query)
    sources = (x_sentry_auth, authorization, query)
    if sum(len(source) for source in sources if source) <= _MAX_CACHED_CHARS:
        return _cached_auth(x_sentry_auth, authorization, query)
    return _parse_auth(x_sentry_auth, authorization, query)


def _parse_auth(
    x_sentry_auth: str | None,
    authorization: str | None,
    query: Mapping[str, str] | str | None,
) -> SentryAuth | None:
    found: list[SentryAuth] = []
    headers: tuple[tuple[AuthSource, str | None], ...] = (
        ("header", x_sentry_auth),
        ("authorization", authorization),
    )
    for source, header in headers:
        if header is not None and header.strip()[:7].lower() == "sentry ":
            found.append(_from_pairs(_header_pairs(header.strip()[7:]), source))
    query_pairs = _query_pairs(query)
    if query_pairs is not None:
        found.append(_from_pairs(query_pairs, "query"))
    if not found:
        return None
    if len({auth.public_key for auth in found}) > 1:
        raise AuthenticationError("multiple authorization payloads with different keys")
    for auth in found:
        _check_key(auth)
    return found[0]


# SDKs send the same few auth headers over and over, and SentryAuth is immutable: parsed
# answers are reused (errors are not cached, so a bad header is checked again each time).
# Bounded twice: by entries, and by skipping requests whose sources are unusually long.
_cached_auth = functools.lru_cache(maxsize=1024)(_parse_auth)

_BAD_ENVELOPE_AUTH: Final = "bad envelope authentication header"


def envelope_sentry_auth(
    envelope_dsn: str, *, project_id: int, request_auth: SentryAuth | None
) -> SentryAuth:
    """The credentials of an envelope request whose envelope header carries a ``dsn``.

    Without request credentials (``request_auth`` is ``None``) the ``dsn`` is the credential.
    Either way it must name the URL's project and the request's key, as Relay's
    ``Envelope::parse_request`` requires; a different key is a second, conflicting
    credential, which is answered with 401 like any other (``docs/ingest_routes.md``,
    Authentication).

    Raises:
        AuthenticationError: the ``dsn`` is the only credential and is not a DSN, or it names
            another key than the request (401).
        InvalidAuthError: the ``dsn`` is the only credential and its key is not 32 ASCII
            characters (400).
        EnvelopeError: the ``dsn`` is not a DSN besides request credentials, or it names
            another project (400).
    """
    try:
        dsn = Dsn.parse(envelope_dsn)
    except InvalidInputError as exc:
        if request_auth is None:
            raise AuthenticationError(_BAD_ENVELOPE_AUTH) from None
        raise EnvelopeError(f"invalid envelope header: dsn: {exc}") from None
    auth = _dsn_auth(dsn) if request_auth is None else request_auth
    if dsn.project_id != project_id:
        raise EnvelopeError("project id mismatch between envelope and request")
    if dsn.public_key != auth.public_key:
        raise AuthenticationError("public key mismatch between envelope and request")
    return auth


def _check_key(auth: SentryAuth) -> SentryAuth:
    if len(auth.public_key) != _PROJECT_KEY_LENGTH or not auth.public_key.isascii():
        raise InvalidAuthError("bad sentry DSN public key")
    if auth.version > PROTOCOL_VERSION:
        raise InvalidAuthError(f"unsupported protocol version ({auth.version})")
    return auth


def _header_pairs(items: str) -> list[tuple[str, str]]:
    # sentry-types: split on ',', then on '='; only the first two '='-parts count.
    pairs = []
    for item in items.split(","):
        parts = item.split("=")
        if len(parts) >= 2:
            pairs.append((parts[0], parts[1]))
    return pairs


def _query_pairs(query: Mapping[str, str] | str | None) -> list[tuple[str, str]] | None:
    if query is None:
        return None
    if isinstance(query, str):
        if "sentry_" not in query:
            return None
        return parse_qsl(query.removeprefix("?"), keep_blank_values=True)
    if any("sentry_" in key or "sentry_" in value for key, value in query.items()):
        return list(query.items())
    return None


def _from_pairs(pairs: Iterable[tuple[str, str]], source: AuthSource) -> SentryAuth:
    fields = {key.strip(): value.strip() for key, value in pairs}  # duplicates: last wins
    key = fields.get("sentry_key", "")
    version_text = fields.get("sentry_version", str(PROTOCOL_VERSION)).split(".", 1)[0]
    if not key or not _VERSION.fullmatch(version_text) or int(version_text) > 0xFFFF:
        raise AuthenticationError("bad x-sentry-auth header")
    return SentryAuth(
        public_key=key.split(".", 1)[0],
        version=int(version_text),
        client=fields.get("sentry_client") or None,
        secret=fields.get("sentry_secret") or None,
        source=source,
    )


def _dsn_auth(dsn: Dsn) -> SentryAuth:
    return _check_key(
        SentryAuth(public_key=dsn.public_key, secret=dsn.secret_key, source="envelope")
    )
