"""Readers for single fields of untrusted SDK JSON.

Every function here accepts any value (``object``): a field may be missing, ``null`` or of the
wrong type, and the answer is then ``None`` (or the documented default), never an exception.
Rules follow Relay's normalization (``relay-event-normalization``) and its event schema
(``relay-event-schema/src/protocol``) unless a docstring says otherwise.
"""

import math
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Final

import orjson

from resentry_core import _json

# relay-event-schema LogEntry: "It must not exceed 8192 characters".
MAX_MESSAGE_CHARS: Final = 8192
# Relay: release max_chars 200; environment 64; transaction 200; tag keys and values 200.
MAX_RELEASE_CHARS: Final = 200
MAX_ENVIRONMENT_CHARS: Final = 64
MAX_TAG_CHARS: Final = 200

_ELLIPSIS: Final = "\u2026"
# sentry-release-parser validate_release / validate_environment: no slashes, newlines or tabs.
_BAD_NAME_CHARS: Final = re.compile(r"[\\/\r\n\t\x0b\x0c]")
_RESERVED_RELEASES: Final = frozenset({".", "..", "latest"})
_RESERVED_ENVIRONMENTS: Final = frozenset({".", "..", "None"})
# relay-event-schema TagEntry: key allow_chars "a-zA-Z0-9_.:-".
_TAG_KEY: Final = re.compile(r"[a-zA-Z0-9_.:-]+")
_LEVEL_ALIASES: Final = {
    "debug": "debug",
    "info": "info",
    "log": "info",
    "warning": "warning",
    "warn": "warning",
    "error": "error",
    "fatal": "fatal",
    "critical": "fatal",
}
# Python logging levels, accepted by Relay (Level::from_python_level).
_PYTHON_LEVELS: Final = {10: "debug", 20: "info", 30: "warning", 40: "error", 50: "fatal"}

OBJECT_TYPES: Final = (dict, Mapping)
"""What ``isinstance`` accepts as a JSON object. Decoded objects are dicts, and trying ``dict``
first spares them ``Mapping``'s ``ABCMeta.__instancecheck__``, Python code 7 times slower."""
_CONTAINER_TYPES: Final = (*OBJECT_TYPES, list)


def get_path(value: object, *keys: str) -> object:
    """Follow ``keys`` through nested objects; ``None`` once one is missing or not an object."""
    for key in keys:
        if not isinstance(value, OBJECT_TYPES):
            return None
        value = value.get(key)
    return value


def as_mapping(value: object) -> Mapping[str, object] | None:
    """``value`` when it is a JSON object, else ``None``."""
    return value if isinstance(value, OBJECT_TYPES) else None


def as_str(value: object) -> str | None:
    """``value`` as clean text when it is a string, else ``None``."""
    return _json.clean_text(value) if isinstance(value, str) else None


def truncate(text: str, max_chars: int) -> str:
    """``text`` cut to at most ``max_chars`` characters, marked with an ellipsis when cut."""
    return text if len(text) <= max_chars else text[: max_chars - 1] + _ELLIPSIS


def as_text(value: object, *, max_chars: int) -> str | None:
    """A trimmed, non-empty, clean string of at most ``max_chars`` characters, else ``None``."""
    text = as_str(value)
    if text is None:
        return None
    text = text.strip()
    return truncate(text, max_chars) if text else None


def first_line(text: str, *, max_chars: int) -> str:
    """The first non-blank line of ``text``, trimmed and truncated."""
    for line in text.strip().splitlines():
        if line.strip():
            return truncate(line.strip(), max_chars)
    return ""


def as_int(value: object) -> int | None:
    """An integer (integral floats accepted; booleans are not numbers), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def as_number(value: object) -> float | None:
    """A finite number as ``float`` (booleans are not numbers), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        return None
    return number if math.isfinite(number) else None


