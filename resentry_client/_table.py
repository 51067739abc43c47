"""Terminal output: aligned tables that fit the width, relative times, JSON for scripts."""

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

MIN_COLUMN = 6
GAP = "  "
_UNITS = (("days", 86400), ("h", 3600), ("min", 60), ("s", 1))


def relative_time(when: datetime, now: datetime | None = None) -> str:
    """``when`` as people say it: "just now", "3 min ago", "2 h ago", "5 days ago", or the
    date past a month (and "in 3 min" for the future)."""
    now = now or datetime.now(UTC)
    seconds = (now - when).total_seconds()
    ahead = seconds < 0
    seconds = abs(seconds)
    if seconds < 10:
        return "just now"
    if seconds >= 30 * 86400:
        return when.astimezone(UTC).date().isoformat()
    unit, size = next((u, n) for u, n in _UNITS if seconds >= n)
    count = int(seconds // size)
    text = f"{count} {'day' if unit == 'days' and count == 1 else unit}"
    return f"in {text}" if ahead else f"{text} ago"


def cell(value: object, now: datetime | None = None) -> str:
    """A value as a table cell: times relative, None empty, booleans yes/no, one line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return relative_time(value, now)
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return " ".join(str(value).split())


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> str:
    """Rows under headers, columns aligned; the widest columns are cut (with "…") until the
    table fits ``width`` characters, as far as columns of ``MIN_COLUMN`` allow."""
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
    budget = width - len(GAP) * (len(headers) - 1)
    while sum(widths) > budget:
        widest = max(range(len(widths)), key=widths.__getitem__)
        if widths[widest] <= MIN_COLUMN:
            break
        widths[widest] = max(MIN_COLUMN, widths[widest] - (sum(widths) - budget))
    lines = [
        GAP.join(_cut(text, w).ljust(w) for text, w in zip(line, widths, strict=True)).rstrip()
        for line in [list(headers), *rows]
    ]
    return "\n".join(lines)


def render_fields(pairs: Sequence[tuple[str, object]], width: int) -> str:
    """``name: value`` lines, names aligned, values cut to fit ``width``."""
    pad = max((len(name) for name, _ in pairs), default=0) + 2
    return "\n".join(
        _cut(f"{(name + ':').ljust(pad)}{cell(value)}", width).rstrip() for name, value in pairs
    )


def to_json(value: Any) -> str:
    """Models, lists and dicts as indented JSON; timestamps in ISO 8601."""
    return json.dumps(_plain(value), indent=2, ensure_ascii=False)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
