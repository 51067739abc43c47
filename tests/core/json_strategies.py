"""Hypothesis strategies for untrusted SDK JSON: arbitrary values, biased towards event fields.

Plain random objects almost never contain ``exception`` or ``logentry``; these strategies mix
the keys and nested shapes of real payloads with values of every JSON type, so that
normalization, grouping and preparation meet wrong types in the places that matter.
"""

from hypothesis import strategies as st

# Text includes lone surrogates and NUL (protocol.md §7 #61), as Python dicts may hold them.
_text = st.text(st.characters() | st.sampled_from(["\ud83d", "\udc00", "\x00", "\n"]), max_size=12)
_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | _text

json_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=20,
)

_FRAME_KEYS = ("module", "filename", "function", "in_app", "lineno", "abs_path", "platform")
_EXCEPTION_KEYS = ("type", "value", "module", "mechanism", "stacktrace")
_EVENT_KEYS = (
    "event_id",
    "timestamp",
    "start_timestamp",
    "level",
    "platform",
    "release",
    "environment",
    "transaction",
    "culprit",
    "logger",
    "message",
    "logentry",
    "tags",
    "user",
    "sdk",
    "fingerprint",
    "type",
    "spans",
    "request",
    "sentry.interfaces.Exception",
)


def _objects(
    keys: tuple[str, ...], values: st.SearchStrategy[object]
) -> st.SearchStrategy[dict[str, object]]:
    return st.dictionaries(st.sampled_from(keys) | _text, values, max_size=len(keys))


frames = _objects(_FRAME_KEYS, json_values | _text)
exceptions = _objects(
    _EXCEPTION_KEYS,
    json_values | st.fixed_dictionaries({"frames": st.lists(frames | json_values, max_size=5)}),
)
exception_fields = (
    st.fixed_dictionaries({"values": st.lists(exceptions | json_values, max_size=4)})
    | st.lists(exceptions, max_size=3)
    | exceptions
    | json_values
)
logentries = _objects(("message", "formatted", "params"), json_values | _text)
contexts = st.fixed_dictionaries(
    {},
    optional={
        "trace": _objects(("op", "status", "trace_id"), json_values),
        "feedback": _objects(("message", "url", "name", "contact_email"), json_values),
    },
)

event_payloads = st.fixed_dictionaries(
    {},
    optional={
        "exception": exception_fields,
        "logentry": logentries | json_values,
        "contexts": contexts | json_values,
    },
).flatmap(lambda fixed: _objects(_EVENT_KEYS, json_values).map(lambda rest: {**rest, **fixed}))
"""Event-like JSON objects: known keys with any JSON values, plus shaped nested interfaces."""
