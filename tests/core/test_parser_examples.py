"""Spec examples for the envelope codec: Relay's own tests and the edge cases of its framing.

Tests named ``test_deserialize_*``, ``test_parse_request_*``, ``test_serialize_*`` and
``test_internal_item_type_does_not_parse`` mirror Relay's tests of the same name
(``relay-server/src/envelope/{mod,item}.rs``) on the same bytes. The others follow the format
(https://develop.sentry.dev/sdk/foundations/transport/envelopes/) and Relay's ``parse_headers``
and ``Item::parse`` into what SDKs, proxies and broken clients send.
"""

from datetime import UTC, datetime

import orjson
import pytest

from resentry_core._envelope import Envelope, EnvelopeHeaders, Item
from resentry_core._errors import (
    BadRequestError,
    EnvelopeError,
    JsonDecodeError,
    PayloadTooLargeError,
    ResentryError,
)
from resentry_core._json import loads as parse_json
from resentry_core._limits import Limits
from resentry_core._parser import parse_envelope

EVENT_ID = "9ec79c33ec9942ab8353589fcb2e04dc"
DSN = "https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42"
HEADER = b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"' + DSN.encode() + b'"}'


def _error(data: bytes, match: str) -> EnvelopeError:
    with pytest.raises(EnvelopeError, match=match) as info:
        parse_envelope(data)
    assert not isinstance(info.value, PayloadTooLargeError)
    return info.value


# Relay's envelope tests, same bytes ------------------------------------------------------------


def test_deserialize_envelope_empty() -> None:
    """A header without a trailing newline is a valid envelope without items."""
    envelope = parse_envelope(HEADER)
    assert envelope.headers.event_id == EVENT_ID
    assert envelope.headers.dsn == DSN
    assert envelope.items == ()


def test_deserialize_envelope_empty_newline() -> None:
    """A header followed by a newline is a valid envelope without items."""
    assert parse_envelope(HEADER + b"\n").items == ()


def test_deserialize_envelope_empty_item_newline() -> None:
    """Two ``length: 0`` items, separated by a blank line, with a final newline."""
    data = HEADER + b'\n{"type":"attachment","length":0}\n\n{"type":"attachment","length":0}\n'
    assert [item.payload for item in parse_envelope(data).items] == [b"", b""]


def test_deserialize_envelope_empty_item_eof() -> None:
    """The last ``length: 0`` item may end the body without a newline."""
    data = HEADER + b'\n{"type":"attachment","length":0}\n\n{"type":"attachment","length":0}'
    assert [item.payload for item in parse_envelope(data).items] == [b"", b""]


def test_deserialize_envelope_implicit_length() -> None:
    """Without ``length`` the payload runs to the next newline, which is not part of it."""
    (item,) = parse_envelope(HEADER + b'\n{"type":"attachment"}\nhelloworld\n').items
    assert item.payload == b"helloworld"
    assert item.length is None


def test_deserialize_envelope_implicit_length_eof() -> None:
    """An implicit-length payload may end at EOF, as JavaScript SDKs send it."""
    (item,) = parse_envelope(HEADER + b'\n{"type":"attachment"}\nhelloworld').items
    assert item.payload == b"helloworld"


def test_deserialize_envelope_implicit_length_empty_eof() -> None:
    """An item header as the last bytes gives one item with an empty payload."""
    (item,) = parse_envelope(HEADER + b'\n{"type":"attachment"}').items
    assert item.payload == b""


def test_deserialize_envelope_multiple_items() -> None:
    """A sized payload keeps its BOM and CRLF bytes; the next item follows it."""
    data = (
        HEADER + b"\n"
        b'{"type":"attachment","length":10,"content_type":"text/plain","filename":"hello.txt"}\n'
        b"\xef\xbb\xbfHello\r\n\n"
        b'{"type":"event","length":41,"content_type":"application/json",'
        b'"filename":"application.log"}\n'
        b'{"message":"hello world","level":"error"}\n'
    )
    attachment, event = parse_envelope(data).items
    assert (attachment.type, attachment.payload) == ("attachment", b"\xef\xbb\xbfHello\r\n")
    assert (attachment.content_type, attachment.filename) == ("text/plain", "hello.txt")
    assert (event.type, event.length, event.content_type) == ("event", 41, "application/json")
    assert event.filename == "application.log"
    assert event.json() == {"message": "hello world", "level": "error"}


