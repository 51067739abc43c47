"""``parse_envelope``: Sentry envelope bytes in, an Envelope or an EnvelopeError out.

Pure and synchronous: no I/O, no logging, no globals. Framing follows Relay's parser
(``relay-server/src/envelope/mod.rs`` @012283f9, ``parse_headers`` and ``parse_item``; the
format: https://develop.sentry.dev/sdk/foundations/transport/envelopes/):

- The envelope header is one JSON object, after optional JSON whitespace, followed by ``\\n``
  or the end of the body.
- Each item header is one JSON object followed by ``\\n`` or the end of the body. JSON
  whitespace before it (blank lines between items) is skipped.
- With ``length`` (an integer from 0 to 2**32-1; ``null`` means absent) the payload is exactly
  that many bytes and must be followed by ``\\n`` or the end; without it, the payload runs to
  the next ``\\n`` or the end.
- ``type`` is a required string; ``"integration"`` is Relay-internal and rejected; other
  unknown types and header keys are kept as received.

Deliberate differences from Relay:

- A header is one line, as the envelope grammar says (develop.sentry.dev, "Envelopes"); Relay's
  streaming JSON reader would also take an object spread over several lines.
- Whitespace after the last item (``...payload\\n\\n``) is tolerated; Relay answers "unexpected
  end of file".
- :class:`Limits` are checked while framing, before a payload is sliced, so an oversized item
  is rejected (413) before a malformed one later in the body (400), as the ingest check order
  in ``docs/ingest_routes.md`` requires.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from resentry_core._envelope import (
    Envelope,
    EnvelopeHeaders,
    Item,
    new_envelope,
    new_envelope_headers,
    new_item,
)
from resentry_core._errors import EnvelopeError, PayloadTooLargeError
from resentry_core._json import deeper_than
from resentry_core._limits import DEFAULT_LIMITS, MAX_JSON_DEPTH, Limits

_WHITESPACE: Final = b" \t\r\n"  # JSON whitespace, which Relay's reader skips before a header
_SKIP_WHITESPACE: Final = re.compile(rb"[ \t\r\n]*")
_NEWLINE: Final = 0x0A
_BACKSLASH: Final = 0x5C
_CLOSING_BRACE: Final = 0x7D
_MAX_LENGTH: Final = 2**32 - 1  # Relay reads `length` as a u32
_UUID: Final = re.compile(
    r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_INTERNAL_ITEM_TYPES: Final = frozenset({"integration"})


def parse_envelope(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Envelope:
    """Parse one Sentry envelope.

    Args:
        data: the whole (decompressed) request body.
        limits: size and count bounds, checked while parsing; pass tighter ones to be stricter.

    Returns:
        The envelope: headers with ``event_id`` normalized to 32 lowercase hex digits and
        ``sent_at`` parsed to an aware UTC datetime, and every item with its headers and exact
        payload bytes, in order. Each payload is a read-only ``memoryview`` slice of the body
        (of an immutable ``bytes`` copy when ``data`` is a bytearray or memoryview), so no
        payload is copied; the items keep the body alive.

    Raises:
        PayloadTooLargeError: a bound of ``limits`` was exceeded; ``limit_name`` says which.
        EnvelopeError: the body is not a well-formed envelope; ``offset`` and ``item_index``
            say where.
    """
    if type(data) is not bytes:
        data = bytes(data)  # payloads are views of it: they must not change under the caller
    size = len(data)
    if size > limits.max_envelope_bytes:
        raise PayloadTooLargeError(
            f"envelope exceeded size limits: {size} bytes, "
            f"max_envelope_bytes is {limits.max_envelope_bytes}",
            limit_name="max_envelope_bytes",
            limit=limits.max_envelope_bytes,
        )
    if size == 0:
        raise EnvelopeError("empty envelope", offset=0)
    start = _skip_whitespace(data, 0) if data[0] in _WHITESPACE else 0
    if start == size:
        raise EnvelopeError("missing envelope header", offset=start)
    fields, line = _read_header(data, start, limits.max_header_bytes, None)
    headers = _envelope_headers(fields, line, start)

    view = memoryview(data)
    items: list[Item] = []
    totals: dict[str, list[int]] = {}  # bucket name -> [item count, payload bytes]
    max_items = limits.max_items
    header_limit = limits.max_header_bytes
    pos = start + len(line) + 1
    while pos < size:
        if data[pos] in _WHITESPACE:
            pos = _skip_whitespace(data, pos)
            if pos == size:
                break  # trailing whitespace after the last item
        index = len(items)
        if index == max_items:
            raise PayloadTooLargeError(
                f"envelope exceeded size limits: more than {max_items} items (max_items)",
                limit_name="max_items",
                limit=max_items,
                offset=pos,
                item_index=index,
            )
        item_headers, line = _read_header(data, pos, header_limit, index)
        header_end = pos + len(line)
        item_type = item_headers.get("type")
        if type(item_type) is not str:
            raise EnvelopeError(
                "invalid item header: 'type' is missing or not a string",
                offset=pos,
                item_index=index,
            )
        if item_type in _INTERNAL_ITEM_TYPES:
            raise EnvelopeError(
                f"envelope contains internal items (type {item_type!r})",
                offset=pos,
                item_index=index,
            )
        payload_start = header_end + 1 if header_end < size else size
        length = item_headers.get("length")
        if length is None:
            payload_end = data.find(b"\n", payload_start)
            if payload_end == -1:
                payload_end = size
        elif type(length) is int and 0 <= length <= _MAX_LENGTH:
            payload_end = payload_start + length
        else:
            raise EnvelopeError(
                f"invalid item header: 'length' must be an integer from 0 to {_MAX_LENGTH} "
                f"or null, not {_preview(length)}",
                offset=pos,
                item_index=index,
            )
        _check_item_limits(
            item_type, item_headers, payload_end - payload_start, limits, totals, pos, index
        )
        if length is not None:
            if payload_end > size:
                raise EnvelopeError(
                    f"unexpected end of file: item declares length {length}, "
                    f"{size - payload_start} bytes remain",
                    offset=payload_start,
                    item_index=index,
                )
            if payload_end < size and data[payload_end] != _NEWLINE:
                raise EnvelopeError(
                    "missing newline after header or payload: the payload is longer than "
                    f"its declared length {length}",
                    offset=payload_end,
                    item_index=index,
                )
        items.append(new_item(item_headers, view[payload_start:payload_end]))
        pos = payload_end + 1
    return new_envelope(headers, tuple(items))


def _skip_whitespace(data: bytes, pos: int) -> int:
    match = _SKIP_WHITESPACE.match(data, pos)
    return match.end() if match else pos


def _read_header(
    data: bytes, start: int, limit: int, index: int | None
) -> tuple[dict[str, Any], bytes]:
    """Decode the JSON object on the line at ``start``; return it and the line."""
    what = "envelope header" if index is None else "item header"
    end = data.find(b"\n", start, start + limit + 1)
    if end == -1:
        end = len(data)
        if end - start > limit:
            raise PayloadTooLargeError(
                f"envelope exceeded size limits: {what} longer than {limit} bytes "
                "(max_header_bytes)",
                limit_name="max_header_bytes",
                limit=limit,
                offset=start,
                item_index=index,
            )
    line = data[start:end]
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"invalid {what}: {exc}", offset=start, item_index=index) from None
    if type(value) is not dict:
        raise EnvelopeError(
            f"invalid {what}: expected a JSON object, got {type(value).__name__}",
            offset=start,
            item_index=index,
        )
    if line.count(b"{") + line.count(b"[") > MAX_JSON_DEPTH and deeper_than(value, MAX_JSON_DEPTH):
        raise EnvelopeError(
            f"invalid {what}: JSON nested deeper than {MAX_JSON_DEPTH} levels",
            offset=start,
            item_index=index,
        )
    if line[-1] != _CLOSING_BRACE:  # the object is followed by spaces or "\r", not "\n"
        raise EnvelopeError(
            f"missing newline after header or payload: {what} ends with whitespace other "
            "than a single \\n",
            offset=start + len(line.rstrip(_WHITESPACE)),
            item_index=index,
        )
    return value, line


def _envelope_headers(fields: dict[str, Any], line: bytes, start: int) -> EnvelopeHeaders:
    event_id = fields.get("event_id")
    if event_id is not None:
        if not (isinstance(event_id, str) and _UUID.fullmatch(event_id)):
            raise EnvelopeError(
                f"invalid envelope header: event_id {_preview(event_id)} is not a UUID "
                "(32 hex digits, dashes optional)",
                offset=start,
            )
        event_id = (event_id if len(event_id) == 32 else event_id.replace("-", "")).lower()
    if "sent_at" not in fields:
        return new_envelope_headers(fields, event_id, None)
    # orjson keeps the last of duplicated keys; the spec rejects an envelope that sends
    # sent_at twice. Only a repeated token or an escape (which could spell the key) needs the
    # slow check.
    if (line.count(b'"sent_at"') > 1 or _BACKSLASH in line) and _has_duplicate_key(
        line, "sent_at", start
    ):
        raise EnvelopeError("invalid envelope header: duplicate 'sent_at'", offset=start)
    return new_envelope_headers(fields, event_id, _parse_sent_at(fields["sent_at"], start))


def _has_duplicate_key(line: bytes, key: str, offset: int) -> bool:
    objects: list[list[tuple[str, Any]]] = []

    def keep_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        objects.append(pairs)
        return dict(pairs)

    try:
        json.loads(line, object_pairs_hook=keep_pairs)
    except RecursionError:
        raise EnvelopeError("invalid envelope header: nested too deeply", offset=offset) from None
    # The outermost object is completed, and so reported, last.
    return sum(1 for name, _ in objects[-1] if name == key) > 1


def _parse_sent_at(value: object, offset: int) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is UTC:  # "...Z" and "+00:00", what SDKs send
                return parsed
            if parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            pass
    raise EnvelopeError(
        f"invalid envelope header: sent_at {_preview(value)} is not an RFC 3339 timestamp "
        "with a UTC offset",
        offset=offset,
    )


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


@dataclass(frozen=True, slots=True, kw_only=True)
class _Rule:
    """How :class:`Limits` bound one kind of item; names are Limits fields or _FIXED_LIMITS."""

    item_bytes: str  # each payload
    bucket: str | None = None  # items that share the count and total below
    count: str | None = None  # items of the bucket per envelope
    total_bytes: str | None = None  # payloads of the bucket, summed
    entry_bytes: str | None = None  # payload / item_count, for log containers


# Relay's "event" size bucket and check_in allow one item per envelope (utils/sizes.rs); Limits
# has no field for them, so these names resolve here unless a Limits field of that name exists.
_FIXED_LIMITS: Final[Mapping[str, int]] = {"max_event_count": 1, "max_check_in_count": 1}

_EVENT: Final = _Rule(item_bytes="max_event_bytes", bucket="event", count="max_event_count")
_ATTACHMENT: Final = _Rule(
    item_bytes="max_attachment_bytes",
    bucket="attachment",
    count="max_attachment_count",
    total_bytes="max_attachments_bytes",
)
_SESSION: Final = _Rule(
    item_bytes="max_sessions_bytes",
    bucket="session",
    count="max_session_count",
    total_bytes="max_sessions_bytes",
)
_LOG: Final = _Rule(item_bytes="max_container_bytes", entry_bytes="max_log_bytes")
_CONTAINER: Final = _Rule(item_bytes="max_container_bytes")
_PROFILE: Final = _Rule(item_bytes="max_profile_bytes")
_REPLAY: Final = _Rule(item_bytes="max_replay_bytes")
_OTHER: Final = _Rule(item_bytes="max_other_item_bytes")

# Item type -> rule (Relay's ``ItemType`` and its ``config.rs`` limits). Others fall under _OTHER.
_RULES: Final[Mapping[str, _Rule]] = {
    "event": _EVENT,
    "transaction": _EVENT,
    "security": _EVENT,
    "raw_security": _EVENT,
    "replay_event": _EVENT,
    "feedback": _EVENT,
    "form_data": _EVENT,
    "user_report": _Rule(item_bytes="max_event_bytes"),  # legacy feedback; not the one event
    "attachment": _ATTACHMENT,
    "unreal_report": _ATTACHMENT,  # Relay bounds it by max_attachment_size
    "session": _SESSION,
    "sessions": _SESSION,
    "client_report": _Rule(
        item_bytes="max_client_report_bytes",
        bucket="client_report",
        count="max_client_report_count",
        total_bytes="max_client_report_bytes",
    ),
    "check_in": _Rule(
        item_bytes="max_check_in_bytes", bucket="check_in", count="max_check_in_count"
    ),
    "log": _LOG,
    "otel_log": _LOG,
    "span": _CONTAINER,
    "otel_span": _CONTAINER,
    "otel_traces_data": _CONTAINER,
    "trace_metric": _CONTAINER,
    "profile": _PROFILE,
    "profile_chunk": _PROFILE,
    "profile_chunk_ui": _PROFILE,
    "replay_recording": _REPLAY,
    "replay_video": _REPLAY,
}


def _check_item_limits(
    item_type: str,
    headers: Mapping[str, Any],
    size: int,
    limits: Limits,
    totals: dict[str, list[int]],
    offset: int,
    index: int,
) -> None:
    """Raise PayloadTooLargeError when an item of ``size`` bytes breaks a bound."""
    rule = _RULES.get(item_type, _OTHER)
    where = (item_type, offset, index)
    limit: int = getattr(limits, rule.item_bytes)
    if size > limit:
        raise _too_large(rule.item_bytes, limit, f"item of {size} bytes", *where)
    if rule.entry_bytes is not None:
        entries = headers.get("item_count")
        if type(entries) is not int or entries < 1:
            entries = 1
        limit = getattr(limits, rule.entry_bytes)
        if size > limit * entries:
            raise _too_large(rule.entry_bytes, limit, f"{size} bytes for {entries} entries", *where)
    if rule.bucket is None:
        return
    total = totals.setdefault(rule.bucket, [0, 0])
    total[0] += 1
    total[1] += size
    if rule.count is not None:
        configured = getattr(limits, rule.count, None)
        limit = _FIXED_LIMITS[rule.count] if configured is None else configured
        if total[0] > limit:
            raise _too_large(rule.count, limit, f"{total[0]} {rule.bucket} items", *where)
    if rule.total_bytes is not None:
        limit = getattr(limits, rule.total_bytes)
        if total[1] > limit:
            what = f"{rule.bucket} items of {total[1]} bytes"
            raise _too_large(rule.total_bytes, limit, what, *where)


def _too_large(
    name: str, limit: int, what: str, item_type: str, offset: int, index: int
) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"envelope exceeded size limits for type {item_type!r}: {what}, {name} is {limit}",
        limit_name=name,
        limit=limit,
        item_type=item_type,
        offset=offset,
        item_index=index,
    )
