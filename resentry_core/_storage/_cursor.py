"""Opaque keyset cursors and page-size clamping, shared by every storage backend.

A cursor names the last item of a page by its sort key and id: ``(kind, sort_key, row_id)``
as URL-safe base64 of compact JSON. ``kind`` says which list (and sort) the cursor belongs
to, so a cursor of one list is rejected by another. Lists are ordered by
``(sort_key, row_id)`` descending; the next page holds the items strictly below the cursor.
Time sort keys are integer microseconds since the Unix epoch (:func:`time_key`).
"""

import base64
import binascii
from datetime import UTC, datetime, timedelta

from resentry_core import _json
from resentry_core._errors import InvalidInputError
from resentry_core._storage._protocol import MAX_PAGE_SIZE

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_MAX_CURSOR_CHARS = 512


def clamp_limit(limit: int) -> int:
    """Clamp a requested page size to ``1..MAX_PAGE_SIZE``."""
    return max(1, min(MAX_PAGE_SIZE, limit))


def time_key(moment: datetime) -> int:
    """The sort key of a timezone-aware datetime: microseconds since the Unix epoch."""
    return (moment - _EPOCH) // _MICROSECOND


def time_from_key(key: int) -> datetime:
    """The UTC datetime a :func:`time_key` value stands for."""
    return _EPOCH + key * _MICROSECOND


def encode_cursor(kind: str, sort_key: int, row_id: int) -> str:
    """The cursor that continues a ``kind`` list after the item ``(sort_key, row_id)``."""
    data = _json.dumps([kind, sort_key, row_id])
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, kind: str) -> tuple[int, int]:
    """The ``(sort_key, row_id)`` a cursor of a ``kind`` list points after.

    Raises:
        InvalidInputError: the cursor is malformed or belongs to another list.
    """
    try:
        if len(cursor) > _MAX_CURSOR_CHARS:
            raise ValueError("too long")
        padded = cursor.encode("ascii") + b"=" * (-len(cursor) % 4)
        value = _json.loads(base64.urlsafe_b64decode(padded))
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise InvalidInputError("malformed cursor") from None
    match value:
        case [str(found), int(sort_key), int(row_id)] if (
            found == kind
            and not isinstance(sort_key, bool)
            and not isinstance(row_id, bool)
            and _INT64_MIN <= sort_key <= _INT64_MAX
            and _INT64_MIN <= row_id <= _INT64_MAX
        ):
            return sort_key, row_id
    raise InvalidInputError("malformed cursor, or a cursor of another list")
