"""Input rules every storage backend applies the same way (one definition, not one per backend)."""

import enum
import re
import unicodedata
from datetime import UTC, datetime
from typing import Final

from resentry_core._errors import InvalidInputError

DEFAULT_KEY_LABEL: Final = "Default"
FALLBACK_SLUG: Final = "project"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


class Unset(enum.Enum):
    """The type of :data:`UNSET` (a one-member enum, so that ``is UNSET`` narrows the type)."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
"""Leave a field as it is: the default of the ``update_*`` methods, where ``None`` sets ``NULL``."""


_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+")


def check_email(address: str | None) -> str | None:
    """A plausible e-mail address stripped of blanks, or None for none (None or ``""``).

    Raises:
        InvalidInputError: the address is not of the form ``name@domain.tld``.
    """
    if not address:
        return None
    address = address.strip()
    if not _EMAIL.fullmatch(address):
        raise InvalidInputError(f"{address!r} is not an e-mail address")
    return address


def slugify(text: str) -> str:
    """Fold accents to ASCII, lower-case, turn runs of other characters into ``-``, trim."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")


def aware(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC. Raises InvalidInputError when it is naive."""
    if moment.utcoffset() is None:
        raise InvalidInputError(f"{what} must be a timezone-aware datetime")
    return moment.astimezone(UTC)


def require_positive(value: int | None, what: str) -> None:
    """Raise InvalidInputError unless ``value`` is None or positive."""
    if value is not None and value <= 0:
        raise InvalidInputError(f"{what} must be positive")


def require_text(value: str, what: str) -> None:
    """Raise InvalidInputError when ``value`` is blank."""
    if not value.strip():
        raise InvalidInputError(f"{what} must not be blank")


def new_project_slug(
    name: str, slug: str | None, *, rate_limit_per_minute: int | None, retention_days: int | None
) -> str:
    """Check a new project's fields and return its slug (from ``slug``, else from the name).

    Raises:
        InvalidInputError: a blank name, a non-positive limit, or a slug with no letter or digit.
    """
    require_text(name, "a project name")
    require_positive(rate_limit_per_minute, "rate_limit_per_minute")
    require_positive(retention_days, "retention_days")
    if slug is None:
        return slugify(name) or FALLBACK_SLUG
    resolved = slugify(slug)
    if not resolved:
        raise InvalidInputError("the slug must contain a letter or digit")
    return resolved
