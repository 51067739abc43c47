"""Event normalization: from an event's JSON object to an :class:`EventRecord`.

Pure and total: any JSON object normalizes (fields of the wrong type count as missing). The
rules follow Relay's normalization and Sentry's title/culprit derivation (event payloads:
https://develop.sentry.dev/sdk/foundations/transport/event-payloads/):

- type: the item type for ``transaction`` and ``feedback`` items; for ``event`` items ``error``
  when there is an exception, a declared security report type (``csp``, ``nel``, ...), else
  ``default`` (like Relay, a declared ``error``/``default`` is inferred, not trusted);
- title: ``"{type}: {first line of value}"`` of the main (last) exception, or the first line
  of the formatted message, or the transaction name;
- culprit: the deprecated ``culprit`` field, else the transaction, else the crashing in-app
  frame (the innermost frame when none is in-app), else the request URL, else the logger.
"""

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from resentry_core._fields import (
    MAX_MESSAGE_CHARS,
    OBJECT_TYPES,
    as_mapping,
    as_str,
    as_text,
    first_line,
    get_path,
    json_text,
    lenient_str,
    normalize_environment,
    normalize_level,
    normalize_release,
    normalize_tags,
    parse_timestamp,
    truncate,
)
from resentry_core._json import clean_text
from resentry_core._records import EventRecord, JsonObject

MAX_TITLE_CHARS: Final = 200
MAX_CULPRIT_CHARS: Final = 200  # Sentry MAX_CULPRIT_LENGTH
MAX_TRANSACTION_CHARS: Final = 200
MAX_EXCEPTION_TYPE_CHARS: Final = 128
_MAX_SHORT_CHARS: Final = 128  # platform, op, status, logger

# relay-event-schema constants.rs VALID_PLATFORMS; anything else becomes "other".
_PLATFORMS: Final = frozenset(
    {
        *("as3", "c", "cfml", "cocoa", "csharp", "elixir", "go", "groovy", "haskell", "java"),
        *("javascript", "native", "node", "objc", "other", "perl", "php", "python", "ruby"),
    }
)
_SECURITY_TYPES: Final = frozenset({"csp", "hpkp", "expectct", "expectstaple", "nel"})
_NATIVE_PLATFORMS: Final = frozenset({"objc", "cocoa", "native"})
_JS_PLATFORMS: Final = frozenset({"javascript", "node"})
_UNLABELED_EVENT: Final = "<unlabeled event>"
_UNLABELED_TRANSACTION: Final = "<unlabeled transaction>"
_FEEDBACK_TITLE: Final = "User Feedback"

# Python printf placeholders (Relay formats with dynfmt's PythonFormat) and curly ones.
_PRINTF: Final = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"
    r"(?P<conv>[diouxXeEfFgGcrsa%])"
)
_CURLY: Final = re.compile(r"\{\{|\}\}|\{(?P<field>[^{}]*)\}")

Params = list[object] | Mapping[str, object]  # logentry params: positional or named


@dataclass(frozen=True, slots=True)
class Message:
    """An event's log message: the template before formatting and the text a reader sees."""

    template: str | None
    formatted: str | None


_NO_MESSAGE: Final = Message(template=None, formatted=None)


def exception_values(event: Mapping[str, object]) -> list[Mapping[str, object]]:
    """The exception chain, oldest first (the last value is the main exception).

    Accepts ``{"values": [...]}``, a bare list and a single exception object, under
    ``exception`` or the legacy ``sentry.interfaces.Exception``. Entries that are not objects
    or have neither a ``type`` nor a ``value`` are left out, as Relay removes them.
    """
    raw = event.get("exception")
    if raw is None:
        raw = event.get("sentry.interfaces.Exception")
    values = raw.get("values", [raw]) if isinstance(raw, OBJECT_TYPES) else raw
    if not isinstance(values, list):
        return []
    return [
        value
        for value in values
        if isinstance(value, OBJECT_TYPES) and (exception_type(value) or exception_value(value))
    ]


