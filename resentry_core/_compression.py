"""Content-Encoding decoders with a hard cap on the decoded size.

Accepted codings follow Relay (``relay-server/Cargo.toml``: tower-http ``decompression-*``):
``gzip`` (alias ``x-gzip``), ``deflate``, ``br`` and ``zstd``. ``deflate`` is the zlib wrapper
(RFC 1950) in HTTP, but some clients send raw deflate (Bugsink reads it that way), so a body
without a zlib header, or one that fails as zlib, is read as raw deflate. An empty label,
``identity`` and ``UTF-8`` (sentry.java.android 2.0.0 sends it) mean no coding, as in Relay's
``should_ignore_encoding``.

Every decoder streams: input is fed in chunks and output is pulled in chunks of at most
``_CHUNK_BYTES``, so a decompression bomb is refused as soon as the output passes the cap,
having held at most the cap and one chunk.
"""

import functools
import zlib
from collections.abc import Callable
from typing import Final

import brotli
import zstandard

from resentry_core._errors import EnvelopeError, PayloadTooLargeError, UnsupportedEncodingError

_CHUNK_BYTES: Final = 64 * 1024
# RFC 9659 §2: a zstd content coding never needs a window larger than 8 MiB; refusing larger
# windows keeps a hostile frame from making the decoder allocate up to 2 GiB.
_ZSTD_MAX_WINDOW_BYTES: Final = 8 * 1024 * 1024
# More stacked codings than there are distinct ones is never legitimate, and each stage costs
# up to ``max_bytes`` of work.
_MAX_CODINGS: Final = 4
# Gzip members and zstd frames and blocks are walked in Python; a body of millions of empty
# ones would cost seconds of CPU while decoding to nothing. Legitimate encoders emit one per
# body (gzip) or one per up to 128 KiB (zstd), so these allowances are far above any of them.
_MAX_UNITS: Final = 1024
_MIN_BYTES_PER_UNIT: Final = 256
_IDENTITY: Final = frozenset({"", "identity", "utf-8"})
_GZIP_MAGIC: Final = b"\x1f\x8b"
_ZSTD_MAGIC: Final = 0xFD2FB528
_ZSTD_SKIPPABLE_MAGIC: Final = 0x184D2A50  # 0x184D2A50 ..= 0x184D2A5F


class _CorruptStreamError(Exception):
    """A stream fault found by this module rather than by the decoding library."""


