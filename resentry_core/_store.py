"""The legacy store endpoint's body: one event as JSON, possibly base64(zlib(JSON)).

Follows Relay's ``relay-server/src/endpoints/store.rs`` (``decode_bytes``, the minimal event
parse): an empty body or one starting with ``{`` is JSON;
anything else is standard padded base64, whose result is JSON when it starts with ``{`` and
otherwise a zlib stream (Raven-era clients sent ``base64(zlib(json))``).
"""

import base64
import binascii
import re
from typing import Final
from uuid import uuid4

from resentry_core import _json
from resentry_core._compression import decompress
from resentry_core._envelope import Envelope, EnvelopeHeaders, Item
from resentry_core._errors import EnvelopeError, JsonDecodeError, PayloadTooLargeError
from resentry_core._limits import DEFAULT_LIMITS, Limits

_EVENT_ID: Final = re.compile(
    r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def decode_store_body(body: bytes, *, max_bytes: int) -> bytes:
    """Turn a store request body (after any Content-Encoding) into the event's JSON bytes.

    Args:
        body: the request body.
        max_bytes: the largest body, and the largest decoded JSON, accepted
            (``Limits.max_event_bytes``).

    Returns:
        The JSON bytes (not validated as JSON here; :func:`envelope_from_store` does that).

    Raises:
        PayloadTooLargeError: the body or the inflated JSON exceeds ``max_bytes``.
        EnvelopeError: invalid base64 or a corrupt zlib stream ("invalid request body: …").
    """
    if len(body) > max_bytes:
        raise PayloadTooLargeError(
            f"store body of {len(body)} bytes exceeds {max_bytes} bytes",
            limit_name="max_event_bytes",
            limit=max_bytes,
        )
    if not body or body.startswith(b"{"):
        return body
    try:
        binary = base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise EnvelopeError(f"invalid request body: not JSON, and not base64 ({exc})") from None
    if binary.startswith(b"{"):
        return binary
    try:
        return decompress(binary, "deflate", max_bytes=max_bytes, limit_name="max_event_bytes")
    except PayloadTooLargeError:
        raise
    except EnvelopeError as exc:
        raise EnvelopeError(f"invalid request body: {exc}") from None


def envelope_from_store(payload: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Envelope:
    """Wrap a store endpoint event in a one-item envelope, as Relay does.

    The payload bytes are kept exactly; only ``event_id`` and ``type`` are read. The
    envelope's ``event_id`` is the payload's (normalized to 32 lowercase hex digits) or a new
    one; ``type: "transaction"`` makes a ``transaction`` item, anything else an ``event``.

    Args:
        payload: the event JSON, as returned by :func:`decode_store_body`.
        limits: ``max_event_bytes`` bounds the payload.

    Raises:
        PayloadTooLargeError: the payload exceeds ``limits.max_event_bytes``.
        EnvelopeError: the payload is not a JSON object, or its ``event_id`` is not a UUID.
    """
    if len(payload) > limits.max_event_bytes:
        raise PayloadTooLargeError(
            f"event of {len(payload)} bytes exceeds max_event_bytes ({limits.max_event_bytes})",
            limit_name="max_event_bytes",
            limit=limits.max_event_bytes,
        )
    try:
        event = _json.loads(payload)
    except JsonDecodeError as exc:
        raise EnvelopeError(f"invalid JSON data: {exc}") from None
    if not isinstance(event, dict):
        raise EnvelopeError(f"invalid JSON data: expected an object, got {type(event).__name__}")
    event_id = event.get("event_id")
    if event_id is None:
        event_id = uuid4().hex
    elif isinstance(event_id, str) and _EVENT_ID.fullmatch(event_id):
        event_id = event_id.replace("-", "").lower()
    else:
        raise EnvelopeError(f"invalid event id {str(event_id)[:64]!r}")
    item_type = "transaction" if event.get("type") == "transaction" else "event"
    headers = {"type": item_type, "length": len(payload), "content_type": "application/json"}
    return Envelope(
        EnvelopeHeaders(fields={"event_id": event_id}, event_id=event_id),
        (Item(headers, payload),),
    )