def stack_frames(container: Mapping[str, object]) -> list[Mapping[str, object]]:
    """The frames of ``container["stacktrace"]`` (caller first), objects only."""
    frames = get_path(container, "stacktrace", "frames")
    if not isinstance(frames, list):
        return []
    return [frame for frame in frames if isinstance(frame, OBJECT_TYPES)]


def exception_type(exception: Mapping[str, object]) -> str | None:
    """The exception's type name, trimmed and bounded."""
    return as_text(exception.get("type"), max_chars=MAX_EXCEPTION_TYPE_CHARS)


def exception_value(exception: Mapping[str, object]) -> str | None:
    """The exception's value (message), stringified like Relay's ``JsonLenientString``."""
    text = lenient_str(exception.get("value"))
    if text is None:
        return None
    return text.strip() or None


def read_message(event: Mapping[str, object]) -> Message:
    """The log message from ``logentry`` (or its legacy aliases ``sentry.interfaces.Message``
    and a top-level ``message``, string or object), formatting ``%s``/``%(name)s`` and
    ``{}``/``{0}``/``{name}`` placeholders from ``params`` when ``formatted`` is missing.
    """
    raw: object = None
    for key in ("logentry", "sentry.interfaces.Message", "message"):
        raw = event.get(key)
        if raw is not None:
            break
    if raw is None or raw is False:
        return _NO_MESSAGE
    if not isinstance(raw, OBJECT_TYPES):
        text = lenient_str(raw)
        text = truncate(text, MAX_MESSAGE_CHARS) if text else None
        return Message(template=text, formatted=text)
    template = _message_text(raw.get("message"))
    formatted = _message_text(raw.get("formatted"))
    if formatted is None and template is None:
        # Sentry GH-3248: a raw top-level ``message`` next to a message interface is its text.
        formatted = _message_text(event.get("message"))
    params = raw.get("params")
    if formatted is None and template is not None and isinstance(params, list | Mapping):
        formatted = format_message(template, params)
    if formatted is None:
        formatted = template
    return Message(template=template if template is not None else formatted, formatted=formatted)


def format_message(template: str, params: Params) -> str | None:
    """Interpolate ``params`` into ``template`` as Relay does; ``None`` when they do not fit.

    Templates with ``%`` use Python printf placeholders (positional with a list, ``%(name)s``
    with an object); otherwise ``{}``, ``{0}`` and ``{name}`` are replaced.
    """
    if "%" in template:
        return _format(_PRINTF, template, params, _printf_field)
    if "{" in template:
        return _format(_CURLY, template, params, _curly_field)
    return None


def normalize_event(
    payload: Mapping[str, object],
    *,
    event_id: str,
    item_position: int,
    item_type: str,
    received_at: datetime,
    fingerprint: str | None,
    envelope_sdk: JsonObject | None = None,
) -> EventRecord:
    """Normalize one event, transaction or feedback payload.

    Args:
        payload: the item's decoded JSON object (any shape).
        event_id: the event id already chosen for it (32 lowercase hex).
        item_position: index of the item in its envelope.
        item_type: ``event``, ``transaction`` or ``feedback``.
        received_at: receive time (UTC); used when the payload has no valid timestamp.
        fingerprint: the grouping hash to record (``None`` for kinds that are not grouped).
        envelope_sdk: the envelope's ``sdk`` header, used when the payload has none.

    Returns:
        The event record. Never raises for any JSON object.
    """
    exceptions = exception_values(payload)
    kind = event_type(payload, item_type, exceptions)
    message = read_message(payload)
    transaction = as_text(payload.get("transaction"), max_chars=MAX_TRANSACTION_CHARS)
    timestamp = parse_timestamp(payload.get("timestamp"))
    default_level = "error" if kind not in ("transaction", "feedback") else "info"
    sdk = as_mapping(payload.get("sdk"))
    user = as_mapping(payload.get("user"))
    if user is None:
        user = as_mapping(payload.get("sentry.interfaces.User"))
    text = message.formatted or ""
    duration_ms = op = status = span_count = None
    if kind == "transaction":
        title = culprit = transaction or _UNLABELED_TRANSACTION
        trace = get_path(payload, "contexts", "trace")
        op = as_text(get_path(trace, "op"), max_chars=_MAX_SHORT_CHARS)
        status = as_text(get_path(trace, "status"), max_chars=_MAX_SHORT_CHARS)
        duration_ms = _duration_ms(timestamp, parse_timestamp(payload.get("start_timestamp")))
        spans = payload.get("spans")
        span_count = len(spans) if isinstance(spans, list) else 0
    elif kind == "feedback":
        feedback = get_path(payload, "contexts", "feedback")
        text = as_str(get_path(feedback, "message")) or text
        title = first_line(text, max_chars=MAX_TITLE_CHARS) or _FEEDBACK_TITLE
        culprit = as_text(get_path(feedback, "url"), max_chars=MAX_CULPRIT_CHARS) or ""
    else:
        title = event_title(exceptions, message)
        culprit = event_culprit(payload, transaction, exceptions)
    return EventRecord(
        event_id=event_id,
        item_position=item_position,
        type=kind,
        level=normalize_level(payload.get("level"), default=default_level),
        timestamp=timestamp or received_at,
        platform=_platform(payload.get("platform")),
        title=title,
        culprit=culprit,
        message=truncate(text, MAX_MESSAGE_CHARS),
        release=normalize_release(payload.get("release")),
        environment=normalize_environment(payload.get("environment")),
        tags=event_tags(payload),
        user=user,
        sdk=sdk if sdk is not None else envelope_sdk,
        fingerprint=fingerprint,
        transaction=transaction,
        op=op,
        duration_ms=duration_ms,
        status=status,
        span_count=span_count,
    )


