"""Differential tests against the real ``sentry_sdk.envelope`` parser and serializer.

Whatever sentry_sdk writes, ``parse_envelope`` reads to the same headers and payloads as
``sentry_sdk.envelope.Envelope.deserialize`` does; whatever ``Envelope.serialize`` writes,
sentry_sdk reads back the same way. sentry_sdk decodes ``event`` and ``transaction`` payloads as
JSON while parsing and adds an inferred ``content_type`` header when none was sent; the
comparison accounts for exactly those two behaviours.
"""

import json
import random
from typing import Any

import pytest
import sentry_sdk
from hypothesis import given
from sentry_sdk.envelope import Envelope as SdkEnvelope
from sentry_sdk.envelope import Item as SdkItem
from sentry_sdk.envelope import PayloadRef
from sentry_sdk.session import Session

from resentry_core._envelope import Envelope
from resentry_core._parser import parse_envelope
from tests.core.sdk_envelopes import sentry_sdk_envelopes
from tests.core.strategies import envelopes, json_payloads

_SDK_JSON_TYPES = frozenset({"event", "transaction"})  # decoded by sentry_sdk while parsing


def assert_same_as_sentry_sdk(data: bytes) -> Envelope:
    """Parse ``data`` with both parsers, check they agree, and return ours."""
    ours = parse_envelope(data)
    theirs = SdkEnvelope.deserialize(data)
    assert ours.headers.fields == theirs.headers
    assert len(ours.items) == len(theirs.items)
    for mine, their in zip(ours.items, theirs.items, strict=True):
        inferred = "content_type" not in mine.headers
        assert {
            k: v for k, v in their.headers.items() if not (inferred and k == "content_type")
        } == (mine.headers)
        if mine.type in _SDK_JSON_TYPES:
            assert their.payload.json == json.loads(bytes(mine.payload))
        else:
            assert their.payload.bytes == mine.payload
    return ours


def _sdk_envelope(headers: dict[str, Any], *items: SdkItem) -> bytes:
    return SdkEnvelope(headers=headers, items=list(items)).serialize()


# sentry-python's own envelope tests (tests/test_envelope.py), same bytes ---------------------


@pytest.mark.parametrize("eof_terminated", [False, True])
def test_envelope_with_sized_items(eof_terminated: bool) -> None:
    """Sized items, one of length 0, with or without the final newline."""
    data = (
        b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n'
        b'{"type":"type1","length":4 }\n1234\n'
        b'{"type":"type2","length":4 }\nabcd\n'
        b'{"type":"type3","length":0}\n\n'
        b'{"type":"type4","length":4 }\nab12\n'
    )
    ours = assert_same_as_sentry_sdk(data[:-1] if eof_terminated else data)
    assert [item.payload for item in ours.items] == [b"1234", b"abcd", b"", b"ab12"]


@pytest.mark.parametrize("eof_terminated", [False, True])
def test_envelope_with_implicitly_sized_items(eof_terminated: bool) -> None:
    """Implicitly sized items, one empty, with or without the final newline."""
    data = (
        b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n'
        b'{"type":"type1"}\n1234\n'
        b'{"type":"type2"}\nabcd\n'
        b'{"type":"type3"}\n\n'
        b'{"type":"type4"}\nab12\n'
    )
    ours = assert_same_as_sentry_sdk(data[:-1] if eof_terminated else data)
    assert [item.payload for item in ours.items] == [b"1234", b"abcd", b"", b"ab12"]


@pytest.mark.parametrize("eof_terminated", [False, True])
def test_envelope_with_two_attachments(eof_terminated: bool) -> None:
    """A sized attachment with BOM and CRLF, then a sized event."""
    data = (
        b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc",'
        b'"dsn":"https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42"}\n'
        b'{"type":"attachment","length":10,"content_type":"text/plain","filename":"hello.txt"}\n'
        b"\xef\xbb\xbfHello\r\n\n"
        b'{"type":"event","length":41,"content_type":"application/json",'
        b'"filename":"application.log"}\n'
        b'{"message":"hello world","level":"error"}\n'
    )
    ours = assert_same_as_sentry_sdk(data[:-1] if eof_terminated else data)
    assert ours.items[0].payload == b"\xef\xbb\xbfHello\r\n"


@pytest.mark.parametrize("eof_terminated", [False, True])
def test_envelope_with_empty_attachments(eof_terminated: bool) -> None:
    """Two ``length: 0`` attachments."""
    data = (
        b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n'
        b'{"type":"attachment","length":0}\n\n'
        b'{"type":"attachment","length":0}\n\n'
    )
    ours = assert_same_as_sentry_sdk(data[:-1] if eof_terminated else data)
    assert [item.payload for item in ours.items] == [b"", b""]


def test_envelope_without_headers() -> None:
    """An empty envelope header and an implicitly sized session at EOF."""
    data = b'{}\n{"type":"session"}\n{"started": "2020-02-07T14:16:00Z"}'
    ours = assert_same_as_sentry_sdk(data)
    assert ours.items[0].payload == b'{"started": "2020-02-07T14:16:00Z"}'


def test_implicit_payload_ending_in_cr() -> None:
    """Both parsers keep the ``\\r`` before the newline that ends an implicit-length payload."""
    ours = assert_same_as_sentry_sdk(b'{}\n{"type":"x"}\nab\r\n{"type":"y"}\n\r\n')
    assert [item.payload for item in ours.items] == [b"ab\r", b"\r"]


# Envelopes built with sentry_sdk's own API ---------------------------------------------------


