"""Grouping: an event's fingerprint, the key that puts events into one issue.

Modelled on Sentry's default grouping
(https://docs.sentry.io/concepts/data-management/event-grouping/):

1. An explicit ``fingerprint`` (a list of strings; numbers and booleans are stringified as
   Relay does, ``null`` entries skipped) replaces the default key; an entry ``{{ default }}``
   (or ``{{default}}``) stands for the default key. A fingerprint that is only
   ``{{ default }}`` groups exactly like no fingerprint. One of another shape is ignored.
2. Default key, for an exception chain: every exception's type (and module) plus, when the
   chain has frames, the frames' module (or normalized filename) and function; only in-app
   frames when any frame of the event is in-app, else all frames. Line and column numbers,
   ``abs_path``, source context and local variables never count, so the key survives new
   releases, other hosts and code moving within a file. Directly recursive frames count once.
   Without any usable frame: the types plus each exception's parameterized value.
3. Default key, without an exception: the message template (``logentry.message`` before
   formatting, else the message) with parameters (numbers, hex ids, UUIDs, dates, quoted
   values, e-mails, IPs, URLs) replaced by placeholders.

The key is hashed with SHA-256 over a canonical JSON encoding of its parts: the standard
library's compact, ASCII-only ``json.dumps``, which every stored fingerprint was computed with.
"""

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Final

import orjson

from resentry_core._fields import as_str, as_text, first_line, lenient_str
from resentry_core._normalize import (
    MAX_EXCEPTION_TYPE_CHARS,
    exception_type,
    exception_value,
    exception_values,
    read_message,
    stack_frames,
)

_MAX_PART_CHARS: Final = 1024
_DEFAULT: Final = re.compile(r"\{\{\s*default\s*\}\}")
_URL_ORIGIN: Final = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*")
_LINE_SUFFIX: Final = re.compile(r"(?::\d+){1,2}$")
_ADDRESS: Final = re.compile(r"0x[0-9a-fA-F]+")
# Ordered alternatives: at each position the first that matches wins.
_PARAMETERS: Final = re.compile(
    r"""
    (?P<email>[a-zA-Z0-9._%+-]+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*\.[a-zA-Z]{2,})
    | (?P<url>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'"<>]+)
    | (?P<uuid>\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b)
    | (?P<date>\b\d{4}-\d{2}-\d{2}(?:[T\ ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?
        (?:Z|[+-]\d{2}:?\d{2})?)?\b)
    | (?P<time>\b\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\b)
    | (?P<ip>\b(?:\d{1,3}\.){3}\d{1,3}\b
        | (?<![\w:])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])
        | (?<![\w:])(?:[0-9a-fA-F]{1,4}:)*[0-9a-fA-F]{0,4}
          ::(?:[0-9a-fA-F]{1,4}:)*[0-9a-fA-F]{0,4}(?![\w:]))
    | (?P<hex>\b0[xX][0-9a-fA-F]+\b | \b[0-9a-fA-F]{8,}\b)
    | (?P<quoted>(?<!\w)'[^'\n]*'(?!\w) | (?<!\w)"[^"\n]*"(?!\w))
    | (?P<float>(?<![a-zA-Z0-9.])\d+\.\d+)
    | (?P<int>(?<![a-zA-Z0-9])\d+)
    """,
    re.VERBOSE,
)


def fingerprint(event: Mapping[str, object]) -> str:
    """The grouping hash of an event (64 lowercase hex characters).

    Args:
        event: the event's JSON object, in any shape; unusable fields count as missing.

    Returns:
        A stable hex digest: equal for events that belong to the same issue.
    """
    default = default_key(event)
    explicit = _explicit_fingerprint(event.get("fingerprint"))
    if explicit is None or all(part is None for part in explicit):
        key: list[object] = ["default", default]
    else:
        key = ["custom", [default if part is None else part for part in explicit]]
    return hashlib.sha256(_canonical_json(key)).hexdigest()


