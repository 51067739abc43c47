"""Ingestion: authenticate → decode → parse → prepare → store, one envelope at a time.

Stores go through a group-commit writer when one is running (see :meth:`Ingestor.group_commit`):
concurrent ingests queue their prepared envelopes, a single writer stores whatever is queued in
one transaction, and every caller is answered only after its own envelope is durable. A batch
that fails is retried envelope by envelope, so one bad envelope never fails its neighbours.
"""

import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from fnmatch import fnmatchcase

import anyio
import anyio.lowlevel

from resentry_core._compression import decompress, normalize_encoding
from resentry_core._dsn import SentryAuth, check_envelope_dsn, parse_sentry_auth
from resentry_core._envelope import Envelope
from resentry_core._errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    ResentryError,
    StorageError,
)
from resentry_core._limits import DEFAULT_LIMITS, Limits
from resentry_core._models import Project
from resentry_core._parser import parse_envelope
from resentry_core._prepare import prepare_envelope
from resentry_core._ratelimit import RateLimit, TokenBuckets
from resentry_core._records import PreparedEnvelope, Recorded
from resentry_core._storage._protocol import IngestStore
from resentry_core._store import decode_store_body, envelope_from_store

ENVELOPE_CONTENT_TYPE = "application/x-sentry-envelope"
# Items that rate limits never drop: client reports (data category "internal", never limited).
_NEVER_LIMITED = frozenset({"client_report"})


def utc_now() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestRequest:
    """What the HTTP layer (or an embedding app) received, before any check.

    ``query`` is the raw query string; the auth sources are read from it and the headers.
    """

    project_id: int
    body: bytes
    content_encoding: str | None = None
    content_type: str | None = None
    x_sentry_auth: str | None = None
    authorization: str | None = None
    query: str = ""
    origin: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestResult:
    """The outcome of one accepted request.

    ``event_id`` is the id to answer with (``None``: answer ``{}``). ``rate_limits`` is non-empty
    when the rate limiter dropped some items and the rest was stored.
    """

    project_id: int
    event_id: str | None
    envelope_id: int | None
    duplicate: bool = False
    issue_id: int | None = None
    new_issue: bool = False
    regression: bool = False
    rate_limits: tuple[RateLimit, ...] = ()


