"""Content-Encoding decoding: every coding, stacking, corrupt bodies, and bounded bombs."""

import contextlib
import gzip
import io
import os
import tracemalloc
import zlib
from collections.abc import Callable

import brotli
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from resentry_core._compression import decompress
from resentry_core._errors import EnvelopeError, PayloadTooLargeError, UnsupportedEncodingError

MiB = 1024 * 1024


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


# (label, compress) for every way a body can be encoded with one coding.
ENCODERS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip", gzip.compress),
    "x-gzip": ("x-gzip", gzip.compress),
    "deflate-zlib": ("deflate", zlib.compress),
    "deflate-raw": ("deflate", _raw_deflate),
    "br": ("br", brotli.compress),
    "zstd": ("zstd", _zstd),
}
CODINGS = sorted(ENCODERS)
SAMPLE = b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n' + os.urandom(2000) + b"x" * 50_000


def _encode(coding: str, data: bytes) -> tuple[str, bytes]:
    label, compress = ENCODERS[coding]
    return label, compress(data)


@pytest.mark.parametrize("coding", CODINGS)
def test_decoder_basic(coding: str) -> None:
    """Each supported coding decodes back to the original bytes (Relay test_decoder_basic)."""
    label, body = _encode(coding, SAMPLE)
    assert decompress(body, label, max_bytes=len(SAMPLE)) == SAMPLE


@pytest.mark.parametrize("label", [None, "", "identity", "IDENTITY", "UTF-8", "utf-8", " UTF-8 "])
def test_identity_labels_leave_the_body_alone(label: str | None) -> None:
    """No header, an empty one, identity and UTF-8 (Android SDK 2.0.0) mean no coding."""
    assert decompress(b"not compressed", label, max_bytes=100) == b"not compressed"


@pytest.mark.parametrize("label", ["GZIP", " gzip ", "X-Gzip", "Gzip\t"])
def test_labels_are_case_insensitive_and_trimmed(label: str) -> None:
    """Upper-case and padded labels select the same decoder."""
    assert decompress(gzip.compress(SAMPLE), label, max_bytes=len(SAMPLE)) == SAMPLE


def test_deflate_accepts_zlib_and_raw_streams() -> None:
    """``deflate`` means zlib in HTTP, but raw deflate (Bugsink's reading) is accepted too."""
    assert decompress(zlib.compress(SAMPLE), "deflate", max_bytes=len(SAMPLE)) == SAMPLE
    assert decompress(_raw_deflate(SAMPLE), "deflate", max_bytes=len(SAMPLE)) == SAMPLE


def test_raw_deflate_that_looks_like_a_zlib_header_falls_back() -> None:
    """A raw stream whose first bytes pass the zlib header check still decodes as raw.

    The first block is a stored block whose ignored padding bits make the byte 0x78, and whose
    LEN byte makes ``0x78 0x01`` a valid zlib header; read as zlib it is corrupt.
    """
    raw = bytes([0x78, 0x01, 0x00, 0xFE, 0xFF]) + b"x" + bytes([0x01, 0x00, 0x00, 0xFF, 0xFF])
    with pytest.raises(zlib.error):
        zlib.decompress(raw)
    assert decompress(raw, "deflate", max_bytes=10) == b"x"


def test_multi_member_gzip_decodes_every_member() -> None:
    """Concatenated gzip members are one valid gzip body (RFC 1952 §2.2)."""
    body = gzip.compress(b"first ") + gzip.compress(b"") + gzip.compress(b"second")
    assert decompress(body, "gzip", max_bytes=100) == b"first second"


def test_stacked_codings_are_undone_in_reverse_order() -> None:
    """``gzip, br`` means gzip was applied first: brotli is decoded first, then gzip."""
    body = brotli.compress(gzip.compress(SAMPLE))
    assert decompress(body, "gzip, br", max_bytes=len(SAMPLE)) == SAMPLE
    with pytest.raises(EnvelopeError, match="failed to decode gzip payload"):
        decompress(body, "br, gzip", max_bytes=len(SAMPLE))  # the outer layer is not gzip


def test_stacked_codings_skip_identity_entries() -> None:
    """Identity entries in a list of codings are ignored."""
    body = _zstd(zlib.compress(SAMPLE))
    assert decompress(body, "deflate, identity, zstd", max_bytes=len(SAMPLE)) == SAMPLE


