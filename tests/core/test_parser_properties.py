"""Properties of the envelope codec, checked on generated envelopes and on garbage."""

from dataclasses import fields

from hypothesis import given
from hypothesis import strategies as st

from resentry_core._envelope import Envelope
from resentry_core._errors import EnvelopeError, PayloadTooLargeError
from resentry_core._limits import Limits
from resentry_core._parser import parse_envelope
from tests.core.strategies import envelopes

# Fragments that reach the parser's deeper paths far more often than random bytes do.
_FRAGMENTS = (
    b"{}",
    b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sent_at":"2024-01-01T00:00:00Z"}',
    b'{"type":"event"}',
    b'{"type":"attachment","length":3}',
    b'{"type":"attachment","length":0}',
    b'{"type":"session","length":null}',
    b'{"type":"integration"}',
    b'{"type":"x","length":-1}',
    b'{"type":"x","length":1.5}',
    b'{"length":2}',
    b'{"type":1}',
    b"[]",
    b"\n",
    b"\r\n",
    b" ",
    b"abc",
    b"\x00\xff",
    b"\xef\xbb\xbf",
    b"{",
)
_ENVELOPES = envelopes()
_fragment_soup = st.lists(st.sampled_from(_FRAGMENTS), max_size=12).map(b"".join)


def _parse_or_error(data: bytes, limits: Limits | None = None) -> Envelope | EnvelopeError:
    try:
        return parse_envelope(data) if limits is None else parse_envelope(data, limits=limits)
    except EnvelopeError as exc:
        return exc


_MUTATIONS = st.sampled_from(["truncate", "flip", "newline", "delete", "duplicate"])
_NEWLINES = st.sampled_from([b"\n", b"\r\n", b"\n\n"])


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = draw(_ENVELOPES).serialize()
    at = draw(st.integers(0, len(data)))
    match draw(_MUTATIONS):
        case "truncate":
            return data[:at]
        case "flip" if at < len(data):
            return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        case "newline":
            return data[:at] + draw(_NEWLINES) + data[at:]
        case "delete":
            return data[:at] + data[at + 1 :]
        case _:
            return data[:at] + data[at : at + draw(st.integers(1, 40))] + data[at:]


_garbage = st.binary(max_size=2048) | _fragment_soup | _mutated()


@given(_ENVELOPES)
def test_round_trips(envelope: Envelope) -> None:
    """Serializing then parsing any valid envelope gives back an equal envelope."""
    assert parse_envelope(envelope.serialize()) == envelope


@given(_ENVELOPES)
def test_serialize_of_parsed_is_identical(envelope: Envelope) -> None:
    """Bytes written by serialize() are written again, byte for byte, after a parse."""
    data = envelope.serialize()
    assert parse_envelope(data).serialize() == data


@given(_garbage)
def test_parses_or_raises_envelope_error(data: bytes) -> None:
    """Arbitrary and mutated bodies give an Envelope or an EnvelopeError, nothing else.

    IndexError, UnicodeDecodeError, orjson.JSONDecodeError, ValueError, OverflowError or
    RecursionError escaping would fail this test.
    """
    result = _parse_or_error(data)
    assert isinstance(result, Envelope | EnvelopeError)
    if isinstance(result, EnvelopeError):
        assert str(result)
        assert result.offset is None or 0 <= result.offset <= len(data)


@given(_garbage)
def test_payloads_come_from_the_input_in_order(data: bytes) -> None:
    """Every payload returned is a run of input bytes, and they follow one another in order."""
    result = _parse_or_error(data)
    if isinstance(result, EnvelopeError):
        return
    pos = 0
    for item in result.items:
        pos = data.index(item.payload, pos) + len(item.payload)
    assert sum(len(item.payload) for item in result.items) <= len(data)


@given(_garbage)
def test_item_headers_have_a_type_and_a_valid_length(data: bytes) -> None:
    """A parsed item always has a string type, and a length matching its payload if declared."""
    result = _parse_or_error(data)
    if isinstance(result, EnvelopeError):
        return
    for item in result.items:
        assert isinstance(item.type, str)
        assert item.type != "integration"
        assert item.length is None or item.length == len(item.payload)
    event_id = result.headers.event_id
    assert event_id is None or (len(event_id) == 32 and event_id == event_id.lower())
    assert result.headers.sent_at is None or result.headers.sent_at.utcoffset() is not None


_LIMIT_NAMES = [field.name for field in fields(Limits)]


@given(
    _ENVELOPES,
    st.dictionaries(st.sampled_from(_LIMIT_NAMES), st.integers(0, 600), max_size=4),
)
def test_limits_decide_whether_not_what(envelope: Envelope, bounds: dict[str, int]) -> None:
    """Tighter limits either reject with PayloadTooLargeError or give the same envelope."""
    data = envelope.serialize()
    result = _parse_or_error(data, Limits(**bounds))
    if isinstance(result, EnvelopeError):
        assert isinstance(result, PayloadTooLargeError)
        assert result.limit == bounds[result.limit_name]
    else:
        assert result == envelope
