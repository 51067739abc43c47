"""The values in and out of ingestion: what a request brought, and what came of it."""

from dataclasses import dataclass

from resentry_core._ratelimit import RateLimit


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