@pytest.mark.parametrize("item_type", ["invalid_unknown", "replay_recording", "replay_video"])
def test_deserialize_envelope_unknown_item(item_type: str) -> None:
    """Unknown item types, and Relay's replay types, are kept with their payload.

    Mirrors ``test_deserialize_envelope_unknown_item``, ``…_replay_recording`` and
    ``…_replay_video``.
    """
    data = HEADER + b'\n{"type":"' + item_type.encode() + b'"}\nhelloworld\n'
    (item,) = parse_envelope(data).items
    assert (item.type, item.payload) == (item_type, b"helloworld")


def test_deserialize_envelope_view_hierarchy() -> None:
    """An attachment's ``attachment_type`` header is read as sent."""
    data = (
        HEADER + b'\n{"type":"attachment","length":44,"content_type":"application/json",'
        b'"attachment_type":"event.view_hierarchy"}\n'
        b'{"rendering_system":"compose","windows":[]}\n'
    )
    (item,) = parse_envelope(data).items
    assert item.attachment_type == "event.view_hierarchy"
    assert item.json() == {"rendering_system": "compose", "windows": []}


def test_deserialize_request_meta() -> None:
    """Relay's request-meta header keys are kept in ``fields`` exactly as sent."""
    extra = {
        "client": "sentry/javascript",
        "version": 6,
        "origin": "http://localhost/",
        "remote_addr": "127.0.0.1",
        "forwarded_for": "8.8.8.8",
        "user_agent": "sentry-cli/1.0",
    }
    data = orjson.dumps({"event_id": EVENT_ID, "dsn": DSN, **extra})
    assert parse_envelope(data).headers.fields == {"event_id": EVENT_ID, "dsn": DSN, **extra}


def test_parse_request_sent_at() -> None:
    """``sent_at`` is parsed to an aware UTC datetime."""
    data = b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc", "sent_at": "1970-01-01T00:02:03Z"}'
    sent_at = parse_envelope(data).headers.sent_at
    assert sent_at == datetime(1970, 1, 1, 0, 2, 3, tzinfo=UTC)
    assert sent_at is not None and sent_at.timestamp() == 123


def test_parse_request_sent_at_null() -> None:
    """``"sent_at": null`` means no timestamp."""
    data = b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc", "sent_at": null}'
    assert parse_envelope(data).headers.sent_at is None


def test_internal_item_type_does_not_parse() -> None:
    """An ``integration`` item is Relay-internal; a client sending one is rejected."""
    error = _error(HEADER + b'\n{"type":"integration"}\n{}\n', "envelope contains internal items")
    assert (error.item_index, error.offset) == (0, len(HEADER) + 1)


def test_serialize_envelope_empty() -> None:
    """An envelope without items is its header line."""
    envelope = Envelope(EnvelopeHeaders({"event_id": EVENT_ID, "dsn": DSN}, EVENT_ID))
    assert envelope.serialize() == HEADER + b"\n"


def test_serialize_envelope_attachments() -> None:
    """Relay's snapshot: a declared ``length`` is rewritten to the real one, and a payload with
    a newline gets one."""
    envelope = Envelope(
        EnvelopeHeaders({"event_id": EVENT_ID, "dsn": DSN}, EVENT_ID),
        (
            Item(
                {"type": "event", "content_type": "application/json", "length": 0},
                b'{"message":"hello world","level":"error"}',
            ),
            Item(
                {"type": "attachment", "content_type": "text/plain", "filename": "application.log"},
                b"Hello\r\n",
            ),
        ),
    )
    assert envelope.serialize() == (
        HEADER + b"\n"
        b'{"type":"event","content_type":"application/json","length":41}\n'
        b'{"message":"hello world","level":"error"}\n'
        b'{"type":"attachment","content_type":"text/plain","filename":"application.log",'
        b'"length":7}\n'
        b"Hello\r\n\n"
    )


