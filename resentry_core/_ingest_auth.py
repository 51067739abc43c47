"""Ingest authentication: which project key sent a request, and whether it may write.

The key comes from ``X-Sentry-Auth``, ``Authorization: Sentry …``, the query, or, when none of
those carries one, the envelope header's ``dsn`` (Relay's ``auth_from_parts`` in
``relay-server/src/extractors/request_meta.rs`` and ``Envelope::parse_request``). Each source
is read once, and every failure is raised where it is found.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from resentry_core._dsn import (
    MISSING_AUTH,
    SentryAuth,
    envelope_sentry_auth,
    request_sentry_auth,
)
from resentry_core._envelope import Envelope
from resentry_core._errors import AuthenticationError, PermissionDeniedError
from resentry_core._ingest_values import IngestRequest
from resentry_core._models import Project
from resentry_core._storage._protocol import IngestStore


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent an accepted request: its credentials and the project they open."""

    auth: SentryAuth
    project: Project


class IngestAuthenticator:
    """Resolves the key of ingest requests against the projects of an :class:`IngestStore`."""

    def __init__(self, store: IngestStore) -> None:
        self._store = store

    async def envelope(
        self, request: IngestRequest, read: Callable[[], Envelope]
    ) -> tuple[Sender, Envelope]:
        """Authenticate an envelope request; ``read`` decodes its body.

        The order of the checks decides the answer when several fail. Credentials in the
        headers or query are checked before the body is read: a malformed key (400), then the
        key and origin (403). The body comes next (``read``: 415, 413, 400). Only then can the
        envelope's ``dsn`` be checked, or stand in for missing credentials, so a request whose
        headers carry no credentials, or malformed ones (401), is answered after its body.

        Raises:
            AuthenticationError: no credentials, malformed or conflicting ones (401).
            InvalidAuthError: a malformed key or unsupported ``sentry_version`` (400).
            PermissionDeniedError: not an active key of the project, or origin refused (403).
            EnvelopeError: the ``dsn`` header is malformed or names another project (400);
                and whatever ``read`` raises.
        """
        try:
            auth = _request_auth(request)
        except AuthenticationError:
            read()  # a bad body is answered before bad credentials
            raise
        project = None if auth is None else await self._project(request, auth)
        envelope = read()
        dsn = envelope.headers.dsn
        if dsn is not None:
            auth = envelope_sentry_auth(dsn, project_id=request.project_id, request_auth=auth)
        elif auth is None:
            raise AuthenticationError(MISSING_AUTH)
        if project is None:
            project = await self._project(request, auth)
        return Sender(auth, project), envelope

    async def request(self, request: IngestRequest) -> Sender:
        """Authenticate a request by its headers and query alone (the legacy store endpoint).

        Raises:
            AuthenticationError: no credentials, malformed or conflicting ones (401).
            InvalidAuthError: a malformed key or unsupported ``sentry_version`` (400).
            PermissionDeniedError: not an active key of the project, or origin refused (403).
        """
        auth = _request_auth(request)
        if auth is None:
            raise AuthenticationError(MISSING_AUTH)
        return Sender(auth, await self._project(request, auth))

    async def _project(self, request: IngestRequest, auth: SentryAuth) -> Project:
        project = await self._store.project_for_key(request.project_id, auth.public_key)
        if project is None:
            raise PermissionDeniedError(
                "event submission rejected: the key is not an active key of this project"
            )
        if (
            request.origin
            and project.allowed_origins
            and not _origin_allowed(request.origin, project.allowed_origins)
        ):
            raise PermissionDeniedError(
                f"event submission rejected: origin {request.origin!r} is not allowed"
            )
        return project


def _request_auth(request: IngestRequest) -> SentryAuth | None:
    return request_sentry_auth(
        x_sentry_auth=request.x_sentry_auth,
        authorization=request.authorization,
        query=request.query,
    )


def _origin_allowed(origin: str, allowed: Sequence[str]) -> bool:
    """Whether ``origin`` matches one of ``allowed`` (exact, ``*``, or ``*.example.com``)."""
    origin = origin.rstrip("/").lower()
    host = origin.split("://", 1)[-1]
    for pattern in allowed:
        pattern = pattern.rstrip("/").lower()
        if pattern == "*" or pattern in (origin, host):
            return True
        if "*" in pattern and (fnmatchcase(origin, pattern) or fnmatchcase(host, pattern)):
            return True
    return False