# Relay promotes these to tags (``normalize/event.rs``, ``extract_tags``): the context's
# ``name version`` under the context's name, and ``server_name`` as it is.
_PROMOTED_CONTEXTS: Final = ("browser", "os", "runtime", "device")


def event_tags(payload: Mapping[str, object]) -> dict[str, str]:
    """The event's tags, plus ``server_name``, ``browser``, ``os``, ``runtime`` and ``device``
    taken from the payload when the SDK sent no tag of that name (Sentry shows them as tags)."""
    tags = normalize_tags(payload.get("tags"))
    promoted: list[tuple[str, object]] = [("server_name", payload.get("server_name"))]
    for name in _PROMOTED_CONTEXTS:
        context = get_path(payload, "contexts", name)
        label = " ".join(
            part
            for part in (
                as_text(get_path(context, "name"), max_chars=_MAX_SHORT_CHARS)
                or as_text(get_path(context, "model"), max_chars=_MAX_SHORT_CHARS),
                as_text(get_path(context, "version"), max_chars=_MAX_SHORT_CHARS),
            )
            if part
        )
        promoted.append((name, label or None))
    for key, value in normalize_tags(promoted).items():
        tags.setdefault(key, value)
    return tags


def event_type(
    payload: Mapping[str, object], item_type: str, exceptions: Sequence[Mapping[str, object]]
) -> str:
    """The normalized event type (see the module docstring); ``exceptions`` is the payload's
    :func:`exception_values`."""
    if item_type in ("transaction", "feedback"):
        return item_type
    if exceptions:
        return "error"
    declared = payload.get("type")
    return declared if isinstance(declared, str) and declared in _SECURITY_TYPES else "default"


def event_title(exceptions: Sequence[Mapping[str, object]], message: Message) -> str:
    """Sentry's title of an error or message event, from its :func:`exception_values` and
    :func:`read_message`."""
    if exceptions:
        main = exceptions[-1]
        kind = exception_type(main)
        value = exception_value(main)
        line = first_line(value, max_chars=MAX_TITLE_CHARS) if value else ""
        if kind and line:
            return truncate(f"{kind}: {line}", MAX_TITLE_CHARS)
        return kind or line or _UNLABELED_EVENT
    if message.formatted:
        return first_line(message.formatted, max_chars=MAX_TITLE_CHARS) or _UNLABELED_EVENT
    return _UNLABELED_EVENT


