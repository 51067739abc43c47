"""Usernames that cannot impersonate each other.

A username is kept as typed, after Unicode NFKC normalization (full-width ``Admin``,
U+FF21 U+FF44 …, is stored as ``Admin``). Two usernames are *the same* when their case-folded
NFKC forms match (:attr:`Username.key`, what logins look up), and *confusable* when their
Unicode TR 39 skeletons match (:attr:`Username.skeleton`): ``admin``, ``ADMIN`` and
``\u0430dmin`` (a Cyrillic a) all have the skeleton ``adrnin``. Storage keeps both columns
unique, so a new name whose skeleton equals an existing user's is refused (409). Invisible
and control characters (zero width space, bidi controls, variation selectors, Hangul
fillers, …) are refused outright.

The skeleton follows https://www.unicode.org/reports/tr39/#Confusable_Detection (revision 27):
``NFD(map each character to its prototype(NFD(x)))``, with the prototypes of
``_confusables.txt`` (generated from ICU's copy of confusables.txt).
"""

import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Final

from resentry_core._errors import InvalidInputError

MAX_USERNAME_LENGTH: Final = 150

# Unicode general categories a username may not contain: controls, format characters (zero
# width joiners, bidi overrides), surrogates, private use, unassigned, and line/paragraph
# separators.
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Default_Ignorable_Code_Point characters outside those categories: they render as nothing.
_INVISIBLE: Final = frozenset(
    [
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0),
        *range(0x180B, 0x1810),  # Mongolian free variation selectors
        *range(0xFE00, 0xFE10),  # variation selectors
        *range(0xE0100, 0xE01F0),  # variation selectors supplement
    ]
)


@dataclass(frozen=True, slots=True)
class Username:
    """A checked username and the two forms it is compared by.

    Attributes:
        display: the name as shown: trimmed and NFKC-normalized.
        key: the case-folded NFKC form; equal keys name the same user (login looks it up).
        skeleton: the TR 39 confusable skeleton of ``key``; equal skeletons are refused.
    """

    display: str
    key: str
    skeleton: str


def check_username(name: str) -> Username:
    """Normalize and check a username.

    Raises:
        InvalidInputError: it is blank, longer than 150 characters, or contains an invisible,
            control, format or unassigned character (the message names it).
    """
    display = unicodedata.normalize("NFKC", name).strip()
    if not display or len(display) > MAX_USERNAME_LENGTH:
        raise InvalidInputError(f"a username has 1 to {MAX_USERNAME_LENGTH} characters")
    for char in display:
        if (
            unicodedata.category(char) in _REFUSED_CATEGORIES
            or ord(char) in _INVISIBLE
            or (char.isspace() and char != " ")
        ):
            raise InvalidInputError(
                f"a username may not contain the invisible or control character "
                f"U+{ord(char):04X} ({unicodedata.name(char, 'unnamed')})"
            )
    key = username_key(display)
    return Username(display=display, key=key, skeleton=skeleton(key))


def username_key(name: str) -> str:
    """The form logins compare: NFKC, case-folded, NFKC again (as Unicode's NFKC_Casefold)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).strip().casefold())


def skeleton(text: str) -> str:
    """The Unicode TR 39 skeleton of ``text``: equal skeletons look alike."""
    table = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(table.get(char, char) for char in decomposed))


@cache
def _prototypes() -> dict[str, str]:
    text = files("resentry_core").joinpath("_confusables.txt").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, target = line.split("\t")
            table[chr(int(code, 16))] = "".join(chr(int(part, 16)) for part in target.split())
    return table
