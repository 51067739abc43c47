"""Every size and count bound of ``Limits`` bites at limit + 1 and not at the limit.

Each case builds an envelope from a size ``n`` (bytes or a count), parses it with a small
custom ``Limits``: ``n == limit`` must parse and ``n == limit + 1`` must raise
``PayloadTooLargeError`` naming the limit and the item type, as Relay's 413
"envelope exceeded size limits for type '…'" does. ``max_request_bytes`` bounds the body as
received, before decompression, and is not the parser's (see test_compression.py).
"""

from collections.abc import Callable
from dataclasses import dataclass, fields

import pytest

from resentry_core._errors import PayloadTooLargeError
from resentry_core._limits import DEFAULT_LIMITS, Limits, MiB
from resentry_core._parser import parse_envelope


def _item(item_type: str, payload: bytes, extra: bytes = b"") -> bytes:
    header = b'{"type":"%s","length":%d%s}' % (item_type.encode(), len(payload), extra)
    return b"\n" + header + b"\n" + payload


def _envelope(*items: bytes) -> bytes:
    return b"{}" + b"".join(items) + b"\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One bound: the Limits it runs with, and envelopes of size ``n``."""

    id: str
    limits: Limits
    limit_name: str
    item_type: str | None
    build: Callable[[int], bytes]
    offending_item: int | None = None  # index of the item that breaks the bound, if fixed

    @property
    def limit(self) -> int:
        """The value of the bound under test."""
        return int(getattr(self.limits, self.limit_name))


def _single(item_type: str, limit_name: str, limit: int = 40) -> Case:
    return Case(
        id=f"{limit_name}-{item_type}",
        limits=Limits(**{limit_name: limit}),
        limit_name=limit_name,
        item_type=item_type,
        build=lambda n: _envelope(_item(item_type, b"x" * n)),
        offending_item=0,
    )


def _count(item_types: tuple[str, ...], limit_name: str, limit: int = 3) -> Case:
    def build(n: int) -> bytes:
        return _envelope(*(_item(item_types[i % len(item_types)], b"{}") for i in range(n)))

    return Case(
        id=f"{limit_name}-{'+'.join(item_types)}",
        limits=Limits(**{limit_name: limit}),
        limit_name=limit_name,
        item_type=item_types[limit % len(item_types)],
        build=build,
        offending_item=limit,
    )


