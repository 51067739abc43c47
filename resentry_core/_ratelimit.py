"""Per-key rate limiting for ingestion, and the ``X-Sentry-Rate-Limits`` header format."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import ceil


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    """An active limit: retry after ``retry_after`` seconds; ``categories`` empty means all."""

    retry_after: float
    categories: tuple[str, ...] = ()


def format_rate_limits(limits: Sequence[RateLimit]) -> str:
    """Render limits as the ``X-Sentry-Rate-Limits`` header value.

    The format: https://develop.sentry.dev/sdk/foundations/transport/rate-limiting/

    Each limit is ``retry_after:categories:scope``; the scope is always ``key`` here.

    >>> format_rate_limits([RateLimit(retry_after=59.2, categories=("error", "transaction"))])
    '60:error;transaction:key'
    """
    return ", ".join(
        f"{ceil(limit.retry_after)}:{';'.join(limit.categories)}:key" for limit in limits
    )


class TokenBuckets:
    """One token bucket per key: ``per_minute`` envelopes a minute, bursting up to that many.

    Not thread-safe; meant for one event loop (each method runs without awaiting).
    """

    def __init__(self, clock: Callable[[], float], *, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)

    def take(self, key: str, per_minute: int) -> float:
        """Take one token from ``key``'s bucket.

        Returns:
            0.0 when a token was taken, else the seconds until one will be available.
        """
        now = self._clock()
        capacity = float(per_minute)
        tokens, last = self._buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * per_minute / 60.0)
        if tokens >= 1.0:
            if len(self._buckets) >= self._max_keys and key not in self._buckets:
                self._buckets.clear()  # bounded memory; full buckets are the default anyway
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) * 60.0 / per_minute
