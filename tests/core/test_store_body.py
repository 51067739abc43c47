"""Legacy store endpoint bodies: JSON, base64(JSON), base64(zlib(JSON)) (Relay's store.rs)."""

import base64
import contextlib
import json
import re
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resentry_core._errors import EnvelopeError, PayloadTooLargeError
from resentry_core._limits import Limits
from resentry_core._store import decode_store_body, envelope_from_store

EVENT = b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","message":"hi","level":"error"}'
MAX = 1024 * 1024


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


# --- decode_store_body ------------------------------------------------------------------------


def test_store_json_body_is_kept_as_is() -> None:
    """A body starting with ``{`` is the event JSON, byte for byte."""
    assert decode_store_body(EVENT, max_bytes=MAX) is EVENT


def test_store_empty_body_is_kept_as_is() -> None:
    """An empty body stays empty (the event parse then refuses it)."""
    assert decode_store_body(b"", max_bytes=MAX) == b""


def test_store_node_base64() -> None:
    """base64(zlib(JSON)), as Raven-era clients sent it (Relay test_store_node_base64)."""
    body = base64.b64encode(zlib.compress(EVENT))
    assert decode_store_body(body, max_bytes=MAX) == EVENT


def test_store_base64_json() -> None:
    """base64 of plain JSON is decoded without inflating."""
    assert decode_store_body(base64.b64encode(EVENT), max_bytes=MAX) == EVENT


def test_store_base64_raw_deflate() -> None:
    """base64 of a raw deflate stream is inflated too."""
    assert decode_store_body(base64.b64encode(_raw_deflate(EVENT)), max_bytes=MAX) == EVENT


@pytest.mark.parametrize(
    "body",
    [
        b" " + EVENT,  # leading space: Relay answers 400 too
        b"\n" + EVENT,
        b"not base64!",
        base64.b64encode(EVENT)[:-1],  # bad padding
        base64.b64encode(EVENT) + b"\n",
        b"[1, 2]",
    ],
)
def test_store_body_neither_json_nor_base64(body: bytes) -> None:
    """A body that is neither JSON nor standard padded base64 is "invalid request body"."""
    with pytest.raises(EnvelopeError, match="invalid request body") as info:
        decode_store_body(body, max_bytes=MAX)
    assert not isinstance(info.value, PayloadTooLargeError)


@pytest.mark.parametrize(
    "binary", [b"plain bytes", zlib.compress(EVENT)[:-3], zlib.compress(EVENT) + b"junk"]
)
def test_store_base64_of_a_corrupt_stream(binary: bytes) -> None:
    """base64 of something that is neither JSON nor a whole zlib stream is refused."""
    with pytest.raises(EnvelopeError, match="invalid request body: failed to decode deflate"):
        decode_store_body(base64.b64encode(binary), max_bytes=MAX)


def test_store_body_over_the_limit() -> None:
    """A body larger than max_event_bytes is refused before decoding (413)."""
    with pytest.raises(PayloadTooLargeError) as info:
        decode_store_body(b"{" + b" " * 100 + b"}", max_bytes=100)
    assert (info.value.limit_name, info.value.limit) == ("max_event_bytes", 100)


def test_store_inflated_body_over_the_limit() -> None:
    """A small base64(zlib) body that inflates past max_event_bytes is refused (413)."""
    payload = b'{"message":"' + b"x" * 5000 + b'"}'
    body = base64.b64encode(zlib.compress(payload))
    assert len(body) < 1000
    with pytest.raises(PayloadTooLargeError) as info:
        decode_store_body(body, max_bytes=1000)
    assert info.value.limit_name == "max_event_bytes"
    assert decode_store_body(body, max_bytes=len(payload)) == payload


# --- envelope_from_store ----------------------------------------------------------------------