def test_serialize_keeps_implicit_length_without_newline() -> None:
    """Items without ``length`` (or with ``length: null``) stay implicit when that frames them."""
    items = (Item({"type": "event"}, b"{}"), Item({"type": "span", "length": None}, b"{}"))
    data = Envelope(EnvelopeHeaders({}), items).serialize()
    assert data == b'{}\n{"type":"event"}\n{}\n{"type":"span","length":null}\n{}\n'
    assert parse_envelope(data).items == items


def test_bytes_like_input_parses_like_bytes() -> None:
    """A bytearray or memoryview body gives the same envelope; its payloads view a private
    ``bytes`` copy, so changing the caller's buffer afterwards changes no payload."""
    data = b'{}\n{"type":"attachment","length":3}\na\nb\n'
    buffer = bytearray(data)
    parsed = [parse_envelope(body) for body in (buffer, memoryview(buffer))]  # type: ignore[arg-type]
    buffer[-4:-1] = b"XYZ"
    for envelope in parsed:
        assert envelope == parse_envelope(data)
        payload = envelope.items[0].payload
        assert isinstance(payload, memoryview)
        assert payload.readonly
        assert type(payload.obj) is bytes
        assert payload.tobytes() == b"a\nb"


def test_headers_are_read_only() -> None:
    """Parsed header mappings refuse changes, and values built from a dict do not alias it."""
    envelope = parse_envelope(b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n{"type":"a"}\nx\n')
    with pytest.raises(TypeError):
        envelope.headers.fields["dsn"] = "https://k@h/1"  # type: ignore[index]
    with pytest.raises(TypeError):
        envelope.items[0].headers["type"] = "event"  # type: ignore[index]
    fields: dict[str, object] = {"sdk": {"name": "x"}}
    headers: dict[str, object] = {"type": "a"}
    built = Envelope(EnvelopeHeaders(fields), (Item(headers, b"x"),))
    fields["dsn"] = headers["type"] = "changed"
    assert built.headers.fields == {"sdk": {"name": "x"}}
    assert built.items[0].headers == {"type": "a"}
    assert built.items[0].type == "a"
    assert parse_envelope(built.serialize()) == built


def test_item_repr_elides_large_payloads() -> None:
    """A megabyte payload shows as its size in repr(), a short one as its bytes."""
    assert (
        repr(Item({"type": "a"}, b"x" * 2_000_000))
        == "Item(headers={'type': 'a'}, payload=<2000000 bytes>)"
    )
    assert repr(Item({"type": "a"}, b"ab")) == "Item(headers={'type': 'a'}, payload=b'ab')"


# Framing ------------------------------------------------------------------------------------


def test_empty_body_is_rejected() -> None:
    """An empty body is not an envelope."""
    assert _error(b"", "empty envelope").offset == 0


@pytest.mark.parametrize("data", [b"\n", b"  \n\n\t", b"\r\n"])
def test_whitespace_only_body_has_no_header(data: bytes) -> None:
    """A body of whitespace only lacks the envelope header."""
    assert _error(data, "missing envelope header").offset == len(data)


def test_leading_whitespace_before_header_is_skipped() -> None:
    """JSON whitespace before the envelope header is skipped, as Relay's reader does."""
    envelope = parse_envelope(b"\n\n \t\r\n" + HEADER + b'\n{"type":"event"}\n{}')
    assert envelope.headers.event_id == EVENT_ID
    assert [item.payload for item in envelope.items] == [b"{}"]


def test_utf8_bom_before_header_is_rejected() -> None:
    """A UTF-8 byte order mark makes the header invalid JSON."""
    assert _error(b"\xef\xbb\xbf{}\n", "invalid envelope header").offset == 0


@pytest.mark.parametrize("header", [b"[]", b'"x"', b"null", b"1", b"true"])
def test_envelope_header_must_be_an_object(header: bytes) -> None:
    """The envelope header is a JSON object, not another JSON value."""
    _error(header + b"\n", "invalid envelope header: expected a JSON object")


def test_crlf_after_envelope_header_is_rejected() -> None:
    """``\\r\\n`` after a header is a missing newline, as in Relay."""
    error = _error(b'{"a":1}\r\n{"type":"event"}\n{}\n', "missing newline")
    assert (error.offset, error.item_index) == (7, None)


def test_crlf_or_spaces_after_item_header_are_rejected() -> None:
    """An item header must be followed by ``\\n`` itself, not by ``\\r`` or spaces."""
    for padding in (b"\r", b"  "):
        error = _error(b'{}\n{"type":"event"}' + padding + b"\n{}\n", "missing newline")
        assert (error.offset, error.item_index) == (19, 0)


def test_header_with_internal_whitespace_is_accepted() -> None:
    """Whitespace inside the JSON of a header is fine (as in sentry-python's own tests)."""
    data = b'{ "event_id" : "9ec79c33ec9942ab8353589fcb2e04dc" }\n{"type":"t","length":4 }\n1234\n'
    envelope = parse_envelope(data)
    assert envelope.headers.event_id == EVENT_ID
    assert envelope.items[0].payload == b"1234"


def test_multi_line_header_is_rejected() -> None:
    """A header is one line: a pretty-printed header is invalid."""
    _error(b'{\n"event_id": "9ec79c33ec9942ab8353589fcb2e04dc"\n}\n', "invalid envelope header")
    error = _error(b'{}\n{\n"type": "event"\n}\n{}\n', "invalid item header")
    assert (error.offset, error.item_index) == (3, 0)


def test_binary_payload_with_newlines_and_nul_is_kept_exactly() -> None:
    """A sized payload may hold any bytes: LF, CRLF, NUL, invalid UTF-8."""
    payload = b"\n\r\n\x00\xff\xfe{}\n\n"
    header = b'{"type":"attachment","length":%d}' % len(payload)
    (item,) = parse_envelope(b"{}\n" + header + b"\n" + payload + b"\n").items
    assert item.payload == payload


def test_explicit_length_payload_at_eof() -> None:
    """A sized payload may end the body without a newline."""
    (item,) = parse_envelope(b'{}\n{"type":"attachment","length":3}\nabc').items
    assert item.payload == b"abc"


@pytest.mark.parametrize("tail", [b"\n", b""])
def test_length_shorter_than_payload_is_rejected(tail: bytes) -> None:
    """The byte after a sized payload must be ``\\n`` or EOF."""
    data = b'{}\n{"type":"attachment","length":2}\nabc' + tail
    error = _error(data, "missing newline")
    assert (error.offset, error.item_index) == (data.index(b"abc") + 2, 0)


def test_length_beyond_the_body_is_rejected() -> None:
    """EOF does not end an item whose ``length`` is not satisfied."""
    data = b'{}\n{"type":"event"}\n{}\n{"type":"attachment","length":9}\nabc'
    error = _error(data, "unexpected end of file")
    assert (error.offset, error.item_index) == (data.index(b"abc"), 1)


def test_implicit_payload_ending_in_crlf_keeps_the_cr() -> None:
    """With an implicit length, ``\\r`` before the newline belongs to the payload."""
    (item,) = parse_envelope(b'{}\n{"type":"event"}\n{"a":1}\r\n').items
    assert item.payload == b'{"a":1}\r'


def test_pretty_printed_implicit_payload_is_rejected() -> None:
    """A multi-line payload without ``length`` stops at a newline; the rest fails."""
    error = _error(b'{}\n{"type":"event"}\n{\n  "message": "x"\n}\n', "invalid item header")
    assert error.item_index == 1


def test_blank_lines_between_items_are_skipped() -> None:
    """Blank lines between items are JSON whitespace before the next header."""
    data = b'{}\n{"type":"a","length":1}\nx\n\n\r\n \n{"type":"b"}\ny\n'
    assert [(i.type, i.payload) for i in parse_envelope(data).items] == [("a", b"x"), ("b", b"y")]


@pytest.mark.parametrize("tail", [b"\n", b"\n\n", b"\n \r\n\t"])
def test_trailing_blank_lines_are_tolerated(tail: bytes) -> None:
    """Whitespace after the header or the last item is accepted (Relay answers 400)."""
    assert parse_envelope(b"{}" + tail).items == ()
    (item,) = parse_envelope(b'{}\n{"type":"event","length":2}\n{}' + tail).items
    assert item.payload == b"{}"


@pytest.mark.parametrize("length", [b"-1", b"10.0", b'"3"', b"4294967296", b"true", b"[]"])
def test_invalid_length_is_rejected(length: bytes) -> None:
    """``length`` is an integer from 0 to 2**32-1; anything else is an invalid header."""
    error = _error(b'{}\n{"type":"attachment","length":' + length + b"}\nabc\n", "'length'")
    assert (error.offset, error.item_index) == (3, 0)


def test_largest_length_is_a_valid_header() -> None:
    """``length: 4294967295`` is valid; with room in the limits, the body is just too short."""
    roomy = Limits(max_attachment_bytes=2**33, max_attachments_bytes=2**33)
    with pytest.raises(EnvelopeError, match="unexpected end of file"):
        parse_envelope(b'{}\n{"type":"attachment","length":4294967295}\nabc\n', limits=roomy)


def test_null_length_is_implicit() -> None:
    """``"length": null`` means the payload runs to the next newline."""
    (item,) = parse_envelope(b'{}\n{"type":"session","length":null}\n{"a":1}\n').items
    assert (item.payload, item.length) == (b'{"a":1}', None)


@pytest.mark.parametrize(
    "header", [b'{"length":2}', b'{"type":1}', b'{"type":null}', b'{"type":["event"]}']
)
def test_missing_or_non_string_type_is_rejected(header: bytes) -> None:
    """Every item header has a string ``type``."""
    error = _error(b"{}\n" + header + b"\n{}\n", "'type' is missing or not a string")
    assert (error.offset, error.item_index) == (3, 0)


def test_item_type_is_case_sensitive() -> None:
    """``Event`` is not ``event``: it is an unknown type, kept as sent."""
    first, second = parse_envelope(b'{}\n{"type":"Event"}\n{}\n{"type":"EVENT"}\n{}').items
    assert (first.type, second.type) == ("Event", "EVENT")


def test_unknown_header_keys_are_preserved() -> None:
    """Unknown item and envelope header keys, nested values included, are kept."""
    data = b'{"x":{"y":[1,2.5,null]}}\n{"type":"t","routing_hint":"abc","k":{"n":true}}\np\n'
    envelope = parse_envelope(data)
    assert envelope.headers.fields == {"x": {"y": [1, 2.5, None]}}
    assert envelope.items[0].headers == {"type": "t", "routing_hint": "abc", "k": {"n": True}}
    assert envelope.serialize() == data


def test_non_utf8_in_a_header_is_rejected() -> None:
    """Header JSON must be UTF-8."""
    _error(b'{"sdk":"\xff"}\n', "invalid envelope header")
    assert (
        _error(b'{}\n{"type":"a","filename":"\xc3("}\nx\n', "invalid item header").item_index == 0
    )


def test_non_utf8_event_payload_parses_but_is_not_json() -> None:
    """The codec keeps payload bytes as sent; decoding an invalid event is the caller's."""
    (item,) = parse_envelope(b'{}\n{"type":"event","length":4}\n{"\xff}\n').items
    assert item.payload == b'{"\xff}'
    with pytest.raises(JsonDecodeError):
        item.json()


def test_json_decode_error_is_in_the_error_tree() -> None:
    """A payload that is not JSON is a malformed envelope item (a ResentryError, 400), and still
    a ValueError for callers that catch the builtin."""
    (item,) = parse_envelope(b'{}\n{"type":"event"}\nnot json\n').items
    with pytest.raises(JsonDecodeError) as caught:
        item.json()
    assert isinstance(caught.value, EnvelopeError)
    assert isinstance(caught.value, BadRequestError)
    assert isinstance(caught.value, ResentryError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "data", [b"\x00\x01garbage", b"hello world\n", b"{\n", b"{}}\n", b"\x1f\x8b\x08\x00"]
)
def test_garbage_is_an_invalid_header(data: bytes) -> None:
    """Random bytes or a still-compressed body fail on the envelope header."""
    assert _error(data, "invalid envelope header").offset == 0


# Envelope headers and ids ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "9ec79c33ec9942ab8353589fcb2e04dc",
        "9EC79C33EC9942AB8353589FCB2E04DC",
        "9ec79c33-ec99-42ab-8353-589fcb2e04dc",
        "9EC79C33-EC99-42AB-8353-589FCB2E04DC",
    ],
)
def test_event_id_is_normalized(value: str) -> None:
    """``event_id`` with dashes or upper case becomes 32 lowercase hex digits."""
    headers = parse_envelope(b'{"event_id":"' + value.encode() + b'"}').headers
    assert headers.event_id == EVENT_ID
    assert headers.fields["event_id"] == value  # the wire value is kept for serialize()