class _Output:
    """Collects decoded chunks and raises as soon as their total passes the cap.

    Chunks are kept apart until the end (a growing buffer would over-allocate by up to an
    eighth), so a refused body has cost at most the cap plus one chunk; an accepted one is
    joined once, briefly holding it twice.
    """

    __slots__ = ("_chunks", "_limit_name", "_max_bytes", "_size")

    def __init__(self, max_bytes: int, limit_name: str) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._max_bytes = max_bytes
        self._limit_name = limit_name

    def reset(self) -> None:
        """Drop everything written so far."""
        self._chunks.clear()
        self._size = 0

    def check_units(self, count: int, what: str) -> None:
        """Refuse a stream with far more members, frames or blocks than its size explains."""
        if count > _MAX_UNITS + self._size // _MIN_BYTES_PER_UNIT:
            raise _CorruptStreamError(f"{count} {what} for {self._size} decoded bytes")

    def room(self) -> int:
        """How much output to ask a decoder for: one chunk, or one byte past the cap."""
        return max(1, min(_CHUNK_BYTES, self._max_bytes - self._size + 1))

    def write(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._max_bytes:
            raise PayloadTooLargeError(
                f"decompressed body exceeds {self._max_bytes} bytes",
                limit_name=self._limit_name,
                limit=self._max_bytes,
            )
        if data:
            self._chunks.append(data)

    def value(self) -> bytes:
        value = b"".join(self._chunks)
        self._chunks.clear()
        return value


def decompress(
    body: bytes,
    content_encoding: str | None,
    *,
    max_bytes: int,
    limit_name: str = "max_envelope_bytes",
) -> bytes:
    """Decode a request body according to its ``Content-Encoding`` header.

    Stacked codings are undone in reverse: ``gzip, br`` means gzip was applied first, so the
    body is brotli-decoded, then gunzipped. Each stage's output is capped at ``max_bytes``; an
    empty body decodes to an empty body whatever the label.

    Args:
        body: the body as received.
        content_encoding: the header value; ``None`` when absent. Labels are case-insensitive.
        max_bytes: the largest decoded body accepted (also applies to an uncoded body).
        limit_name: the :class:`~resentry_core._limits.Limits` field named in the error.

    Returns:
        The decoded body.

    Raises:
        UnsupportedEncodingError: a label is not a supported coding, or too many are stacked.
        PayloadTooLargeError: the (decoded) body exceeds ``max_bytes``.
        EnvelopeError: the body is not valid data for its label (corrupt, truncated or with
            trailing bytes); the message names the coding that failed.
    """
    decoders = _decoders_for(content_encoding)
    data = body
    for label, decoder in reversed(decoders):
        if not data:
            break
        output = _Output(max_bytes, limit_name)
        try:
            decoder(memoryview(data), output)
        except (_CorruptStreamError, zlib.error, brotli.error, zstandard.ZstdError) as exc:
            raise EnvelopeError(f"failed to decode {label} payload: {exc}") from None
        del data  # free this stage's input before joining the next one's output
        data = output.value()
    if len(data) > max_bytes:
        raise PayloadTooLargeError(
            f"body of {len(data)} bytes exceeds {max_bytes} bytes",
            limit_name=limit_name,
            limit=max_bytes,
        )
    return data


_Decoder = Callable[[memoryview, _Output], None]


def normalize_encoding(content_encoding: str | None) -> str | None:
    """The codings a Content-Encoding names, lower-cased and without identity labels, joined
    with ``", "``; ``None`` when nothing is left (the body is not encoded)."""
    return ", ".join(_codings(content_encoding)) or None


# Clients send a handful of distinct values (mostly "gzip"), each read twice per request:
# to decode the body and to store its normalized label. Bounded to 64 header values.
@functools.lru_cache(maxsize=64)
def _codings(content_encoding: str | None) -> tuple[str, ...]:
    if content_encoding is None:
        return ()
    labels = (label.strip().lower() for label in content_encoding.split(","))
    return tuple(label for label in labels if label not in _IDENTITY)


def _decoders_for(content_encoding: str | None) -> list[tuple[str, _Decoder]]:
    decoders: list[tuple[str, _Decoder]] = []
    for label in _codings(content_encoding):
        decoder = _DECODERS.get(label)
        if decoder is None:
            raise UnsupportedEncodingError(label)
        decoders.append((label, decoder))
    if len(decoders) > _MAX_CODINGS:
        raise UnsupportedEncodingError(str(content_encoding).strip())
    return decoders


def _inflate(data: memoryview, wbits: int, output: _Output) -> int:
    """Decode one zlib/gzip/raw-deflate stream from ``data``; return the bytes it used."""
    decoder = zlib.decompressobj(wbits)
    fed = 0
    while not decoder.eof:
        pending: bytes | memoryview = decoder.unconsumed_tail
        if not pending and fed < len(data):
            pending = data[fed : fed + _CHUNK_BYTES]
            fed += len(pending)
        # With no input left, this drains output the decoder still holds (a long match).
        chunk = decoder.decompress(pending, output.room())
        if not chunk and not pending:
            raise _CorruptStreamError("truncated stream")
        output.write(chunk)
    # Every call's input ends at ``fed``; ``unused_data`` is what the last call left over.
    return fed - len(decoder.unused_data)


def _gunzip(data: memoryview, output: _Output) -> None:
    # A gzip body may hold several members (RFC 1952 §2.2); all of them are the content.
    position = members = 0
    while position < len(data):
        if position and data[position : position + 2].tobytes() != _GZIP_MAGIC:
            raise _CorruptStreamError(f"trailing bytes after the gzip stream at byte {position}")
        members += 1
        output.check_units(members, "gzip members")
        position += _inflate(data[position:], 16 + zlib.MAX_WBITS, output)


def _deflate(data: memoryview, output: _Output) -> None:
    if not _has_zlib_header(data):
        _read_single(data, -zlib.MAX_WBITS, output)
        return
    try:
        _read_single(data, zlib.MAX_WBITS, output)
    except (_CorruptStreamError, zlib.error) as zlib_error:
        # A raw stream can start with bytes that look like a zlib header.
        output.reset()
        try:
            _read_single(data, -zlib.MAX_WBITS, output)
        except (_CorruptStreamError, zlib.error):
            raise zlib_error from None


def _read_single(data: memoryview, wbits: int, output: _Output) -> None:
    used = _inflate(data, wbits, output)
    if used != len(data):
        raise _CorruptStreamError(f"trailing bytes after the deflate stream at byte {used}")


def _has_zlib_header(data: memoryview) -> bool:
    # RFC 1950 §2.2: CM = 8 (deflate), CINFO <= 7, and CMF*256 + FLG divisible by 31.
    if len(data) < 2:
        return False
    cmf, flg = data[0], data[1]
    return cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf * 256 + flg) % 31 == 0