def _total(item_types: tuple[str, ...], limit_name: str, limit: int = 50) -> Case:
    # Two items share the bytes: ceil and floor halves of n.
    def build(n: int) -> bytes:
        return _envelope(
            _item(item_types[0], b"x" * (n - n // 2)), _item(item_types[-1], b"y" * (n // 2))
        )

    return Case(
        id=f"{limit_name}-{'+'.join(item_types)}",
        limits=Limits(**{limit_name: limit}),
        limit_name=limit_name,
        item_type=item_types[-1],
        build=build,
        offending_item=1,
    )


EVENT_BUCKET = ("event", "transaction", "security", "raw_security", "replay_event", "feedback")
CASES = [
    *(_single(t, "max_event_bytes") for t in (*EVENT_BUCKET, "form_data", "user_report")),
    *(_single(t, "max_attachment_bytes") for t in ("attachment", "unreal_report")),
    *(_single(t, "max_sessions_bytes") for t in ("session", "sessions")),
    _single("client_report", "max_client_report_bytes"),
    _single("check_in", "max_check_in_bytes"),
    *(_single(t, "max_container_bytes") for t in ("log", "otel_log", "span", "trace_metric")),
    _single("otel_span", "max_container_bytes"),
    _single("log", "max_log_bytes"),
    *(_single(t, "max_profile_bytes") for t in ("profile", "profile_chunk", "profile_chunk_ui")),
    *(_single(t, "max_replay_bytes") for t in ("replay_recording", "replay_video")),
    *(_single(t, "max_other_item_bytes") for t in ("nel", "statsd", "Event", "x-custom")),
    _count(("attachment",), "max_attachment_count"),
    _count(("session", "sessions"), "max_session_count"),
    _count(("client_report",), "max_client_report_count"),
    _total(("attachment", "unreal_report"), "max_attachments_bytes"),
    _total(("session", "sessions"), "max_sessions_bytes"),
    _total(("client_report",), "max_client_report_bytes"),
    Case(
        id="max_items",
        limits=Limits(max_items=4),
        limit_name="max_items",
        item_type=None,
        build=lambda n: _envelope(*(_item("x-custom", b"") for _ in range(n))),
        offending_item=4,
    ),
    Case(
        id="max_envelope_bytes",
        limits=Limits(max_envelope_bytes=64),
        limit_name="max_envelope_bytes",
        item_type=None,
        build=lambda n: b"{}\n" + b"\n" * (n - 3),
    ),
    Case(
        id="max_header_bytes-envelope",
        limits=Limits(max_header_bytes=30),
        limit_name="max_header_bytes",
        item_type=None,
        build=lambda n: b'{"k":"' + b"x" * (n - 8) + b'"}\n',
    ),
    Case(
        id="max_header_bytes-envelope-eof",
        limits=Limits(max_header_bytes=30),
        limit_name="max_header_bytes",
        item_type=None,
        build=lambda n: b'{"k":"' + b"x" * (n - 8) + b'"}',
    ),
    Case(
        id="max_header_bytes-item",
        limits=Limits(max_header_bytes=30),
        limit_name="max_header_bytes",
        item_type=None,
        build=lambda n: b'{}\n{"type":"' + b"x" * (n - 11) + b'"}\n',
        offending_item=0,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_limit_bites_at_limit_plus_one(case: Case) -> None:
    """The envelope of size ``limit`` parses; the one of size ``limit + 1`` is too large."""
    assert parse_envelope(case.build(case.limit), limits=case.limits)
    with pytest.raises(PayloadTooLargeError) as info:
        parse_envelope(case.build(case.limit + 1), limits=case.limits)
    error = info.value
    assert (error.limit_name, error.limit, error.item_type) == (
        case.limit_name,
        case.limit,
        case.item_type,
    )
    assert "envelope exceeded size limits" in str(error)
    assert case.limit_name in str(error)
    if case.item_type is not None:
        assert f"for type '{case.item_type}'" in str(error)
    if case.offending_item is not None:
        assert error.item_index == case.offending_item


def test_every_limit_but_the_request_size_is_tested() -> None:
    """The table above covers every field of Limits that the parser enforces."""
    tested = {case.limit_name for case in CASES}
    assert tested | {"max_request_bytes"} == {field.name for field in fields(Limits)}


@pytest.mark.parametrize("item_type", [*EVENT_BUCKET, "form_data"])
def test_one_event_bucket_item_per_envelope(item_type: str) -> None:
    """A second event-bucket item is too large even when both are tiny (Relay's count of 1)."""
    data = _envelope(_item("event", b"{}"), _item(item_type, b"{}"))
    with pytest.raises(PayloadTooLargeError, match=f"for type '{item_type}'") as info:
        parse_envelope(data)
    assert (info.value.limit_name, info.value.limit, info.value.item_index) == (
        "max_event_count",
        1,
        1,
    )


def test_one_check_in_per_envelope() -> None:
    """A second check-in is too large (Relay's count of 1)."""
    assert parse_envelope(_envelope(_item("check_in", b"{}")))
    with pytest.raises(PayloadTooLargeError, match="for type 'check_in'") as info:
        parse_envelope(_envelope(_item("check_in", b"{}"), _item("check_in", b"{}")))
    assert (info.value.limit_name, info.value.limit) == ("max_check_in_count", 1)


def test_log_limit_scales_with_item_count() -> None:
    """A log container may hold ``item_count`` times ``max_log_bytes`` (Relay's average)."""
    limits = Limits(max_log_bytes=10)
    assert parse_envelope(_envelope(_item("log", b"x" * 30, b',"item_count":3')), limits=limits)
    with pytest.raises(PayloadTooLargeError, match="max_log_bytes"):
        parse_envelope(_envelope(_item("log", b"x" * 31, b',"item_count":3')), limits=limits)
    # A missing or nonsensical item_count counts as one log.
    for count in (b"", b',"item_count":0', b',"item_count":"3"'):
        with pytest.raises(PayloadTooLargeError, match="max_log_bytes"):
            parse_envelope(_envelope(_item("log", b"x" * 11, count)), limits=limits)


def test_implicit_length_items_are_bounded_too() -> None:
    """An item without ``length`` is measured up to its newline."""
    limits = Limits(max_event_bytes=4)
    assert parse_envelope(b'{}\n{"type":"event"}\n1234\n', limits=limits)
    with pytest.raises(PayloadTooLargeError, match="max_event_bytes"):
        parse_envelope(b'{}\n{"type":"event"}\n12345\n', limits=limits)


def test_declared_length_is_checked_before_the_payload() -> None:
    """A huge declared ``length`` is too large (413) before the missing bytes matter (400)."""
    data = b'{}\n{"type":"event","length":1048577}\n{}'
    with pytest.raises(PayloadTooLargeError, match="max_event_bytes") as info:
        parse_envelope(data)
    assert (info.value.offset, info.value.item_index) == (3, 0)


def test_oversized_item_wins_over_a_later_malformed_one() -> None:
    """Items are checked in order: the oversized item 0 is reported, not the broken item 1."""
    data = _envelope(_item("event", b"x" * 5)) + b"not json\n"
    with pytest.raises(PayloadTooLargeError):
        parse_envelope(data, limits=Limits(max_event_bytes=4))


def test_default_event_limit_is_one_mib() -> None:
    """With the defaults an event of exactly 1 MiB is accepted and one byte more is not."""
    assert DEFAULT_LIMITS.max_event_bytes == MiB
    assert parse_envelope(_envelope(_item("event", b"x" * MiB)))
    with pytest.raises(PayloadTooLargeError, match="for type 'event'"):
        parse_envelope(_envelope(_item("event", b"x" * (MiB + 1))))


def test_limits_are_independent_per_envelope() -> None:
    """Counts and totals start again for every parsed envelope."""
    limits = Limits(max_attachment_count=2)
    data = _envelope(_item("attachment", b""), _item("attachment", b""))
    for _ in range(3):
        assert len(parse_envelope(data, limits=limits).items) == 2
