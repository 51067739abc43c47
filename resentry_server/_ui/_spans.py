"""A transaction's spans as rows of a waterfall: offsets and widths in percent of the whole."""

from dataclasses import dataclass
from datetime import datetime

from resentry_core import JsonDecodeError, parse_json
from resentry_server._ui._event import text

_MAX_SPANS = 500


@dataclass(frozen=True, slots=True)
class SpanBar:
    """One bar: the span's label, depth, start offset and width (both 0-100)."""

    op: str
    description: str
    status: str
    depth: int
    start: float
    width: float
    duration_ms: float


def _seconds(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def waterfall(payload: bytes) -> list[SpanBar]:
    """The transaction itself, then its spans by start time, nested under their parents."""
    try:
        data = parse_json(payload)
    except JsonDecodeError:
        return []
    if not isinstance(data, dict):
        return []
    begin, end = _seconds(data.get("start_timestamp")), _seconds(data.get("timestamp"))
    if begin is None or end is None:
        return []
    trace = (
        data.get("contexts", {}).get("trace", {}) if isinstance(data.get("contexts"), dict) else {}
    )
    trace = trace if isinstance(trace, dict) else {}
    raw = [span for span in data.get("spans") or [] if isinstance(span, dict)][:_MAX_SPANS]
    timed = [
        (start, stop, span)
        for span in raw
        if (start := _seconds(span.get("start_timestamp"))) is not None
        and (stop := _seconds(span.get("timestamp"))) is not None
    ]
    stops = [stop for _, stop, _ in timed]
    end = max([end, *stops])
    total = max(end - begin, 1e-9)
    depth = {text(trace.get("span_id")): 0}
    bars = [
        SpanBar(
            op=text(trace.get("op") or "transaction"),
            description=text(data.get("transaction")),
            status=text(trace.get("status")),
            depth=0,
            start=0.0,
            width=100.0,
            duration_ms=(end - begin) * 1000,
        )
    ]
    for start, stop, span in sorted(timed, key=lambda item: item[0]):
        level = depth.get(text(span.get("parent_span_id")), 0) + 1
        depth[text(span.get("span_id"))] = level
        bars.append(
            SpanBar(
                op=text(span.get("op")),
                description=text(span.get("description")),
                status=text(span.get("status")),
                depth=min(level, 12),
                start=max(0.0, (start - begin) / total * 100),
                width=max(0.3, (stop - start) / total * 100),
                duration_ms=max(0.0, stop - start) * 1000,
            )
        )
    return bars
