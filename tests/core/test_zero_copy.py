"""Zero-copy payloads: parsed items view the request body, and every consumer handles views.

The parser returns each payload as a read-only memoryview slice of the body. These tests pin
that down (no copy), and check the places where a view behaves unlike ``bytes``: searching it
(``b"\\n" in view`` does not search bytes), decoding it as JSON, binding it in the SQL drivers,
and keeping it in ``memory://`` storage (which must copy, not pin the body).
"""

import gc
import gzip
import math
import random
import weakref
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resentry_core import Ingestor, IngestRequest
from resentry_core._envelope import Envelope, Item
from resentry_core._errors import JsonDecodeError
from resentry_core._json import loads as parse_json
from resentry_core._parser import parse_envelope
from resentry_core._prepare import prepare_envelope
from resentry_core._projects import Projects
from resentry_core._resentry import open_storage
from resentry_core._storage._protocol import Storage
from resentry_core._storage._sqlite_memory import MEMORY_URL
from tests import factories as f

RECEIVED = datetime(2025, 11, 26, 12, 0, tzinfo=UTC)


def sized_envelope(*payloads: bytes, item_type: str = "attachment") -> bytes:
    """An envelope with one sized item per payload."""
    return f.envelope([f.item(item_type, payload) for payload in payloads])


def without_length(item: Item) -> Item:
    """The same item (same payload object) with its ``length`` header removed."""
    return Item({k: v for k, v in item.headers.items() if k != "length"}, item.payload)


def test_parsed_payloads_are_read_only_views_of_the_body() -> None:
    """Every parsed payload is a read-only byte view of the input object itself: no copy."""
    binary = bytes(range(256)) * 4
    data = sized_envelope(binary, b"", b'{"a":1}') + b'{"type":"event"}\n{"b":2}\n'
    envelope = parse_envelope(data)
    assert [bytes(item.payload) for item in envelope.items] == [binary, b"", b'{"a":1}', b'{"b":2}']
    for item in envelope.items:
        view = item.payload
        assert isinstance(view, memoryview)
        assert view.obj is data
        assert (view.readonly, view.format, view.contiguous) == (True, "B", True)
        assert view.nbytes == len(view)
    attachment = envelope.items[0].payload
    assert isinstance(attachment, memoryview)
    with pytest.raises(TypeError):
        attachment[0:1] = b"x"


def test_view_and_bytes_items_compare_equal() -> None:
    """A parsed item equals the same item built with ``bytes``, in both directions."""
    data = sized_envelope(b"a\x00b\r\n")
    (parsed,) = parse_envelope(data).items
    built = Item(dict(parsed.headers), b"a\x00b\r\n")
    assert parsed == built
    assert built == parsed
    assert parsed != Item(dict(parsed.headers), b"a\x00b\r")


@pytest.mark.parametrize(
    "payload", [b"a\nb", b"a\r\nb", b"\n", b"\x00\n\x00", b"ends with newline\n"]
)
def test_view_with_a_newline_gets_an_explicit_length(payload: bytes) -> None:
    """serialize() finds a newline in a view payload and frames it with ``length``."""
    (item,) = parse_envelope(sized_envelope(payload)).items
    data = Envelope(items=(without_length(item),)).serialize()
    assert data == b'{}\n{"type":"attachment","length":%d}\n%b\n' % (len(payload), payload)
    assert parse_envelope(data).items == (Item(item.headers, payload),)


@pytest.mark.parametrize("payload", [b"a\rb", b"\r", b"\x00", b"a\x00\rb", b""])
def test_view_without_a_newline_stays_implicit(payload: bytes) -> None:
    """A view payload with CR or NUL but no newline is written without ``length``."""
    (item,) = parse_envelope(sized_envelope(payload)).items
    data = Envelope(items=(without_length(item),)).serialize()
    assert data == b'{}\n{"type":"attachment"}\n%b\n' % payload
    assert parse_envelope(data).items == (without_length(item),)


@given(st.lists(st.binary(max_size=64), max_size=4))
def test_any_view_payload_round_trips_without_its_length(payloads: list[bytes]) -> None:
    """Whatever bytes a view holds, dropping ``length`` and serializing parses back the same."""
    parsed = parse_envelope(sized_envelope(*payloads, item_type="x"))
    stripped = Envelope(parsed.headers, tuple(without_length(item) for item in parsed.items))
    assert [bytes(item.payload) for item in parse_envelope(stripped.serialize()).items] == payloads


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"a":"x\\u0000y","\\u0000k":1}', {"a": "xy", "k": 1}),
        (b'{"a":"\\ud83d!"}', {"a": "\ufffd!"}),
        (b'{"a":NaN,"b":[Infinity]}', {"a": None, "b": [None]}),
        (b'{"a":"caf\xc3\xa9"}', {"a": "caf\u00e9"}),
    ],
)
def test_json_of_a_view_repairs_like_bytes(payload: bytes, expected: object) -> None:
    """parse_json on a view drops NUL escapes and repairs surrogates and NaN, as on bytes."""
    (item,) = parse_envelope(sized_envelope(payload, item_type="event")).items
    assert isinstance(item.payload, memoryview)
    assert parse_json(item.payload) == expected
    assert parse_json(payload) == expected


