"""Regenerate ``resentry_core/_confusables.txt`` from the system's ICU (libicu, TR 39 data).

Run ``python scripts/gen_confusables.py [ICU_MAJOR]`` on a machine with libicu (Debian:
``libicu72``); it asks ICU's spoof checker for the skeleton of every NFD-stable code point and
writes those that differ from the code point itself.
"""

import ctypes
import sys
import unicodedata
from pathlib import Path

HEADER = """\
# Unicode TR 39 confusable prototypes, one line per code point: CODE<TAB>SKELETON CODES.
# Each entry is ICU {v} uspoof_getSkeleton of that one (NFD-stable) character, i.e. NFD of its
# prototype in confusables.txt (https://www.unicode.org/reports/tr39/#Confusable_Detection,
# Unicode 15.0 data). Regenerate with scripts/gen_confusables.py.
"""


def main(version: str) -> None:
    """Write the table next to ``resentry_core/_usernames.py``."""
    icu = ctypes.CDLL(f"libicui18n.so.{version}")
    open_checker = getattr(icu, f"uspoof_open_{version}")
    open_checker.restype = ctypes.c_void_p
    skeleton_of = getattr(icu, f"uspoof_getSkeleton_{version}")
    skeleton_of.restype = ctypes.c_int32
    status = ctypes.c_int(0)
    checker = open_checker(ctypes.byref(status))
    if status.value > 0:
        raise SystemExit(f"uspoof_open failed: {status.value}")
    lines = [HEADER.format(v=version)]
    for code in range(0x110000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF or unicodedata.normalize("NFD", char) != char:
            continue
        source = char.encode("utf-16-le")
        target = (ctypes.c_uint16 * 64)()
        length = skeleton_of(
            ctypes.c_void_p(checker),
            ctypes.c_uint32(0),
            ctypes.c_char_p(source),
            ctypes.c_int32(len(source) // 2),
            target,
            ctypes.c_int32(64),
            ctypes.byref(status),
        )
        skeleton = bytes(target)[: length * 2].decode("utf-16-le")
        if skeleton != char:
            codes = " ".join(f"{ord(c):04X}" for c in skeleton)
            lines.append(f"{code:04X}\t{codes}\n")
    path = Path(__file__).resolve().parents[1] / "resentry_core" / "_confusables.txt"
    path.write_text("".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "72")