def lenient_str(value: object) -> str | None:
    """Relay's ``LenientString``: strings as they are, numbers and booleans stringified.

    Booleans become ``True``/``False`` and integral floats lose their ``.0`` (Relay prints
    Rust values). Objects and arrays are serialized as JSON. ``None`` stays ``None``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return _json.clean_text(value)
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 2**63 else repr(value)
    return json_text(value)


def json_text(value: object) -> str:
    """Compact JSON text of ``value``; ``""`` when it cannot be encoded (too deep, huge ints)."""
    try:
        return _json.clean_text(_json.dumps(value).decode())
    except (orjson.JSONEncodeError, TypeError):
        return ""


def normalize_uuid(value: object, *, allow_nil: bool = False) -> str | None:
    """A UUID in any form the ``uuid`` module reads (dashed, dashless, braced, urn, any case)
    as 32 lowercase hex characters; ``None`` when invalid (or nil, unless ``allow_nil``).
    """
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = uuid.UUID(value.strip())
    except ValueError:
        return None
    if parsed.int == 0 and not allow_nil:
        return None
    return parsed.hex


def parse_timestamp(value: object) -> datetime | None:
    """A UTC-aware datetime from Unix seconds (int or float) or an ISO 8601 / RFC 3339 string.

    Naive strings are UTC; ``Z`` and offsets are honoured; fractions beyond microseconds are
    cut. Anything else, including years past 9999, is ``None``.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64:
            return None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        if parsed.tzinfo is UTC:  # "Z" and "+00:00", what SDKs send
            return parsed
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # an offset that pushes the instant past year 1 or 9999
            return None
    seconds = as_number(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def normalize_level(value: object, *, default: str) -> str:
    """``debug | info | warning | error | fatal`` from a name, an alias or a Python level int."""
    if isinstance(value, str):
        return _LEVEL_ALIASES.get(value.strip().lower(), default)
    number = as_int(value)
    return _PYTHON_LEVELS.get(number, default) if number is not None else default


def normalize_release(value: object) -> str | None:
    """A valid release name (trimmed, at most 200 characters, no slashes or line breaks)."""
    text = as_str(value)
    if text is None:
        return None
    text = text.strip()
    if (
        not text
        or len(text) > MAX_RELEASE_CHARS
        or text in _RESERVED_RELEASES
        or _BAD_NAME_CHARS.search(text)
    ):
        return None
    return text


def normalize_environment(value: object) -> str | None:
    """A valid environment name (trimmed, at most 64 characters, no slashes or line breaks)."""
    text = as_str(value)
    if text is None:
        return None
    text = text.strip()
    if (
        not text
        or len(text) > MAX_ENVIRONMENT_CHARS
        or text in _RESERVED_ENVIRONMENTS
        or _BAD_NAME_CHARS.search(text)
    ):
        return None
    return text


def normalize_tags(value: object) -> dict[str, str]:
    """Tags from an object ``{k: v}`` or a list of ``[k, v]`` pairs, as Relay reads them.

    Keys and values go through :func:`lenient_str` and are trimmed; spaces inside keys become
    ``-`` (Relay replaces before trimming, turning ``" a "`` into ``"-a-"``). Entries that are
    not pairs, with a ``null`` or empty value, a value with a newline, a key outside
    ``[a-zA-Z0-9_.:-]`` or either part over 200 characters are dropped. The first of
    duplicate keys wins.
    """
    if isinstance(value, OBJECT_TYPES):
        pairs: Iterable[object] = value.items()
    elif isinstance(value, list):
        pairs = value
    else:
        return {}
    tags: dict[str, str] = {}
    for pair in pairs:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        key = _scalar_text(pair[0])
        text = _scalar_text(pair[1])
        if key is None or text is None:
            continue
        key = key.strip().replace(" ", "-")
        text = text.strip()
        if (
            _TAG_KEY.fullmatch(key)
            and len(key) <= MAX_TAG_CHARS
            and text
            and len(text) <= MAX_TAG_CHARS
            and "\n" not in text
        ):
            tags.setdefault(key, text)
    return tags


def _scalar_text(value: object) -> str | None:
    # lenient_str of a string, number or boolean; objects and arrays are not text here.
    if isinstance(value, str):
        return _json.clean_text(value)
    return None if isinstance(value, _CONTAINER_TYPES) else lenient_str(value)