def test_item_json_is_faithful() -> None:
    """Item.json() on a view gives back what the SDK sent: NUL, lone surrogate, NaN."""
    payload = b'{"a":"x\\u0000y","b":"\\ud83d","c":NaN}'
    (item,) = parse_envelope(sized_envelope(payload, item_type="event")).items
    value = item.json()
    assert (value["a"], value["b"]) == ("x\x00y", "\ud83d")
    assert math.isnan(value["c"])


@pytest.mark.parametrize("payload", [b'{"a":"\xff"}', b"{", b""])
def test_json_of_an_invalid_view_raises(payload: bytes) -> None:
    """A view that is not JSON (or not UTF-8) raises JsonDecodeError, not TypeError."""
    (item,) = parse_envelope(sized_envelope(payload, item_type="event")).items
    with pytest.raises(JsonDecodeError):
        item.json()


def test_prepared_records_keep_the_views() -> None:
    """Preparation hands storage the views themselves, so the SQL drivers write from the body."""
    data = f.envelope([f.item("event", f.error_event()), f.item("attachment", b"\x00\n")])
    envelope = parse_envelope(data)
    prepared = prepare_envelope(
        envelope, project_id=1, received_at=RECEIVED, raw=data, raw_encoding=None
    )
    for record, item in zip(prepared.items, envelope.items, strict=True):
        assert record.payload is item.payload
    assert prepared.attachments[0].size == 2


def _binary_attachment() -> bytes:
    """256 KiB of random bytes with every awkward sequence in it."""
    return b"\n\r\n\x00" + random.Random(5).randbytes(256 * 1024) + b"\r\n\x00\n"


@pytest.mark.parametrize("encoding", [None, "gzip"])
async def test_ingested_attachment_comes_back_byte_exact(
    storage: Storage, encoding: str | None
) -> None:
    """An attachment ingested through the Ingestor reads back as the same bytes from storage."""
    project = await Projects(storage).create_project("Shop")
    attachment = _binary_attachment()
    event = orjson.dumps(f.error_event())
    event_id = "f" * 32
    body = f.envelope(
        [f.item("event", event), f.item("attachment", attachment, filename="core.dmp")],
        event_id=event_id,
    )
    request = IngestRequest(
        project_id=project.id,
        body=gzip.compress(body) if encoding else body,
        content_encoding=encoding,
        x_sentry_auth=f"Sentry sentry_key={project.keys[0].public_key}, sentry_version=7",
    )
    await Ingestor(storage).ingest(request)
    detail = await storage.get_event(project.id, event_id)
    assert (type(detail.payload), detail.payload) == (bytes, event)
    (stored,) = detail.attachments
    assert (stored.filename, stored.size) == ("core.dmp", len(attachment))
    _, data = await storage.get_attachment(project.id, stored.id)
    assert type(data) is bytes
    assert data == attachment
    items = (await storage.list_items(project.id, type="attachment")).items
    _, payload = await storage.get_item_payload(project.id, items[0].id)
    assert (type(payload), payload) == (bytes, attachment)


async def test_memory_storage_does_not_pin_the_request_body() -> None:
    """``memory://`` storage keeps ``bytes`` copies: no stored value references a payload view."""
    storage = await open_storage(MEMORY_URL)
    project = await Projects(storage).create_project("Shop")
    attachment = _binary_attachment()
    event = orjson.dumps(f.error_event())
    envelope = parse_envelope(
        f.envelope([f.item("event", event), f.item("attachment", attachment)])
    )
    views = [weakref.ref(item.payload) for item in envelope.items]
    assert all(isinstance(view(), memoryview) for view in views)
    prepared = prepare_envelope(
        envelope, project_id=project.id, received_at=RECEIVED, raw=b"raw", raw_encoding=None
    )
    (recorded,) = await storage.record([prepared])
    del envelope, prepared
    gc.collect()
    assert [view() for view in views] == [None, None]
    items = (await storage.list_items(project.id)).items
    payloads = [(await storage.get_item_payload(project.id, item.id))[1] for item in items]
    assert sorted(payloads) == sorted([event, attachment])
    assert all(type(payload) is bytes for payload in payloads)
    assert recorded.envelope_id is not None
    await storage.aclose()
