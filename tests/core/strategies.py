"""Hypothesis strategies for envelopes, shared by the core tests.

Every envelope drawn from :func:`envelopes` is valid under ``DEFAULT_LIMITS`` and round-trips:
``parse_envelope(envelope.serialize()) == envelope``. Its ``EnvelopeHeaders.event_id`` and
``sent_at`` are what the parser derives from ``fields`` (an id written with dashes or upper
case, a timestamp with any UTC offset).
"""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import strategies as st

from resentry_core._envelope import Envelope, EnvelopeHeaders, Item

# Item types of Relay's "event" size bucket: at most one of them per envelope.
EVENT_ITEM_TYPES = (
    "event",
    "transaction",
    "security",
    "raw_security",
    "replay_event",
    "feedback",
    "form_data",
)
# Known item types an envelope may repeat (check_in may appear once: drawn separately).
REPEATABLE_ITEM_TYPES = (
    "attachment",
    "session",
    "sessions",
    "client_report",
    "user_report",
    "log",
    "span",
    "trace_metric",
    "profile",
    "profile_chunk",
    "replay_recording",
    "replay_video",
    "statsd",
    "nel",
)
KNOWN_ITEM_TYPES = frozenset((*EVENT_ITEM_TYPES, *REPEATABLE_ITEM_TYPES, "check_in", "integration"))
_RESERVED_ITEM_KEYS = frozenset({"type", "length"})
_RESERVED_ENVELOPE_KEYS = frozenset({"event_id", "sent_at"})
_OFFSETS = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8)))

_scalars: st.SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)  # what orjson reads and writes
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)


def json_values(*, max_leaves: int = 5) -> st.SearchStrategy[Any]:
    """Any JSON value orjson writes and reads back unchanged (no NaN, 64-bit integers)."""
    return st.recursive(
        _scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def json_objects(*, max_size: int = 3) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects with arbitrary (non-surrogate) keys and nested values."""
    return st.dictionaries(st.text(max_size=12), json_values(), max_size=max_size)


def json_payloads() -> st.SearchStrategy[bytes]:
    """JSON objects encoded as item payloads."""
    return json_objects().map(orjson.dumps)


def binary_payloads() -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, often built from the ones framing cares about (LF, CR, NUL, spaces)."""
    pieces = st.sampled_from([b"\n", b"\r", b"\r\n", b"\x00", b" ", b"\t", b"{}", b"\xff", b"ab"])
    return st.binary(max_size=300) | st.lists(pieces, max_size=12).map(b"".join)


def unknown_item_types() -> st.SearchStrategy[str]:
    """Item type names Relay does not know (kept as they are, never rejected)."""
    return st.text(max_size=16).filter(lambda name: name not in KNOWN_ITEM_TYPES)


def items(
    types: st.SearchStrategy[str] | None = None,
    payloads: st.SearchStrategy[bytes] | None = None,
) -> st.SearchStrategy[Item]:
    """One item: a type, extra header keys, and a payload framed one of three ways.

    Framing is an explicit ``length`` (any payload, including ``\\n``, ``\\r\\n`` and NUL),
    no ``length`` or ``"length": null`` (the payload then has no ``\\n``).

    Args:
        types: item type names; known repeatable types and unknown names by default.
        payloads: payload bytes; arbitrary binary by default.
    """
    if types is None:
        types = st.sampled_from(REPEATABLE_ITEM_TYPES) | unknown_item_types()
    return st.builds(
        _item,
        types,
        json_objects(max_size=2),
        binary_payloads() if payloads is None else payloads,
        st.sampled_from(["length", "implicit", "null"]),
    )


def _item(item_type: str, extra: dict[str, Any], payload: bytes, framing: str) -> Item:
    headers = {key: value for key, value in extra.items() if key not in _RESERVED_ITEM_KEYS}
    headers["type"] = item_type
    if framing == "length":
        headers["length"] = len(payload)
    else:
        payload = payload.replace(b"\n", b"")
        if framing == "null":
            headers["length"] = None
    return Item(headers, payload)


_ABSENT_NULL_PRESENT = st.sampled_from(["absent", "null", "present"])
_SENT_AT = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(_OFFSETS),
)
_ENVELOPE_EXTRAS = json_objects()


@st.composite
def envelope_headers(draw: st.DrawFn) -> EnvelopeHeaders:
    """Envelope headers: optional event_id and sent_at in the forms SDKs write, extra keys."""
    extras = draw(_ENVELOPE_EXTRAS)
    fields = {key: value for key, value in extras.items() if key not in _RESERVED_ENVELOPE_KEYS}
    event_id = None
    match draw(_ABSENT_NULL_PRESENT):
        case "null":
            fields["event_id"] = None
        case "present":
            uuid = draw(st.uuids())
            event_id = uuid.hex
            forms = (uuid.hex, str(uuid), uuid.hex.upper(), str(uuid).upper())
            fields["event_id"] = forms[draw(st.integers(0, 3))]
    sent_at = None
    match draw(_ABSENT_NULL_PRESENT):
        case "null":
            fields["sent_at"] = None
        case "present":
            sent_at = draw(_SENT_AT)
            python_sdk_form = sent_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            fields["sent_at"] = python_sdk_form if draw(st.booleans()) else sent_at.isoformat()
    if draw(st.booleans()):
        fields["sdk"] = {"name": "sentry.python", "version": draw(st.text(max_size=8))}
    return EnvelopeHeaders(fields, event_id, sent_at)


def envelopes(
    *,
    payloads: st.SearchStrategy[bytes] | None = None,
    event_payloads: st.SearchStrategy[bytes] | None = None,
    max_items: int = 5,
) -> st.SearchStrategy[Envelope]:
    """Valid envelopes: headers, at most one event-bucket item, at most one check-in.

    Args:
        payloads: payloads of the other items; arbitrary binary by default.
        event_payloads: payload of the event-bucket item; arbitrary binary by default.
        max_items: bound on the number of repeatable items.
    """
    repeatable = st.lists(items(payloads=payloads), max_size=max_items)
    singles = (
        items(types=st.sampled_from(EVENT_ITEM_TYPES), payloads=event_payloads),
        items(types=st.just("check_in"), payloads=payloads),
    )
    headers = envelope_headers()

    @st.composite
    def build(draw: st.DrawFn) -> Envelope:
        drawn = draw(repeatable)
        for single in singles:
            if draw(st.booleans()):
                drawn.insert(draw(st.integers(0, len(drawn))), draw(single))
        return Envelope(draw(headers), tuple(drawn))

    return build()