def test_sdk_event_and_transaction_items() -> None:
    """Events and transactions as sentry_sdk writes them (sized, application/json)."""
    envelope = SdkEnvelope(headers={"event_id": "a" * 32, "sent_at": "2024-05-01T12:00:00.5Z"})
    envelope.add_event({"message": "héllo\nworld", "level": "error", "extra": {"n": None}})
    data = envelope.serialize()
    ours = assert_same_as_sentry_sdk(data)
    assert ours.headers.event_id == "a" * 32
    assert ours.items[0].json() == {
        "message": "héllo\nworld",
        "level": "error",
        "extra": {"n": None},
    }
    transaction = SdkEnvelope(headers={"event_id": "b" * 32})
    transaction.add_transaction({"type": "transaction", "transaction": "/x", "spans": []})
    transaction.add_profile({"version": "1", "samples": []})
    assert [i.type for i in assert_same_as_sentry_sdk(transaction.serialize()).items] == [
        "transaction",
        "profile",
    ]


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\n",
        b"\r\n\r\n",
        b"\x00" * 16,
        b"MDMP\x93\xa7\x00\x00\n\x00\xff\xfe",
        random.Random(3).randbytes(70_000),
    ],
    ids=["empty", "newline", "crlf", "nul", "minidump-like", "random-70k"],
)
def test_sdk_binary_attachments(payload: bytes) -> None:
    """Binary attachments, empty ones included, keep every byte."""
    data = _sdk_envelope(
        {"event_id": "c" * 32},
        SdkItem(payload=payload, type="attachment", filename="dump.bin"),
        SdkItem(payload=b"x\ny", type="attachment", filename="b.txt", content_type="text/plain"),
    )
    ours = assert_same_as_sentry_sdk(data)
    assert [item.payload for item in ours.items] == [payload, b"x\ny"]
    assert ours.items[0].filename == "dump.bin"


def test_sdk_sessions_and_check_ins() -> None:
    """Session updates, session aggregates and a cron check-in, without an event id."""
    envelope = SdkEnvelope(headers={"sent_at": "2024-05-01T12:00:00.000000Z"})
    envelope.add_session(Session(release="shop@1.0", environment="prod"))
    envelope.add_sessions(
        {
            "aggregates": [{"started": "2024-05-01T12:00:00Z", "exited": 3}],
            "attrs": {"release": "shop@1.0"},
        }
    )
    envelope.add_checkin({"check_in_id": "d" * 32, "monitor_slug": "nightly", "status": "ok"})
    ours = assert_same_as_sentry_sdk(envelope.serialize())
    assert [item.type for item in ours.items] == ["session", "sessions", "check_in"]
    assert ours.headers.event_id is None


def test_sdk_extra_header_keys() -> None:
    """Unknown envelope and item header keys survive both parsers alike."""
    data = _sdk_envelope(
        {"event_id": "e" * 32, "trace": {"trace_id": "f" * 32, "public_key": "k"}, "x": [1, 2]},
        SdkItem(payload=b"{}", headers={"type": "log", "item_count": 0, "custom": {"a": "é"}}),
        SdkItem(payload=PayloadRef(json={"a": 1}), type="span", headers={"routing_hint": None}),
    )
    ours = assert_same_as_sentry_sdk(data)
    assert ours.items[0].headers["custom"] == {"a": "é"}
    assert ours.headers.fields["x"] == [1, 2]


# Envelopes the real SDK sends ----------------------------------------------------------------


def _fail(order_id: int) -> None:
    lines = ["a", "b"]
    raise KeyError(f"order {order_id} missing in {lines}")


def test_real_sdk_error_with_attachment() -> None:
    """capture_exception with an attachment: stack trace, sent_at, trace header, binary bytes."""
    with sentry_sdk_envelopes(traces_sample_rate=1.0) as captured:
        sentry_sdk.get_isolation_scope().add_attachment(bytes=b"\x00\n\r\nbin", filename="a.bin")
        try:
            _fail(42)
        except KeyError:
            sentry_sdk.capture_exception()
    (data,) = captured
    ours = assert_same_as_sentry_sdk(data)
    event, attachment = ours.items
    assert ours.headers.event_id == event.json()["event_id"]
    assert ours.headers.sent_at is not None
    frames = event.json()["exception"]["values"][0]["stacktrace"]["frames"]
    assert frames[-1]["function"] == "_fail"
    assert attachment.payload == b"\x00\n\r\nbin"


def test_real_sdk_transaction_and_check_in() -> None:
    """A transaction with spans and a cron check-in, as the SDK sends them."""
    with sentry_sdk_envelopes(traces_sample_rate=1.0) as captured:
        with (
            sentry_sdk.start_transaction(name="GET /cart", op="http.server"),
            sentry_sdk.start_span(op="db", name="load"),
        ):
            pass
        sentry_sdk.crons.capture_checkin(monitor_slug="nightly", status="ok")
    types = [[item.type for item in assert_same_as_sentry_sdk(data).items] for data in captured]
    assert ["transaction"] in types
    assert ["check_in"] in types


# Generated envelopes, both directions ---------------------------------------------------------

_sdk_readable = envelopes(event_payloads=json_payloads())


@given(_sdk_readable)
def test_sentry_sdk_reads_what_we_write(envelope: Envelope) -> None:
    """sentry_sdk parses our serialization to the same headers and payloads."""
    assert assert_same_as_sentry_sdk(envelope.serialize()) == envelope


@given(_sdk_readable)
def test_we_read_what_sentry_sdk_writes(envelope: Envelope) -> None:
    """We parse sentry_sdk's serialization of any envelope to its headers and payloads."""
    items = [
        SdkItem(payload=bytes(item.payload), headers=dict(item.headers)) for item in envelope.items
    ]
    ours = assert_same_as_sentry_sdk(_sdk_envelope(dict(envelope.headers.fields), *items))
    assert ours.headers == envelope.headers
    assert [item.payload for item in ours.items] == [item.payload for item in envelope.items]
