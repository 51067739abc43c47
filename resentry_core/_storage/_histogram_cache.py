"""Counts of settled histogram buckets, kept in memory between page views.

An event's ``received_at`` is the time the server received it, so once a bucket has ended
(plus a grace period for batches still being written) no event is ever added to it: its
count is final. Pruning and deletions can still lower it, so entries expire after a while.
Only the event loop thread touches the cache.
"""

from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Final

SETTLE_GRACE: Final = timedelta(minutes=1)
ENTRY_TTL: Final = timedelta(minutes=10)
MAX_ENTRIES: Final = 200_000

Key = tuple[str, int, str, datetime]  # (owner kind, owner id, unit, bucket start)


class HistogramCache:
    """A bounded, expiring map from settled buckets to their event counts (LRU eviction)."""

    def __init__(self, clock: Callable[[], datetime], *, max_entries: int = MAX_ENTRIES) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[Key, tuple[int, datetime]] = OrderedDict()

    def settled_before(self) -> datetime:
        """Buckets that end at or before this moment are final."""
        return self._clock() - SETTLE_GRACE

    def lookup(self, keys: Sequence[Key]) -> list[int] | None:
        """The counts of every key, or ``None`` when one is missing or expired."""
        now = self._clock()
        counts = []
        for key in keys:
            entry = self._entries.get(key)
            if entry is None or now - entry[1] > ENTRY_TTL:
                return None
            self._entries.move_to_end(key)
            counts.append(entry[0])
        return counts

    def store(self, key: Key, count: int) -> None:
        """Remember a settled bucket's count."""
        self._entries[key] = (count, self._clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (after pruning or deleting events)."""
        self._entries.clear()
