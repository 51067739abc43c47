"""Ingestion: authenticate → decode → parse → rate-limit → prepare → store, one envelope at a time.

Authentication is ``_ingest_auth``'s; storing goes through the group-commit writer of
``_group_commit`` while one runs (see :meth:`Ingestor.group_commit`).
"""

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from functools import partial

import anyio

from resentry_core._clock import utc_now
from resentry_core._compression import decompress, normalize_encoding
from resentry_core._envelope import Envelope
from resentry_core._errors import RateLimitedError
from resentry_core._group_commit import GroupCommit, record_batch
from resentry_core._ingest_auth import IngestAuthenticator, Sender
from resentry_core._ingest_values import IngestRequest, IngestResult
from resentry_core._limits import DEFAULT_LIMITS, Limits
from resentry_core._parser import parse_envelope
from resentry_core._prepare import prepare_envelope
from resentry_core._ratelimit import RateLimit, TokenBuckets
from resentry_core._records import PreparedEnvelope, Recorded
from resentry_core._storage._protocol import IngestStore
from resentry_core._store import decode_store_body, envelope_from_store

ENVELOPE_CONTENT_TYPE = "application/x-sentry-envelope"
# Items that rate limits never drop (Relay: client reports are "internal", never limited).
_NEVER_LIMITED = frozenset({"client_report"})
# How long after storing an envelope the ingestor counts as busy (see Ingestor.busy).
BUSY_SECONDS = 1.0


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
        self._auth = IngestAuthenticator(store)
        self._limits = limits
        self._clock = clock
        self._default_rate = default_rate_limit_per_minute
        self._buckets = TokenBuckets(monotonic)
        self._monotonic = monotonic
        self._last_stored = -BUSY_SECONDS
        self._committer: GroupCommit | None = None

    @property
    def limits(self) -> Limits:
        """The limits this ingestor applies."""
        return self._limits

    def busy(self) -> bool:
        """Whether an envelope was stored within the last :data:`BUSY_SECONDS`: the background
        worker of the same process then paces itself, so that ingestion keeps the CPU."""
        return self._monotonic() - self._last_stored < BUSY_SECONDS

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
        sender, envelope = await self._auth.envelope(request, partial(self._read, request))
        return await self._accept(
            sender, envelope, raw=request.body, encoding=request.content_encoding
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
        sender = await self._auth.request(request)
        body = decompress(
            request.body, request.content_encoding, max_bytes=self._limits.max_envelope_bytes
        )
        payload = decode_store_body(body, max_bytes=self._limits.max_event_bytes)
        envelope = envelope_from_store(payload, limits=self._limits)
        return await self._accept(sender, envelope, raw=envelope.serialize(), encoding=None)

    @asynccontextmanager
    async def group_commit(self, *, max_batch: int = 256) -> AsyncIterator[None]:
        """Run a group-commit writer while the context is open.

        Inside it, concurrent ingests share storage transactions of up to ``max_batch``
        envelopes. On exit the writer finishes every envelope already queued.
        """
        committer = GroupCommit(self._store, max_batch=max_batch)
        async with anyio.create_task_group() as tg:
            tg.start_soon(committer.run)
            self._committer = committer
            try:
                yield
            finally:
                self._committer = None
                committer.close()

    def _read(self, request: IngestRequest) -> Envelope:
        body = decompress(
            request.body, request.content_encoding, max_bytes=self._limits.max_envelope_bytes
        )
        return parse_envelope(body, limits=self._limits)

    async def _accept(
        self, sender: Sender, envelope: Envelope, *, raw: bytes, encoding: str | None
    ) -> IngestResult:
        envelope, limited = self._rate_limit(sender, envelope)
        if limited:
            raw, encoding = envelope.serialize(), None
        project_id = sender.project.id
        prepared = prepare_envelope(
            envelope,
            project_id=project_id,
            received_at=self._clock(),
            raw=raw,
            raw_encoding=normalize_encoding(encoding),
        )
        recorded = await self._record(prepared)
        return IngestResult(
            project_id=project_id,
            event_id=recorded.event_id or prepared.event_id,
            envelope_id=recorded.envelope_id,
            duplicate=recorded.duplicate,
            issue_id=recorded.issue_id,
            new_issue=recorded.new_issue,
            regression=recorded.regression,
            rate_limits=limited,
        )

    def _rate_limit(
        self, sender: Sender, envelope: Envelope
    ) -> tuple[Envelope, tuple[RateLimit, ...]]:
        """Drop every limited item when the key is over its limit; raise if nothing is left."""
        project = sender.project
        per_minute = project.rate_limit_per_minute or self._default_rate
        if per_minute is None or all(item.type in _NEVER_LIMITED for item in envelope.items):
            return envelope, ()
        retry_after = self._buckets.take(f"{project.id}:{sender.auth.public_key}", per_minute)
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
        self._last_stored = self._monotonic()
        if self._committer is not None:
            return await self._committer.submit(prepared)
        return (await record_batch(self._store, [prepared]))[0]
