"""Values storage methods share: :data:`UNSET`, the default key label, aware datetimes."""

import enum
from datetime import UTC, datetime
from typing import Final

from resentry_core._errors import InvalidInputError

DEFAULT_KEY_LABEL: Final = "Default"


class Unset(enum.Enum):
    """The type of :data:`UNSET` (a one-member enum, so that ``is UNSET`` narrows the type)."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
"""Leave a field as it is: the default of the ``update_*`` methods, where ``None`` sets ``NULL``."""


def aware(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC. Raises InvalidInputError when it is naive."""
    if moment.utcoffset() is None:
        raise InvalidInputError(f"{what} must be a timezone-aware datetime")
    return moment.astimezone(UTC)