def test_minimal_event_id() -> None:
    """The event id becomes the envelope id, normalized; the payload is untouched (Relay)."""
    payload = b'{"event_id":"9EC79C33-EC99-42AB-8353-589FCB2E04DC","message":"x"}'
    envelope = envelope_from_store(payload)
    assert envelope.headers.event_id == "9ec79c33ec9942ab8353589fcb2e04dc"
    assert envelope.headers.fields == {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc"}
    (item,) = envelope.items
    assert item.payload == payload
    assert item.headers == {
        "type": "event",
        "length": len(payload),
        "content_type": "application/json",
    }


@pytest.mark.parametrize("payload", [b"{}", b'{"event_id":null}'])
def test_minimal_empty_event(payload: bytes) -> None:
    """Without an event id a fresh one is generated (Relay test_minimal_empty_event)."""
    first = envelope_from_store(payload).headers.event_id
    second = envelope_from_store(payload).headers.event_id
    assert first is not None and re.fullmatch("[0-9a-f]{32}", first)
    assert first != second


def test_minimal_event_type() -> None:
    """``type: transaction`` makes a transaction item (Relay test_minimal_event_type)."""
    envelope = envelope_from_store(b'{"type":"transaction","spans":[]}')
    assert envelope.items[0].type == "transaction"


@pytest.mark.parametrize("event_type", ['"error"', '"default"', "42", "null", '"Transaction"'])
def test_minimal_event_invalid_type(event_type: str) -> None:
    """Any other type, valid or not, makes an event item (Relay test_minimal_event_invalid_type)."""
    envelope = envelope_from_store(b'{"type":' + event_type.encode() + b"}")
    assert envelope.items[0].type == "event"


@pytest.mark.parametrize(
    "event_id",
    [
        '"abc"',
        '"9ec79c33ec9942ab8353589fcb2e04d"',
        '""',
        "123",
        "[]",
        '"{9ec79c33ec9942ab8353589fcb2e04dc}"',
        '"9ec79c33ec99-42ab8353589fcb2e04dc"',
        '"9ec79c33ec9942ab8353589fcb2e04dg"',
    ],
)
def test_invalid_event_id(event_id: str) -> None:
    """An event id that is not a UUID is 400 "invalid event id"."""
    with pytest.raises(EnvelopeError, match="invalid event id"):
        envelope_from_store(b'{"event_id":' + event_id.encode() + b"}")


@pytest.mark.parametrize("payload", [b"", b"[]", b'"event"', b"null", b"{", b"\xff{}"])
def test_invalid_json_data(payload: bytes) -> None:
    """A payload that is not a JSON object is 400 "invalid JSON data"."""
    with pytest.raises(EnvelopeError, match="invalid JSON data"):
        envelope_from_store(payload)


def test_python_nan_and_infinity_tokens_are_tolerated() -> None:
    """Old raven-python sent NaN/Infinity; the event is accepted and its bytes kept."""
    payload = b'{"extra":{"ratio":NaN,"big":Infinity,"small":-Infinity},"message":"x"}'
    assert envelope_from_store(payload).items[0].payload == payload


def test_event_over_max_event_bytes() -> None:
    """An event payload larger than max_event_bytes is refused (413)."""
    payload = b'{"message":"' + b"x" * 100 + b'"}'
    with pytest.raises(PayloadTooLargeError) as info:
        envelope_from_store(payload, limits=Limits(max_event_bytes=100))
    assert info.value.limit_name == "max_event_bytes"
    assert envelope_from_store(payload, limits=Limits(max_event_bytes=len(payload))).items


def test_serialized_envelope_frames_the_payload() -> None:
    """The envelope serializes to the wire format with the payload as its only item."""
    payload = b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","message":"a\\nb"}'
    lines = envelope_from_store(payload).serialize().split(b"\n")
    assert json.loads(lines[0]) == {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc"}
    assert json.loads(lines[1])["length"] == len(payload)
    assert lines[2] == payload


# --- Properties -------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=10).filter(lambda k: k != "event_id"), _JSON, max_size=6))
def test_any_event_object_survives_every_body_form(event: dict[str, object]) -> None:
    """Any JSON object sent as JSON, base64 or base64(zlib) yields its exact bytes in one item."""
    payload = json.dumps(event).encode()
    for body in (payload, base64.b64encode(payload), base64.b64encode(zlib.compress(payload))):
        decoded = decode_store_body(body, max_bytes=MAX)
        assert decoded == payload
        (item,) = envelope_from_store(decoded).items
        assert item.payload == payload


@given(st.binary(max_size=2048))
def test_arbitrary_bodies_decode_or_raise_envelope_error(body: bytes) -> None:
    """Arbitrary bodies give bytes or EnvelopeError (incl. PayloadTooLargeError), nothing else."""
    with contextlib.suppress(EnvelopeError):
        envelope_from_store(decode_store_body(body, max_bytes=4096))
