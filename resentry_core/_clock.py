"""The wall clock: the default of every service that takes a ``clock`` (tests pass their own)."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)