@pytest.mark.parametrize("label", ["lz4", "compress", "gzip, lz4", "gzip;q=1", "x-deflate"])
def test_unknown_encoding_is_unsupported(label: str) -> None:
    """An unknown label raises UnsupportedEncodingError (415) before any decoding (case 50)."""
    with pytest.raises(UnsupportedEncodingError) as info:
        decompress(b"\x00garbage", label, max_bytes=100)
    assert info.value.encoding in label


def test_too_many_stacked_codings_are_unsupported() -> None:
    """Four stacked codings decode; five are refused, as each could cost a full decode."""
    four = gzip.compress(gzip.compress(gzip.compress(gzip.compress(b"payload"))))
    assert decompress(four, "gzip, gzip, gzip, gzip", max_bytes=100) == b"payload"
    with pytest.raises(UnsupportedEncodingError):
        decompress(gzip.compress(four), "gzip, gzip, gzip, gzip, gzip", max_bytes=100)


@pytest.mark.parametrize("label", ["gzip", "x-gzip", "deflate", "br", "zstd"])
def test_empty_body_decodes_to_empty_whatever_the_label(label: str) -> None:
    """An empty body has nothing to decode; the envelope parser reports it as empty."""
    assert decompress(b"", label, max_bytes=100) == b""


@pytest.mark.parametrize("label", ["gzip", "deflate", "br", "zstd"])
def test_plain_body_labelled_compressed_names_the_failing_decoder(label: str) -> None:
    """A body that says it is compressed but is plain JSON raises EnvelopeError (case 50)."""
    with pytest.raises(EnvelopeError, match=f"failed to decode {label} payload") as info:
        decompress(b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n{}', label, max_bytes=1000)
    assert not isinstance(info.value, PayloadTooLargeError)


@pytest.mark.parametrize("coding", CODINGS)
def test_truncated_stream_is_refused(coding: str) -> None:
    """A body cut short raises EnvelopeError instead of decoding to a prefix."""
    label, body = _encode(coding, SAMPLE)
    for cut in (1, 4, len(body) // 2):
        with pytest.raises(EnvelopeError, match=f"failed to decode {label} payload"):
            decompress(body[:-cut], label, max_bytes=len(SAMPLE))


@pytest.mark.parametrize("coding", CODINGS)
def test_trailing_garbage_is_refused(coding: str) -> None:
    """Bytes after the end of the compressed stream raise EnvelopeError."""
    label, body = _encode(coding, SAMPLE)
    for garbage in (b"\x00", b"junk", b"\x1f"):
        with pytest.raises(EnvelopeError, match=f"failed to decode {label} payload"):
            decompress(body + garbage, label, max_bytes=len(SAMPLE))


def test_corrupt_gzip_checksum_is_refused() -> None:
    """A flipped bit in the gzip CRC32 trailer is detected."""
    body = bytearray(gzip.compress(SAMPLE))
    body[-5] ^= 0x01
    with pytest.raises(EnvelopeError, match="gzip"):
        decompress(bytes(body), "gzip", max_bytes=len(SAMPLE))


def test_zstd_skippable_frames_and_several_frames() -> None:
    """Skippable frames are ignored and consecutive zstd frames are concatenated."""
    skippable = (0x184D2A53).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc"
    body = skippable + _zstd(b"one ") + skippable + _zstd(b"two")
    assert decompress(body, "zstd", max_bytes=100) == b"one two"


def test_zstd_checksum_mismatch_is_refused() -> None:
    """A zstd frame whose content checksum does not match is refused."""
    body = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(SAMPLE))
    body[-1] ^= 0x01
    with pytest.raises(EnvelopeError, match="zstd"):
        decompress(bytes(body), "zstd", max_bytes=len(SAMPLE))


def test_zstd_window_over_8_mib_is_refused() -> None:
    """A zstd frame asking for a 128 MiB window is refused (RFC 9659 caps it at 8 MiB)."""
    params = zstandard.ZstdCompressionParameters(window_log=27, write_content_size=False)
    sink = io.BytesIO()
    writer = zstandard.ZstdCompressor(compression_params=params).stream_writer(sink, closefd=False)
    writer.write(b"abc" * 1000)
    writer.flush(zstandard.FLUSH_FRAME)
    assert zstandard.get_frame_parameters(sink.getvalue()).window_size == 128 * MiB
    with pytest.raises(EnvelopeError, match="zstd"):
        decompress(sink.getvalue(), "zstd", max_bytes=MiB)


def test_many_empty_gzip_members_are_refused() -> None:
    """Thousands of empty gzip members (CPU burnt for nothing) are refused."""
    with pytest.raises(EnvelopeError, match="gzip members"):
        decompress(gzip.compress(b"") * 5000, "gzip", max_bytes=MiB)


def test_many_empty_zstd_blocks_are_refused() -> None:
    """A zstd frame of thousands of empty RLE blocks is refused."""
    header = (0xFD2FB528).to_bytes(4, "little") + bytes([0x20, 0x00])  # single segment, size 0
    empty_rle_block = (1 << 1).to_bytes(3, "little") + b"\x00"
    last_block = (1 | 1 << 1).to_bytes(3, "little") + b"\x00"
    with pytest.raises(EnvelopeError, match="zstd frames and blocks"):
        decompress(header + empty_rle_block * 5000 + last_block, "zstd", max_bytes=MiB)


def test_a_few_hundred_gzip_members_with_content_decode() -> None:
    """A legitimate multi-member body is well inside the member allowance."""
    members = [f"member {i};".encode() for i in range(300)]
    body = b"".join(gzip.compress(member) for member in members)
    assert decompress(body, "gzip", max_bytes=MiB) == b"".join(members)


@pytest.mark.parametrize("coding", CODINGS)
def test_cap_is_inclusive(coding: str) -> None:
    """Output of exactly ``max_bytes`` is accepted; one byte more is refused (case 52)."""
    label, body = _encode(coding, SAMPLE)
    assert decompress(body, label, max_bytes=len(SAMPLE)) == SAMPLE
    with pytest.raises(PayloadTooLargeError) as info:
        decompress(body, label, max_bytes=len(SAMPLE) - 1)
    assert info.value.limit_name == "max_envelope_bytes"
    assert info.value.limit == len(SAMPLE) - 1


def test_uncompressed_body_over_cap_is_too_large() -> None:
    """The cap applies to an identity body as well."""
    with pytest.raises(PayloadTooLargeError):
        decompress(b"x" * 11, None, max_bytes=10)


def test_limit_name_can_be_chosen_by_the_caller() -> None:
    """The store endpoint reports its own limit name."""
    with pytest.raises(PayloadTooLargeError) as info:
        decompress(gzip.compress(SAMPLE), "gzip", max_bytes=10, limit_name="max_event_bytes")
    assert info.value.limit_name == "max_event_bytes"


def test_stacked_stage_output_is_capped_too() -> None:
    """An inner stage that inflates past the cap is refused even if the outer one is small."""
    inner = gzip.compress(bytes(10 * MiB))
    with pytest.raises(PayloadTooLargeError):
        decompress(brotli.compress(inner), "gzip, br", max_bytes=MiB)


# --- Decompression bombs: refused at the cap, with memory bounded by the cap ---------------

BOMB_CAP = 16 * MiB
# Allowance above the cap: one 64 KiB output chunk, zlib's window and tables, and the list of
# chunks; it does not grow with the cap (a growing buffer's slack would be cap / 8 = 2 MiB).
# tracemalloc sees Python's allocators (output chunks, zlib's state); brotli's and zstd's
# windows are malloc'd by the C libraries and bounded by their formats (16 MiB, 8 MiB).
MEMORY_SLACK = 1 * MiB


def _gzip_bomb_10_gib() -> bytes:
    # 1024 members of 10 MiB of zeros: a valid 10 GiB gzip body of about 10 MB.
    return gzip.compress(bytes(10 * MiB), 9) * 1024


def _deflate_bomb(wbits: int, total_mib: int) -> bytes:
    # One stream: a full flush resets the compressor, so every 1 MiB block compresses to the
    # same bytes and can be repeated; the trailer is unreachable before the cap.
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    first = compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first + block * (total_mib - 1) + compressor.flush()


def _brotli_bomb(total_mib: int) -> bytes:
    compressor = brotli.Compressor(quality=1)
    parts = [compressor.process(bytes(MiB)) for _ in range(total_mib)]
    return b"".join([*parts, compressor.finish()])


def _zstd_bomb(total_mib: int) -> bytes:
    return zstandard.ZstdCompressor().compress(bytes(16 * MiB)) * (total_mib // 16)


def _peak_memory_while(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        with pytest.raises(PayloadTooLargeError) as info:
            action()
        assert info.value.limit_name == "max_envelope_bytes"
        return tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """A 10 GiB gzip bomb (Relay's 10GB.gz fixture, built in memory)."""
    return _gzip_bomb_10_gib()


def test_decoder_overflow(gzip_bomb: bytes) -> None:
    """A 10 GiB gzip bomb is refused at the cap, holding no more than the cap (case 51).

    Mirrors Relay's test_decoder_overflow; memory is measured, not time.
    """
    assert len(gzip_bomb) < 11 * MiB
    peak = _peak_memory_while(lambda: decompress(gzip_bomb, "gzip", max_bytes=BOMB_CAP))
    assert peak < BOMB_CAP + MEMORY_SLACK


@pytest.mark.parametrize(
    ("label", "make_bomb"),
    [
        ("deflate", lambda: _deflate_bomb(zlib.MAX_WBITS, 1024)),
        ("deflate", lambda: _deflate_bomb(-zlib.MAX_WBITS, 1024)),
        ("gzip", lambda: _deflate_bomb(16 + zlib.MAX_WBITS, 1024)),
        ("br", lambda: _brotli_bomb(256)),
        ("zstd", lambda: _zstd_bomb(1024)),
    ],
    ids=["deflate-zlib", "deflate-raw", "gzip-single-member", "br", "zstd"],
)
def test_bomb_is_refused_with_bounded_memory(label: str, make_bomb: Callable[[], bytes]) -> None:
    """Every decoder stops at the cap with memory bounded by the cap plus a constant."""
    bomb = make_bomb()
    assert len(bomb) < BOMB_CAP  # a small body ...
    peak = _peak_memory_while(lambda: decompress(bomb, label, max_bytes=BOMB_CAP))
    assert peak < BOMB_CAP + MEMORY_SLACK  # ... that never costs much more than the cap


# --- Properties -------------------------------------------------------------------------------


@given(data=st.binary(max_size=4096), coding=st.sampled_from(CODINGS))
def test_round_trips_every_coding(data: bytes, coding: str) -> None:
    """Compressing with any supported coding and decoding gives the bytes back."""
    label, body = _encode(coding, data)
    assert decompress(body, label, max_bytes=len(data)) == data


@given(data=st.binary(max_size=2048))
def test_round_trips_stacked_codings(data: bytes) -> None:
    """Three stacked codings decode back to the original bytes.

    Each stage's output is capped, so the cap leaves room for the inner compressed layers.
    """
    body = _zstd(brotli.compress(gzip.compress(data)))
    assert decompress(body, "gzip, br, zstd", max_bytes=len(data) + 1024) == data


@given(data=st.binary(max_size=4096), coding=st.sampled_from(CODINGS), slack=st.integers(-50, 50))
def test_output_over_the_cap_and_only_that_is_refused(data: bytes, coding: str, slack: int) -> None:
    """The result is refused exactly when it is larger than ``max_bytes``."""
    label, body = _encode(coding, data)
    max_bytes = max(0, len(data) + slack)
    if len(data) > max_bytes:
        with pytest.raises(PayloadTooLargeError):
            decompress(body, label, max_bytes=max_bytes)
    else:
        assert decompress(body, label, max_bytes=max_bytes) == data


@given(
    body=st.binary(max_size=2048),
    label=st.sampled_from(["gzip", "x-gzip", "deflate", "br", "zstd", "gzip, br"]),
)
def test_arbitrary_bytes_decode_or_raise_envelope_error(body: bytes, label: str) -> None:
    """Arbitrary bytes under any label give bytes or EnvelopeError, never another exception."""
    try:
        result = decompress(body, label, max_bytes=64 * 1024)
    except EnvelopeError:
        return
    assert len(result) <= 64 * 1024


@given(data=st.binary(min_size=1, max_size=2048), coding=st.sampled_from(CODINGS))
def test_corrupted_streams_raise_envelope_error_only(data: bytes, coding: str) -> None:
    """A valid stream with one byte flipped decodes or raises EnvelopeError, nothing else."""
    label, body = _encode(coding, data)
    corrupted = bytearray(body)
    corrupted[len(body) // 2] ^= 0x5A
    with contextlib.suppress(EnvelopeError):
        decompress(bytes(corrupted), label, max_bytes=4096)