@pytest.mark.parametrize(
    "value",
    [
        b'"abc"',
        b'"9ec79c33ec9942ab8353589fcb2e04d"',  # 31 digits
        b'"9ec79c33ec9942ab8353589fcb2e04dcc"',  # 33 digits
        b'"9ec79c33ec9942ab8353589fcb2e04dg"',
        b'"9ec79c33e-c9942ab8353589fcb2e04dc"',  # misplaced dash
        b'"{9ec79c33-ec99-42ab-8353-589fcb2e04dc}"',
        b"123",
        b"[]",
    ],
)
def test_invalid_event_id_is_rejected(value: bytes) -> None:
    """An ``event_id`` that is not a UUID rejects the envelope."""
    assert _error(b'{"event_id":' + value + b"}\n", "event_id .* is not a UUID").offset == 0


def test_null_or_missing_event_id_is_none() -> None:
    """No event id is fine for the codec; the ingester makes one if an event needs it."""
    assert parse_envelope(b'{"event_id":null}\n{"type":"event"}\n{}').headers.event_id is None
    assert parse_envelope(b'{}\n{"type":"event"}\n{}').headers.event_id is None


def test_payload_event_id_is_not_touched() -> None:
    """The envelope id comes from the envelope header; the payload is kept as sent."""
    other = b'{"event_id":"0123456789abcdef0123456789abcdef"}'
    envelope = parse_envelope(HEADER + b'\n{"type":"event"}\n' + other)
    assert envelope.headers.event_id == EVENT_ID
    assert envelope.items[0].payload == other


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T12:00:00.123456Z", datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2024-05-01T12:00:00.123Z", datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)),
        ("2024-05-01T14:00:00+02:00", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
    ],
)
def test_sent_at_forms(value: str, expected: datetime) -> None:
    """Python (microseconds, ``Z``), JavaScript (milliseconds) and offset forms give UTC."""
    sent_at = parse_envelope(b'{"sent_at":"' + value.encode() + b'"}').headers.sent_at
    assert sent_at == expected
    assert sent_at is not None and sent_at.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        b'"yesterday"',
        b'"2024-05-01T12:00:00"',
        b'"2024-05-01"',
        b"1714564800",
        b'"0001-01-01T00:00:00+05:00"',
    ],
)
def test_invalid_sent_at_is_rejected(value: bytes) -> None:
    """``sent_at`` is an RFC 3339 string with an offset; naive, numbers, overflow fail."""
    assert _error(b'{"sent_at":' + value + b"}\n", "sent_at .* is not an RFC 3339").offset == 0


