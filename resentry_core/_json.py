"""JSON decoding and encoding for untrusted payloads.

:func:`decode` is faithful: it returns what the document says. :func:`loads` also repairs
text for storage. ``orjson`` is the fast path of both. SDKs send things it rejects but Relay
accepts: a lone UTF-16 surrogate escape (``"\\ud83d"``, JavaScript cutting a string inside
an emoji) and Python's ``NaN``/``Infinity`` tokens. Those fall back
to the standard library decoder. From :func:`loads`, non-finite numbers become ``None`` and
every string is valid UTF-8 text: lone surrogates become U+FFFD and NUL characters are
dropped, so values can go into any text column (PostgreSQL rejects both). Callers that need
the exact bytes keep the payload itself.
"""

import json
import math
import re
from typing import Any

import orjson

from resentry_core._errors import JsonDecodeError
from resentry_core._limits import MAX_JSON_DEPTH

_SURROGATE = re.compile("[\ud800-\udfff]")
_NUL_ESCAPE = re.compile(rb"\\u0000")
TRIMMED_MARKER = f"[trimmed: nested deeper than {MAX_JSON_DEPTH} levels]"


def decode(data: bytes | memoryview | str) -> Any:
    """Decode one JSON document as it is (lone surrogates, NUL and NaN included).

    Raises:
        JsonDecodeError: the input is not JSON (or not UTF-8).
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _stdlib_decode(data)


def _stdlib_decode(data: bytes | memoryview | str) -> Any:
    try:
        return json.loads(data if isinstance(data, str) else str(data, "utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise JsonDecodeError(str(exc)) from None


def loads(data: bytes | memoryview | str) -> Any:
    """Decode one JSON document, repairing text as the module docstring describes.

    ``data`` may be a memoryview of bytes (a parsed item's payload); it is not copied.

    Raises:
        JsonDecodeError: the input is not JSON (or not UTF-8).
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    else:
        # orjson accepted it, so it is UTF-8 without lone surrogates; NUL only comes from an
        # escape. re searches a memoryview (a parsed payload) in place; for bytes, rfind is
        # faster still: anchored on the rare backslash, the reverse scan skips the most.
        if type(data) is memoryview:
            has_nul = _NUL_ESCAPE.search(data) is not None
        elif isinstance(data, str):
            has_nul = "\\u0000" in data
        else:
            has_nul = data.rfind(b"\\u0000") != -1
        return _clean(value) if has_nul else value
    return _clean(_stdlib_decode(data))


def deeper_than(value: Any, max_depth: int) -> bool:
    """Whether ``value`` nests containers more than ``max_depth`` levels deep (a bare object
    or array is one level). Stops as soon as it knows."""
    level = [value]
    for _ in range(max_depth):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, (dict, list))
        ]
        if not level:
            return False
    return True


def trim_depth(value: Any, max_depth: int = MAX_JSON_DEPTH) -> tuple[Any, list[str]]:
    """``value`` with every object or array deeper than ``max_depth`` levels replaced by
    :data:`TRIMMED_MARKER`; also the paths (``extra.x.0``) of the first ten replaced."""
    paths: list[str] = []

    def walk(node: Any, depth: int, path: str) -> Any:
        if not isinstance(node, (dict, list)):
            return node
        if depth > max_depth:
            if len(paths) < 10:
                paths.append(path)
            return TRIMMED_MARKER
        pairs = node.items() if isinstance(node, dict) else enumerate(node)
        trimmed = {str(k): walk(v, depth + 1, f"{path}.{k}".lstrip(".")) for k, v in pairs}
        return trimmed if isinstance(node, dict) else list(trimmed.values())

    return walk(value, 1, ""), paths


def within_depth(value: Any) -> Any:
    """``value``, trimmed past :data:`MAX_JSON_DEPTH` levels if it nests deeper (see
    :func:`trim_depth`): what a reader renders, whatever was stored."""
    return trim_depth(value)[0] if deeper_than(value, MAX_JSON_DEPTH) else value


def dumps(value: object) -> bytes:
    """Encode ``value`` as compact JSON bytes (non-string keys are stringified)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def clean_text(text: str) -> str:
    """Return ``text`` with lone surrogates replaced by U+FFFD and NUL characters removed."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if text.isascii():  # a flag of the str object: no surrogate, and no encoding to try
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN/Infinity tokens: JSON columns cannot hold them
    return value