class Ingestor:
    """Accepts Sentry envelopes and legacy store bodies for the projects of an :class:`IngestStore`.

    Args:
        store: where accepted envelopes go.
        limits: size limits applied before and after decompression.
        clock: the receive time of envelopes.
        default_rate_limit_per_minute: envelopes per minute per key for projects that set no
            limit of their own; ``None`` for no limit.
        monotonic: the clock of the rate limiter.
    """

    def __init__(
        self,
        store: IngestStore,
        *,
        limits: Limits = DEFAULT_LIMITS,
        clock: Callable[[], datetime] = utc_now,
        default_rate_limit_per_minute: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._limits = limits
        self._clock = clock
        self._default_rate = default_rate_limit_per_minute
        self._buckets = TokenBuckets(monotonic)
        self._committer: _GroupCommit | None = None

    @property
    def limits(self) -> Limits:
        """The limits this ingestor applies."""
        return self._limits

    async def ingest(self, request: IngestRequest) -> IngestResult:
        """Accept one envelope request (``/api/{project_id}/envelope/``).

        Raises:
            AuthenticationError: no key, or different keys from different sources (401).
            InvalidAuthError: malformed key or unsupported ``sentry_version`` (400).
            PermissionDeniedError: not an active key of this project, or origin not allowed (403).
            UnsupportedEncodingError: unknown Content-Encoding (415).
            PayloadTooLargeError: a size limit was exceeded (413).
            EnvelopeError: malformed body, framing or JSON (400).
            RateLimitedError: the key is over its rate limit and nothing was stored (429).
            StorageError: the envelope could not be stored (503).
        """
        known = await self._request_auth(request)
        body = decompress(
            request.body, request.content_encoding, max_bytes=self._limits.max_envelope_bytes
        )
        envelope = parse_envelope(body, limits=self._limits)
        auth, project = await self._envelope_auth(request, envelope, known)
        return await self._accept(
            request, project, auth, envelope, raw=request.body, encoding=request.content_encoding
        )

    async def ingest_store(self, request: IngestRequest) -> IngestResult:
        """Accept one legacy store request (``/api/{project_id}/store/``).

        The body is event JSON, base64(JSON) or base64(zlib(JSON)); with
        ``Content-Type: application/x-sentry-envelope`` it is an envelope. Raises as
        :meth:`ingest` does.
        """
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type == ENVELOPE_CONTENT_TYPE:
            return await self.ingest(request)
        known = await self._request_auth(request)
        if isinstance(known, AuthenticationError):
            raise known
        auth, project = known
        body = decompress(
            request.body, request.content_encoding, max_bytes=self._limits.max_envelope_bytes
        )
        payload = decode_store_body(body, max_bytes=self._limits.max_event_bytes)
        envelope = envelope_from_store(payload, limits=self._limits)
        return await self._accept(
            request, project, auth, envelope, raw=envelope.serialize(), encoding=None
        )

    @asynccontextmanager
    async def group_commit(self, *, max_batch: int = 256) -> AsyncIterator[None]:
        """Run a group-commit writer while the context is open.

        Inside it, concurrent ingests share storage transactions of up to ``max_batch``
        envelopes. On exit the writer finishes every envelope already queued.
        """
        committer = _GroupCommit(self._store, max_batch=max_batch)
        async with anyio.create_task_group() as tg:
            tg.start_soon(committer.run)
            self._committer = committer
            try:
                yield
            finally:
                self._committer = None
                committer.close()

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

    async def _request_auth(
        self, request: IngestRequest
    ) -> tuple[SentryAuth, Project] | AuthenticationError:
        """The credentials of the headers and query, and their project; when there are none,
        the error to raise unless the envelope authenticates itself."""
        try:
            auth = parse_sentry_auth(
                x_sentry_auth=request.x_sentry_auth,
                authorization=request.authorization,
                query=request.query,
            )
        except AuthenticationError as exc:
            return exc
        return auth, await self._project(request, auth)

    async def _envelope_auth(
        self,
        request: IngestRequest,
        envelope: Envelope,
        known: tuple[SentryAuth, Project] | AuthenticationError,
    ) -> tuple[SentryAuth, Project]:
        """Reconcile the request's auth with the envelope header's ``dsn``, as Relay does."""
        dsn = envelope.headers.dsn
        if dsn is None:
            if isinstance(known, AuthenticationError):
                raise known
            return known
        combined = parse_sentry_auth(
            x_sentry_auth=request.x_sentry_auth,
            authorization=request.authorization,
            query=request.query,
            envelope_dsn=dsn,
        )
        check_envelope_dsn(dsn, project_id=request.project_id, public_key=combined.public_key)
        if isinstance(known, AuthenticationError):
            return combined, await self._project(request, combined)
        return combined, known[1]

    async def _accept(
        self,
        request: IngestRequest,
        project: Project,
        auth: SentryAuth,
        envelope: Envelope,
        *,
        raw: bytes,
        encoding: str | None,
    ) -> IngestResult:
        envelope, limited = self._rate_limit(project, auth, envelope)
        if limited:
            raw, encoding = envelope.serialize(), None
        prepared = prepare_envelope(
            envelope,
            project_id=project.id,
            received_at=self._clock(),
            raw=raw,
            raw_encoding=normalize_encoding(encoding),
        )
        recorded = await self._record(prepared)
        return IngestResult(
            project_id=project.id,
            event_id=recorded.event_id or prepared.event_id,
            envelope_id=recorded.envelope_id,
            duplicate=recorded.duplicate,
            issue_id=recorded.issue_id,
            new_issue=recorded.new_issue,
            regression=recorded.regression,
            rate_limits=limited,
        )

    def _rate_limit(
        self, project: Project, auth: SentryAuth, envelope: Envelope
    ) -> tuple[Envelope, tuple[RateLimit, ...]]:
        """Drop every limited item when the key is over its limit; raise if nothing is left."""
        per_minute = project.rate_limit_per_minute or self._default_rate
        if per_minute is None or all(item.type in _NEVER_LIMITED for item in envelope.items):
            return envelope, ()
        retry_after = self._buckets.take(f"{project.id}:{auth.public_key}", per_minute)
        if retry_after == 0.0:
            return envelope, ()
        kept = tuple(item for item in envelope.items if item.type in _NEVER_LIMITED)
        if not kept:
            raise RateLimitedError(
                f"rate limit of {per_minute} envelopes per minute exceeded for this key",
                retry_after=retry_after,
            )
        return replace(envelope, items=kept), (RateLimit(retry_after=retry_after),)

    async def _record(self, prepared: PreparedEnvelope) -> Recorded:
        if self._committer is not None:
            return await self._committer.submit(prepared)
        return (await _record_batch(self._store, [prepared]))[0]


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


async def _record_batch(store: IngestStore, batch: Sequence[PreparedEnvelope]) -> list[Recorded]:
    try:
        return await store.record(batch)
    except ResentryError:
        raise
    except Exception as exc:  # any backend failure is a StorageError to callers
        raise StorageError(f"could not store the envelope: {type(exc).__name__}") from exc


@dataclass(slots=True, eq=False)
class _Batch:
    """Envelopes stored in one transaction, and their outcomes; their callers share one event."""

    envelopes: list[PreparedEnvelope] = field(default_factory=list)
    outcomes: list[Recorded | ResentryError] = field(default_factory=list)
    done: anyio.Event = field(default_factory=anyio.Event)

    def settle(self, outcomes: list[Recorded | ResentryError]) -> None:
        self.outcomes = outcomes
        self.done.set()


class _GroupCommit:
    """One writer task storing queued envelopes in batched storage transactions.

    Callers append to the newest open batch; the writer takes the oldest one whole. At most
    ``4 * max_batch`` envelopes wait besides the batch being written: callers beyond that wait
    for room.
    """

    def __init__(self, store: IngestStore, *, max_batch: int) -> None:
        self._store = store
        self._max_batch = max_batch
        self._max_queued = max_batch * 4
        self._batches: deque[_Batch] = deque()
        self._queued = 0
        self._closed = False
        self._work = anyio.Event()  # set when a batch is queued or the writer must stop
        self._room = anyio.Event()  # set when the writer takes a batch

    async def submit(self, envelope: PreparedEnvelope) -> Recorded:
        while self._queued >= self._max_queued and not self._closed:
            await self._room.wait()
        if self._closed:
            raise StorageError("the ingestor is shutting down")
        if not self._batches or len(self._batches[-1].envelopes) == self._max_batch:
            self._batches.append(_Batch())
        batch = self._batches[-1]
        index = len(batch.envelopes)
        batch.envelopes.append(envelope)
        self._queued += 1
        self._work.set()
        await batch.done.wait()
        outcome = batch.outcomes[index]
        if isinstance(outcome, ResentryError):
            raise outcome
        return outcome

    def close(self) -> None:
        """Refuse new envelopes; the writer stops once the queued ones are stored."""
        self._closed = True
        self._work.set()
        self._room.set()

    async def run(self) -> None:
        try:
            while self._batches or not self._closed:
                if not self._batches:
                    await self._work.wait()
                    self._work = anyio.Event()
                    continue
                # Let callers that are ready join the batch before it is taken.
                await anyio.lowlevel.checkpoint()
                batch = self._batches.popleft()
                self._queued -= len(batch.envelopes)
                self._room.set()
                self._room = anyio.Event()
                with anyio.CancelScope(shield=True):
                    batch.settle(await self._write(batch.envelopes))
        finally:
            self._closed = True
            for batch in self._batches:  # only when the writer was cancelled
                batch.settle(
                    [StorageError("the envelope was not written") for _ in batch.envelopes]
                )

    async def _write(self, envelopes: list[PreparedEnvelope]) -> list[Recorded | ResentryError]:
        try:
            return list(await _record_batch(self._store, envelopes))
        except ResentryError as exc:
            if len(envelopes) == 1:
                return [exc]
        outcomes: list[Recorded | ResentryError] = []
        for envelope in envelopes:  # isolate the envelope that failed the batch
            outcomes += await self._write([envelope])
        return outcomes