@pytest.mark.parametrize(
    "header",
    [
        b'{"sent_at":"2024-05-01T12:00:00Z","sent_at":"2024-05-01T12:00:01Z"}',
        b'{"sent_at":null,"x":1,"sent_at":"2024-05-01T12:00:01Z"}',
        b'{"sent_at":"2024-05-01T12:00:00Z","sent\\u005fat":"2024-05-01T12:00:01Z"}',
    ],
)
def test_duplicate_sent_at_is_rejected(header: bytes) -> None:
    """Sending ``sent_at`` twice rejects the envelope, even when spelled with an escape."""
    _error(header + b"\n", "duplicate 'sent_at'")


def test_sent_at_elsewhere_is_not_a_duplicate() -> None:
    """``sent_at`` nested in another header or inside a string is not a second ``sent_at``."""
    header = b'{"sent_at":"2024-05-01T12:00:00Z","trace":{"sent_at":1},"x":"\\"sent_at\\""}'
    assert parse_envelope(header).headers.sent_at == datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_malformed_trace_header_is_kept() -> None:
    """A malformed ``trace`` header is not the codec's concern: it is kept as sent."""
    assert parse_envelope(b'{"trace":"oops"}\n').headers.fields == {"trace": "oops"}


# Counts and containers with the default limits -------------------------------------------------


