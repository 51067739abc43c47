"""Hypothesis strategies for untrusted SDK JSON: arbitrary values, biased towards event fields.

Plain random objects almost never contain ``exception`` or ``logentry``; these strategies mix
the keys and nested shapes of real payloads with values of every JSON type, so that
normalization, grouping and preparation meet wrong types in the places that matter.
"""

from hypothesis import strategies as st

# Text includes lone surrogates (JavaScript SDKs cut strings inside emoji) and NUL, as Python
# dicts may hold them.
_text = st.text(st.characters() | st.sampled_from(["\ud83d", "\udc00", "\x00", "\n"]), max_size=12)
_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | _text

json_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=20,
)


def _shaped(
    fields: dict[str, st.SearchStrategy[object]],
) -> st.SearchStrategy[dict[str, object]]:
    """Objects with any subset of ``fields`` (each usually well-typed) plus random keys."""
    return st.fixed_dictionaries({}, optional=fields).flatmap(
        lambda known: st.dictionaries(_text, json_values, max_size=2).map(
            lambda extra: {**extra, **known}
        )
    )


_names = _text | st.sampled_from(["app.views", "main", "<lambda>", "app.js:10:2", ""])
frames = _shaped(
    {
        "module": _names | json_values,
        "filename": _names | json_values,
        "function": _names | json_values,
        "in_app": st.booleans() | json_values,
        "lineno": st.integers() | json_values,
        "platform": st.sampled_from(["python", "javascript", "native"]) | json_values,
    }
)
exceptions = _shaped(
    {
        "type": _names | json_values,
        "value": _text | json_values,
        "module": _names | json_values,
        "mechanism": _shaped({"synthetic": st.booleans() | json_values}) | json_values,
        "stacktrace": _shaped({"frames": st.lists(frames | json_values, max_size=5)}) | json_values,
    }
)
exception_fields = (
    st.fixed_dictionaries({"values": st.lists(exceptions | json_values, max_size=4)})
    | st.lists(exceptions, max_size=3)
    | exceptions
    | json_values
)
logentries = _shaped(
    {
        "message": _text | st.sampled_from(["%s and %(k)s", "{} {0} {k}", "100%"]) | json_values,
        "formatted": _text | json_values,
        "params": st.lists(json_values, max_size=3)
        | st.dictionaries(_text | st.just("k"), json_values, max_size=3)
        | json_values,
    }
)
contexts = _shaped(
    {
        "trace": _shaped({"op": _text | json_values, "status": _text | json_values}),
        "feedback": _shaped({"message": _text | json_values, "url": _text | json_values}),
    }
)
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
    "tags",
    "user",
    "sdk",
    "fingerprint",
    "type",
    "spans",
    "request",
    "sentry.interfaces.Exception",
)
_event_keys = st.sampled_from(_EVENT_KEYS) | _text

event_payloads = st.fixed_dictionaries(
    {},
    optional={
        "exception": exception_fields,
        "logentry": logentries | json_values,
        "contexts": contexts | json_values,
    },
).flatmap(
    lambda fixed: st.dictionaries(
        st.sampled_from(_EVENT_KEYS) | _text, json_values, max_size=8
    ).map(lambda rest: {**rest, **fixed})
)
"""Event-like JSON objects: known keys with any JSON values, plus shaped nested interfaces."""
