"""Domain rules, written once: pure functions that decide, for the services and for storage.

The core services (:class:`~resentry_core.Accounts`, :class:`~resentry_core.Projects`,
:class:`~resentry_core.Issues`) apply them before they ask storage to write; storage backends
only store and read (``_storage/_protocol.py``). Each rule raises
:class:`~resentry_core.InvalidInputError` or :class:`~resentry_core.ConflictError` with the
message the HTTP API answers.
"""

import re
import unicodedata
from collections.abc import Sequence
from typing import Final

from resentry_core._errors import ConflictError, InvalidInputError
from resentry_core._models import ISSUE_STATUSES, IssueStatus

FALLBACK_SLUG: Final = "project"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+")


def keep_an_active_admin(user_id: int, active_admin_ids: Sequence[int], *, change: str) -> None:
    """Raise ConflictError when ``user_id`` is the only active admin: ``change`` (demoting,
    deactivating or deleting them, in words) would leave no one to administer Resentry."""
    if list(active_admin_ids) == [user_id]:
        raise ConflictError(f"the last active admin cannot be {change}")


def slugify(text: str) -> str:
    """Fold accents to ASCII, lower-case, turn runs of other characters into ``-``, trim."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")


def project_slug(name: str, slug: str | None) -> str:
    """A new project's slug: ``slug`` normalized, else the name's (:data:`FALLBACK_SLUG` when
    the name has no letter or digit). Raises InvalidInputError for a given slug with none."""
    if slug is None:
        return slugify(name) or FALLBACK_SLUG
    resolved = slugify(slug)
    if not resolved:
        raise InvalidInputError("the slug must contain a letter or digit")
    return resolved


def check_project_name(name: str) -> None:
    """Raise InvalidInputError when a project name is blank."""
    if not name.strip():
        raise InvalidInputError("a project name must not be blank")


def check_text(value: str, what: str) -> None:
    """Raise InvalidInputError when ``value`` (``what``, in words) is blank."""
    if not value.strip():
        raise InvalidInputError(f"{what} must not be blank")


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


def check_positive(value: int | None, what: str) -> None:
    """Raise InvalidInputError unless ``value`` (a limit; None: no limit) is positive."""
    if value is not None and value <= 0:
        raise InvalidInputError(f"{what} must be positive")


def check_status(status: str) -> IssueStatus:
    """``status`` as an issue status. Raises InvalidInputError."""
    for known in ISSUE_STATUSES:
        if status == known:
            return known
    raise InvalidInputError(f"unknown issue status {status!r}; use one of {ISSUE_STATUSES}")


def status_after_event(status: IssueStatus) -> tuple[IssueStatus, bool]:
    """An issue's status once a new event joins it, and whether that is a regression: a
    resolved issue is reopened; an unresolved or ignored one keeps its status."""
    if status == "resolved":
        return "unresolved", True
    return status, False