def default_key(event: Mapping[str, object]) -> list[object]:
    """The parts of the built-in grouping key (before hashing), as the module docstring says."""
    exceptions = exception_values(event)
    if exceptions:
        stacks = [stack_frames(exception) for exception in exceptions]
        in_app_only = any(frame.get("in_app") is True for frames in stacks for frame in frames)
        chain = [
            (_type_part(exception), _frame_parts(frames, in_app_only=in_app_only))
            for exception, frames in zip(exceptions, stacks, strict=True)
        ]
        if any(frames for _, frames in chain):
            return ["stacktrace", [[kind, frames] for kind, frames in chain]]
        values = [parameterize(exception_value(exception) or "") for exception in exceptions]
        return [
            "exception",
            [[kind, value] for (kind, _), value in zip(chain, values, strict=True)],
        ]
    template = read_message(event).template
    if template:
        return ["message", parameterize(template)]
    return ["fallback"]


def parameterize(text: str) -> str:
    """``text``'s first line with variable parts replaced by ``<kind>`` placeholders."""
    return _parameterize_line(first_line(text, max_chars=_MAX_PART_CHARS))


# Message templates and exception values recur from event to event, and the regex costs
# several microseconds a line. At most 1024 lines of at most _MAX_PART_CHARS are kept.
@functools.lru_cache(maxsize=1024)
def _parameterize_line(line: str) -> str:
    return _PARAMETERS.sub(_placeholder, line)


def _canonical_json(key: list[object]) -> bytes:
    # orjson writes the same bytes as the standard library, about ten times faster, unless a
    # string holds DEL or a non-ASCII character: json.dumps escapes those (ensure_ascii).
    encoded = orjson.dumps(key)
    if encoded.isascii() and b"\x7f" not in encoded:
        return encoded
    return json.dumps(key, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _placeholder(match: re.Match[str]) -> str:
    return f"<{match.lastgroup}>"


def _explicit_fingerprint(value: object) -> list[str | None] | None:
    # None entries in the result stand for {{ default }}.
    if not isinstance(value, list):
        return None
    parts: list[str | None] = []
    for entry in value:
        if entry is None:
            continue
        if isinstance(entry, Mapping | list):
            return None  # Relay rejects the whole fingerprint
        text = lenient_str(entry)
        if text is None:
            continue
        parts.append(None if _DEFAULT.fullmatch(text.strip()) else text)
    return parts or None


def _type_part(exception: Mapping[str, object]) -> list[str]:
    module = as_text(exception.get("module"), max_chars=MAX_EXCEPTION_TYPE_CHARS)
    return [module or "", exception_type(exception) or ""]


def _frame_parts(frames: list[Mapping[str, object]], *, in_app_only: bool) -> list[list[str]]:
    parts: list[list[str]] = []
    for frame in frames:
        if in_app_only and frame.get("in_app") is not True:
            continue
        location = as_text(frame.get("module"), max_chars=_MAX_PART_CHARS) or _filename(
            frame.get("filename")
        )
        function = as_text(frame.get("function"), max_chars=_MAX_PART_CHARS)
        if function and "0x" in function:
            function = _ADDRESS.sub("0x", function)
        if not location and not function:
            continue  # e.g. a native frame known only by its address
        part = [location or "", function or ""]
        if not parts or parts[-1] != part:
            parts.append(part)
    return parts


def _filename(value: object) -> str | None:
    text = as_str(value)
    if not text:
        return None
    return _cached_path(text) if len(text) <= _MAX_PART_CHARS else _path(text)


def _path(text: str) -> str | None:
    text = text.strip().replace("\\", "/")
    text = text.split("?", 1)[0].split("#", 1)[0]
    text = _LINE_SUFFIX.sub("", _URL_ORIGIN.sub("", text))
    return text[:_MAX_PART_CHARS] or None


# The frames of one code base name the same files event after event; normalizing a path costs
# one to two microseconds. At most 4096 paths of at most _MAX_PART_CHARS are kept.
_cached_path = functools.lru_cache(maxsize=4096)(_path)