def event_culprit(
    payload: Mapping[str, object],
    transaction: str | None,
    exceptions: Sequence[Mapping[str, object]],
) -> str:
    """Sentry's culprit of an error or message event (see the module docstring);
    ``exceptions`` is the payload's :func:`exception_values`."""
    culprit = (
        as_text(payload.get("culprit"), max_chars=MAX_CULPRIT_CHARS)
        or transaction
        or _stack_culprit(payload, exceptions)
        or as_text(get_path(payload, "request", "url"), max_chars=MAX_CULPRIT_CHARS)
        or as_text(payload.get("logger"), max_chars=_MAX_SHORT_CHARS)
        or ""
    )
    return truncate(culprit, MAX_CULPRIT_CHARS)


def _stack_culprit(
    payload: Mapping[str, object], exceptions: Sequence[Mapping[str, object]]
) -> str | None:
    # Sentry generate_culprit: the last exception's stack that has frames (or the legacy
    # top-level stacktrace); none for a synthetic main exception.
    platform = as_str(payload.get("platform"))
    if exceptions:
        if get_path(exceptions[-1], "mechanism", "synthetic") is True:
            return None
        stacks = [frames for frames in map(stack_frames, exceptions) if frames]
    else:
        stacks = [stack_frames(payload)]
    if not stacks or not stacks[-1]:
        return None
    innermost: str | None = None
    for frame in reversed(stacks[-1]):
        if frame.get("in_app") is True:
            culprit = _frame_culprit(frame, platform)
            if culprit:
                return culprit
        elif innermost is None:
            innermost = _frame_culprit(frame, platform)
    return innermost


def _frame_culprit(frame: Mapping[str, object], platform: str | None) -> str:
    platform = as_str(frame.get("platform")) or platform
    function = as_text(frame.get("function"), max_chars=MAX_CULPRIT_CHARS) or "?"
    if platform in _NATIVE_PLATFORMS:
        return function
    location = as_text(frame.get("module"), max_chars=MAX_CULPRIT_CHARS) or as_text(
        frame.get("filename"), max_chars=MAX_CULPRIT_CHARS
    )
    if not location:
        return ""
    if platform in _JS_PLATFORMS:
        return f"{function}({location})"
    return f"{location} in {function}"


def _platform(value: object) -> str:
    text = as_text(value, max_chars=_MAX_SHORT_CHARS)
    return text if text in _PLATFORMS else "other"


def _duration_ms(end: datetime | None, start: datetime | None) -> float | None:
    if end is None or start is None or end < start:
        return None
    return (end - start).total_seconds() * 1000.0


def _message_text(value: object) -> str | None:
    text = as_str(value)
    return truncate(text, MAX_MESSAGE_CHARS) if text else None


_FieldReader = Callable[[re.Match[str], Params, Iterator[int]], str]


class _MissingParamError(Exception):
    pass


_MISSING: Final = object()


def _format(
    pattern: re.Pattern[str], template: str, params: Params, field: _FieldReader
) -> str | None:
    position = iter(range(len(template) + 1))
    try:
        formatted = pattern.sub(lambda match: field(match, params, position), template)
    except _MissingParamError:
        return None
    return truncate(clean_text(formatted), MAX_MESSAGE_CHARS)


def _printf_field(match: re.Match[str], params: Params, position: Iterator[int]) -> str:
    if match["conv"] == "%":
        return "%"
    key = match["key"]
    return _param(params, key if key is not None else next(position))


def _curly_field(match: re.Match[str], params: Params, position: Iterator[int]) -> str:
    text = match.group()
    if text in ("{{", "}}"):
        return text[0]
    name = re.split(r"[:!]", match["field"], maxsplit=1)[0].strip()
    if not name:
        return _param(params, next(position))
    return _param(params, int(name) if name.isdecimal() and len(name) < 10 else name)


def _param(params: Params, key: int | str) -> str:
    if isinstance(params, Mapping):
        value = params.get(key, _MISSING) if isinstance(key, str) else _MISSING
    else:
        value = params[key] if isinstance(key, int) and key < len(params) else _MISSING
    if value is _MISSING:
        raise _MissingParamError
    return value if isinstance(value, str) else json_text(value)