def _unbrotli(data: memoryview, output: _Output) -> None:
    decoder = brotli.Decompressor()
    fed = 0
    while not decoder.is_finished():
        chunk: bytes | memoryview = b""
        if decoder.can_accept_more_data() and fed < len(data):
            chunk = data[fed : fed + _CHUNK_BYTES]
            fed += len(chunk)
        # With no input left, this drains output held back by ``output_buffer_limit``.
        decoded = decoder.process(chunk, output_buffer_limit=output.room())
        if not decoded and not chunk:
            raise _CorruptStreamError("truncated stream")
        output.write(decoded)
    if fed != len(data):
        raise _CorruptStreamError("trailing bytes after the brotli stream")


def _unzstd(data: memoryview, output: _Output) -> None:
    decoder = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW_BYTES)
    with decoder.stream_reader(data, read_size=_CHUNK_BYTES, read_across_frames=True) as reader:
        while chunk := reader.read(output.room()):
            output.write(chunk)
    # The reader stops quietly where its input ends, so a cut-off body would decode to a
    # prefix of its content: walk the frame and block headers (RFC 8878 §3.1) to find out.
    _check_zstd_frames(data, output)


def _check_zstd_frames(data: memoryview, output: _Output) -> None:
    position = units = 0
    while position < len(data):
        magic = _read_le(data, position, 4)
        units += 1
        output.check_units(units, "zstd frames and blocks")
        if magic & 0xFFFFFFF0 == _ZSTD_SKIPPABLE_MAGIC:
            position += 8 + _read_le(data, position + 4, 4)
        elif magic == _ZSTD_MAGIC:
            position, units = _zstd_frame_end(data, position + 4, units, output)
        else:
            raise _CorruptStreamError(f"trailing bytes after the zstd stream at byte {position}")
    if position > len(data):
        raise _CorruptStreamError(f"truncated frame at byte {len(data)}")


def _zstd_frame_end(
    data: memoryview, position: int, units: int, output: _Output
) -> tuple[int, int]:
    """Return where the frame whose header starts at ``position`` ends, and the unit count."""
    descriptor = _read_le(data, position, 1)
    fcs_flag, single_segment = descriptor >> 6, (descriptor >> 5) & 1
    has_checksum, dict_id_flag = (descriptor >> 2) & 1, descriptor & 3
    fcs_size = (single_segment, 2, 4, 8)[fcs_flag]
    position += 1 + (1 - single_segment) + (0, 1, 2, 4)[dict_id_flag] + fcs_size
    last = False
    while not last:
        header = _read_le(data, position, 3)
        last, block_type, block_size = bool(header & 1), (header >> 1) & 3, header >> 3
        position += 3 + (1 if block_type == 1 else block_size)  # an RLE block stores 1 byte
        units += 1
        output.check_units(units, "zstd frames and blocks")
    return position + 4 * has_checksum, units


def _read_le(data: memoryview, position: int, size: int) -> int:
    if position + size > len(data):
        raise _CorruptStreamError(f"truncated frame at byte {len(data)}")
    return int.from_bytes(data[position : position + size], "little")


_DECODERS: Final[dict[str, _Decoder]] = {
    "gzip": _gunzip,
    "x-gzip": _gunzip,
    "deflate": _deflate,
    "br": _unbrotli,
    "zstd": _unzstd,
}