@pytest.mark.parametrize(
    "types",
    [
        ("event", "event"),
        ("event", "transaction"),
        ("event", "feedback"),
        ("transaction", "security"),
    ],
)
def test_second_event_item_is_too_large(types: tuple[str, str]) -> None:
    """Two event-bucket items exceed the one-event limit: Relay answers 413."""
    data = b"{}" + b"".join(b'\n{"type":"' + t.encode() + b'"}\n{}' for t in types)
    with pytest.raises(PayloadTooLargeError, match=f"for type '{types[1]}'") as info:
        parse_envelope(data)
    assert (info.value.item_type, info.value.item_index) == (types[1], 1)


def test_user_report_does_not_count_as_the_event() -> None:
    """A legacy ``user_report`` may travel with the event."""
    data = b'{}\n{"type":"event"}\n{}\n{"type":"user_report"}\n{}\n'
    assert [item.type for item in parse_envelope(data).items] == ["event", "user_report"]


@pytest.mark.parametrize(("item_type", "allowed"), [("attachment", 30), ("session", 100)])
def test_default_item_counts(item_type: str, allowed: int) -> None:
    """30 attachments or 100 sessions are fine; one more is too large."""
    item = b'\n{"type":"' + item_type.encode() + b'","length":2}\n{}'
    assert len(parse_envelope(b"{}" + item * allowed).items) == allowed
    with pytest.raises(PayloadTooLargeError, match=f"for type '{item_type}'") as info:
        parse_envelope(b"{}" + item * (allowed + 1))
    assert info.value.item_index == allowed


def test_container_item_count_mismatch_is_not_a_framing_error() -> None:
    """A container whose ``item_count`` is wrong still frames; judging it is for later."""
    data = b'{}\n{"type":"log","item_count":5,"content_type":"text/plain"}\n{"items":[]}\n'
    (item,) = parse_envelope(data).items
    assert item.headers["item_count"] == 5


# JSON text -----------------------------------------------------------------------------------


def test_lone_surrogate_in_a_payload_parses_and_decodes() -> None:
    """A lone surrogate escape in an event payload is accepted: Item.json() gives it back as
    sent, parse_json repairs it for storage."""
    (item,) = parse_envelope(b'{}\n{"type":"event"}\n{"message":"cut \\ud83d"}\n').items
    assert item.json() == {"message": "cut \ud83d"}
    assert parse_json(item.payload) == {"message": "cut \ufffd"}


def test_lone_surrogate_in_a_header_is_rejected() -> None:
    """Header strings must be valid Unicode, as for Relay's JSON reader."""
    _error(b'{"trace":{"transaction":"cut \\ud83d"}}\n', "invalid envelope header")
