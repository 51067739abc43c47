"""An event payload as the issue page shows it: a view model of plain strings and lists.

Payloads are whatever the SDK (or anyone holding the DSN) sent, so every reader here is
defensive: a field of the wrong type is skipped, never an error. Values are left as text;
the templates escape them.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import orjson

from resentry_core import JsonDecodeError, parse_json

# Header values never shown (Sentry's data scrubbing hides the same ones).
MASKED_HEADERS: Final = frozenset(
    {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key", "x-auth-token"}
)
MASK: Final = "[masked]"
_MAX_VALUE_CHARS: Final = 2000


@dataclass(frozen=True, slots=True)
class Frame:
    """One stack frame."""

    where: str
    function: str
    lineno: int | None
    in_app: bool
    context: list[tuple[int, str, bool]] = field(default_factory=list)  # (lineno, line, current)
    variables: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ExceptionView:
    """One exception of the chain, its frames most recent first."""

    type: str
    value: str
    mechanism: str
    frames: list[Frame]


@dataclass(frozen=True, slots=True)
class Crumb:
    """One breadcrumb."""

    timestamp: str
    category: str
    level: str
    message: str
    data: str


@dataclass(frozen=True, slots=True)
class EventView:
    """The parts of an event payload the issue page shows."""

    exceptions: list[ExceptionView]
    message: str
    breadcrumbs: list[Crumb]
    request: list[tuple[str, str]]
    request_url: str
    headers: list[tuple[str, str]]
    contexts: list[tuple[str, list[tuple[str, str]]]]
    extra: list[tuple[str, str]]


def _obj(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> Sequence[object]:
    if isinstance(value, dict):  # {"values": [...]} or a bare list: SDKs send both
        value = value.get("values")
    return value if isinstance(value, list) else []


def text(value: object) -> str:
    """A JSON value as short text: strings as they are, anything else as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        result = value
    else:
        try:
            result = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            result = repr(value)
    return result if len(result) <= _MAX_VALUE_CHARS else result[:_MAX_VALUE_CHARS] + "…"


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _frame(raw: Mapping[str, object]) -> Frame:
    lineno = _int(raw.get("lineno"))
    context: list[tuple[int, str, bool]] = []
    if lineno is not None:
        before = [text(line) for line in _list(raw.get("pre_context"))]
        after = [text(line) for line in _list(raw.get("post_context"))]
        start = lineno - len(before)
        context += [(start + n, line, False) for n, line in enumerate(before)]
        if "context_line" in raw:
            context.append((lineno, text(raw.get("context_line")), True))
        context += [(lineno + 1 + n, line, False) for n, line in enumerate(after)]
    variables = [(text(key), text(value)) for key, value in _obj(raw.get("vars")).items()]
    return Frame(
        where=text(raw.get("filename") or raw.get("abs_path") or raw.get("module") or "?"),
        function=text(raw.get("function") or "?"),
        lineno=lineno,
        in_app=raw.get("in_app") is True,
        context=context,
        variables=variables,
    )


def _exception(raw: Mapping[str, object]) -> ExceptionView:
    frames = [_frame(_obj(frame)) for frame in _list(_obj(raw.get("stacktrace")).get("frames"))]
    return ExceptionView(
        type=text(raw.get("type") or "Error"),
        value=text(raw.get("value")),
        mechanism=text(_obj(raw.get("mechanism")).get("type")),
        frames=frames[::-1],
    )


def _message(payload: Mapping[str, object]) -> str:
    entry = _obj(payload.get("logentry") or payload.get("sentry.interfaces.Message"))
    for candidate in (entry.get("formatted"), entry.get("message"), payload.get("message")):
        if isinstance(candidate, str) and candidate:
            return text(candidate)
        if isinstance(candidate, dict):
            return text(candidate.get("formatted") or candidate.get("message"))
    return ""


def _headers(raw: object) -> list[tuple[str, str]]:
    pairs = raw.items() if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    headers = []
    for pair in pairs:
        if isinstance(pair, list | tuple) and len(pair) == 2:
            name = text(pair[0])
            value = MASK if name.strip().lower() in MASKED_HEADERS else text(pair[1])
            headers.append((name, value))
    return headers


def event_view(payload: bytes) -> EventView:
    """The view of an event payload (an unreadable payload gives an empty view)."""
    try:
        data = _obj(parse_json(payload))
    except JsonDecodeError:
        data = {}
    request = _obj(data.get("request"))
    shown = ("method", "query_string", "data", "env")
    contexts = [
        (text(name), [(text(key), text(value)) for key, value in _obj(context).items()])
        for name, context in _obj(data.get("contexts")).items()
        if isinstance(context, dict)
    ]
    return EventView(
        exceptions=[_exception(_obj(raw)) for raw in _list(data.get("exception"))][::-1],
        message=_message(data),
        breadcrumbs=[
            Crumb(
                timestamp=text(crumb.get("timestamp")),
                category=text(crumb.get("category") or crumb.get("type")),
                level=text(crumb.get("level")),
                message=text(crumb.get("message")),
                data=text(crumb.get("data")) if crumb.get("data") else "",
            )
            for crumb in map(_obj, _list(data.get("breadcrumbs")))
        ],
        request=[(key, text(request[key])) for key in shown if request.get(key)],
        request_url=text(request.get("url")),
        headers=_headers(request.get("headers")),
        contexts=contexts,
        extra=[(text(key), text(value)) for key, value in _obj(data.get("extra")).items()],
    )
