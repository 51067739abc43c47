"""Records from the non-event items of an envelope: sessions, check-ins, logs, client reports
and feedback (https://develop.sentry.dev/sdk/telemetry/: sessions, check-ins, logs, client
reports, feedbacks).

Each function reads one decoded JSON object of any shape and never raises. A payload that
lacks what its record requires gives no record (``None`` or an empty list); the item itself
is still stored raw by the caller, so nothing the SDK sent is lost.
"""

import re
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Final

from resentry_core._fields import (
    MAX_MESSAGE_CHARS,
    as_int,
    as_mapping,
    as_number,
    as_str,
    as_text,
    get_path,
    json_text,
    normalize_environment,
    normalize_release,
    normalize_uuid,
    parse_timestamp,
    truncate,
)
from resentry_core._records import (
    CheckInRecord,
    FeedbackRecord,
    LogRecord,
    SessionAggregate,
    SessionStatus,
    SessionUpdate,
)

_MAX_NAME_CHARS: Final = 128
_MAX_EMAIL_CHARS: Final = 254
_MAX_URL_CHARS: Final = 2048
_MAX_SLUG_CHARS: Final = 50  # Sentry's monitor slug column
_SESSION_STATUSES: Final[dict[object, SessionStatus]] = {
    "ok": "ok",
    "exited": "exited",
    "crashed": "crashed",
    "abnormal": "abnormal",
    "errored": "errored",
    None: "ok",
}
_CHECK_IN_STATUSES: Final = frozenset({"in_progress", "ok", "error", "missed", "timeout"})
# Sentry log levels and their OpenTelemetry severity numbers (the lowest of each range).
_LOG_SEVERITY: Final = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "error": 17, "fatal": 21}
_LOG_LEVEL_ALIASES: Final = {"warning": "warn", "critical": "fatal", "log": "info"}
_DISCARD_LISTS: Final = (
    "discarded_events",
    "rate_limited_events",
    "filtered_events",
    "filtered_sampling_events",
)
_OTEL_VALUE_TYPES: Final = (
    ("stringValue", "string"),
    ("boolValue", "boolean"),
    ("intValue", "integer"),
    ("doubleValue", "double"),
)


def session_update(payload: Mapping[str, object], *, received_at: datetime) -> SessionUpdate | None:
    """A ``session`` item as a :class:`SessionUpdate`.

    ``None`` (the update is dropped, as Relay drops invalid sessions) when ``sid`` is not a
    UUID, ``started`` is not a timestamp, ``attrs.release`` is missing or invalid, or
    ``status`` is not a session status. ``status`` defaults to ``ok``, ``timestamp`` to
    ``received_at`` and ``seq`` (the update order) to ``timestamp`` in milliseconds, as the
    sessions spec prescribes for SDKs that send none.
    """
    sid = normalize_uuid(payload.get("sid"), allow_nil=True)
    started = parse_timestamp(payload.get("started"))
    attrs = payload.get("attrs")
    release = normalize_release(get_path(attrs, "release"))
    raw_status = payload.get("status")
    status = _SESSION_STATUSES.get(raw_status) if isinstance(raw_status, str | None) else None
    if sid is None or started is None or release is None or status is None:
        return None
    timestamp = parse_timestamp(payload.get("timestamp")) or received_at
    seq = as_int(payload.get("seq"))
    duration = as_number(payload.get("duration"))
    return SessionUpdate(
        sid=sid,
        did=as_text(payload.get("did"), max_chars=_MAX_NAME_CHARS),
        release=release,
        environment=normalize_environment(get_path(attrs, "environment")),
        started=started,
        timestamp=timestamp,
        status=status,
        errors=_count(payload.get("errors")),
        init=payload.get("init") is True,
        seq=seq if seq is not None and seq >= 0 else int(timestamp.timestamp() * 1000),
        duration=duration if duration is not None and duration >= 0 else None,
    )


def session_aggregates(payload: Mapping[str, object]) -> list[SessionAggregate]:
    """The buckets of a ``sessions`` item; none when ``attrs.release`` is missing or invalid.

    Buckets whose ``started`` is not a timestamp are left out; counts default to 0.
    """
    release = normalize_release(get_path(payload, "attrs", "release"))
    aggregates = payload.get("aggregates")
    if release is None or not isinstance(aggregates, list):
        return []
    environment = normalize_environment(get_path(payload, "attrs", "environment"))
    buckets = []
    for bucket in aggregates:
        started = parse_timestamp(get_path(bucket, "started"))
        if started is None or not isinstance(bucket, Mapping):
            continue
        buckets.append(
            SessionAggregate(
                started=started,
                release=release,
                environment=environment,
                exited=_count(bucket.get("exited")),
                errored=_count(bucket.get("errored")),
                abnormal=_count(bucket.get("abnormal")),
                crashed=_count(bucket.get("crashed")),
            )
        )
    return buckets


def check_in(payload: Mapping[str, object], *, received_at: datetime) -> CheckInRecord | None:
    """A ``check_in`` item as a :class:`CheckInRecord` stamped with ``received_at``.

    ``None`` when ``check_in_id`` is not a UUID (the nil UUID is allowed), ``monitor_slug``
    slugifies to nothing, or ``status`` is missing. The slug is slugified like Sentry's
    (lower-case ASCII, ``[a-z0-9_-]``, at most 50 characters); an unknown status is ``unknown``.
    """
    check_in_id = normalize_uuid(payload.get("check_in_id"), allow_nil=True)
    slug = _slugify(as_str(payload.get("monitor_slug")) or "")
    status = as_text(payload.get("status"), max_chars=32)
    if check_in_id is None or not slug or status is None:
        return None
    status = status.lower()
    duration = as_number(payload.get("duration"))
    return CheckInRecord(
        check_in_id=check_in_id,
        monitor_slug=slug,
        status=status if status in _CHECK_IN_STATUSES else "unknown",
        duration=duration if duration is not None and duration >= 0 else None,
        environment=normalize_environment(payload.get("environment")),
        release=normalize_release(payload.get("release")),
        timestamp=received_at,
        monitor_config=as_mapping(payload.get("monitor_config")),
        trace_id=_hex_id(get_path(payload, "contexts", "trace", "trace_id"), 32),
    )


def log_records(payload: Mapping[str, object], *, received_at: datetime) -> list[LogRecord]:
    """The logs of a ``log`` container item (``{"items": [...]}``); entries without a string
    ``body`` are left out. Missing timestamps are ``received_at``.
    """
    entries = payload.get("items")
    if not isinstance(entries, list):
        return []
    records = []
    for entry in entries:
        body = as_str(get_path(entry, "body"))
        if body is None or not isinstance(entry, Mapping):
            continue
        attributes = as_mapping(entry.get("attributes")) or {}
        severity = as_int(entry.get("severity_number"))
        if severity is None:
            severity = as_int(get_path(attributes, "sentry.severity_number", "value"))
        records.append(
            _log_record(
                timestamp=parse_timestamp(entry.get("timestamp")) or received_at,
                level=entry.get("level"),
                severity=severity,
                body=body,
                attributes={k: v for k, v in attributes.items() if isinstance(v, Mapping)},
                trace_id=entry.get("trace_id"),
                span_id=entry.get("span_id"),
            )
        )
    return records


def otel_log_record(payload: Mapping[str, object], *, received_at: datetime) -> LogRecord:
    """An ``otel_log`` item (one OpenTelemetry log record in OTLP/JSON) as a :class:`LogRecord`.

    Attributes ``[{key, value: {stringValue|intValue|...}}]`` become ``{key: {type, value}}``
    like the Sentry log protocol's.
    """
    nanos = _nanos(payload.get("timeUnixNano")) or _nanos(payload.get("observedTimeUnixNano"))
    timestamp = parse_timestamp(nanos / 1e9) if nanos else None
    attributes: dict[str, object] = {}
    raw_attributes = payload.get("attributes")
    for attribute in raw_attributes if isinstance(raw_attributes, list) else ():
        key = as_str(get_path(attribute, "key"))
        if key:
            attributes.setdefault(key, _otel_attribute(get_path(attribute, "value")))
    return _log_record(
        timestamp=timestamp or received_at,
        level=payload.get("severityText"),
        severity=as_int(payload.get("severityNumber")),
        body=_otel_text(payload.get("body")),
        attributes=attributes,
        trace_id=payload.get("traceId"),
        span_id=payload.get("spanId"),
    )


def discarded_entries(payload: Mapping[str, object]) -> Iterator[tuple[str, str, int]]:
    """``(reason, category, quantity)`` of a ``client_report`` item, from ``discarded_events``
    and the legacy ``rate_limited_events``/``filtered_events``/``filtered_sampling_events``.
    Entries without a reason, a category or a positive quantity are skipped.
    """
    for name in _DISCARD_LISTS:
        entries = payload.get(name)
        for entry in entries if isinstance(entries, list) else ():
            reason = as_text(get_path(entry, "reason"), max_chars=_MAX_NAME_CHARS)
            category = as_text(get_path(entry, "category"), max_chars=_MAX_NAME_CHARS)
            quantity = as_int(get_path(entry, "quantity"))
            if reason and category and quantity is not None and quantity > 0:
                yield reason, category, quantity


def feedback_record(payload: Mapping[str, object], *, event_id: str) -> FeedbackRecord | None:
    """The feedback of a ``feedback`` item (``contexts.feedback``); ``None`` without a message."""
    feedback = get_path(payload, "contexts", "feedback")
    message = as_str(get_path(feedback, "message"))
    if message is None or not message.strip():
        return None
    return FeedbackRecord(
        event_id=event_id,
        associated_event_id=normalize_uuid(get_path(feedback, "associated_event_id")),
        name=as_text(get_path(feedback, "name"), max_chars=_MAX_NAME_CHARS),
        email=as_text(get_path(feedback, "contact_email"), max_chars=_MAX_EMAIL_CHARS),
        message=truncate(message.strip(), MAX_MESSAGE_CHARS),
        url=as_text(get_path(feedback, "url"), max_chars=_MAX_URL_CHARS),
        source="feedback",
    )


def user_report(
    payload: Mapping[str, object], *, envelope_event_id: str | None
) -> FeedbackRecord | None:
    """A legacy ``user_report`` item (``{event_id, name, email, comments}``).

    The reported event is the payload's ``event_id`` when valid, else the envelope's. ``None``
    when there is no event id or no ``comments`` text.
    """
    event_id = normalize_uuid(payload.get("event_id")) or envelope_event_id
    comments = as_str(payload.get("comments"))
    if event_id is None or comments is None or not comments.strip():
        return None
    return FeedbackRecord(
        event_id=event_id,
        associated_event_id=event_id,
        name=as_text(payload.get("name"), max_chars=_MAX_NAME_CHARS),
        email=as_text(payload.get("email"), max_chars=_MAX_EMAIL_CHARS),
        message=truncate(comments.strip(), MAX_MESSAGE_CHARS),
        url=None,
        source="user_report",
    )


def _log_record(
    *,
    timestamp: datetime,
    level: object,
    severity: int | None,
    body: str,
    attributes: Mapping[str, object],
    trace_id: object,
    span_id: object,
) -> LogRecord:
    name = as_text(level, max_chars=16)
    name = _LOG_LEVEL_ALIASES.get(name.lower(), name.lower()) if name else None
    if severity is not None and not 1 <= severity <= 24:
        severity = None
    if name not in _LOG_SEVERITY:
        # OpenTelemetry ranges: 1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, ...
        name = list(_LOG_SEVERITY)[(severity - 1) // 4] if severity is not None else "info"
    return LogRecord(
        timestamp=timestamp,
        level=name,
        body=body,
        attributes=attributes,
        trace_id=_hex_id(trace_id, 32),
        span_id=_hex_id(span_id, 16),
        severity_number=severity if severity is not None else _LOG_SEVERITY[name],
    )


def _otel_attribute(value: object) -> dict[str, object]:
    for key, kind in _OTEL_VALUE_TYPES:
        raw = get_path(value, key)
        if raw is None:
            continue
        if kind == "integer":
            raw = as_int(raw) if not isinstance(raw, str) else _int_text(raw)
        elif kind == "double":
            raw = as_number(raw)
        elif kind == "boolean" and not isinstance(raw, bool):
            raw = None
        elif kind == "string":
            raw = as_str(raw)
        if raw is not None:
            return {"type": kind, "value": raw}
    return {"type": "string", "value": _otel_text(value)}


def _otel_text(value: object) -> str:
    text = as_str(get_path(value, "stringValue"))
    return text if text is not None else (json_text(value) if value is not None else "")


def _nanos(value: object) -> int | None:
    # OTLP/JSON encodes 64-bit integers as decimal strings.
    number = _int_text(value) if isinstance(value, str) else as_int(value)
    return number if number is not None and number > 0 else None


def _int_text(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 20 else None


def _count(value: object) -> int:
    number = as_int(value)
    return number if number is not None and number >= 0 else 0


def _hex_id(value: object, length: int) -> str | None:
    text = as_str(value)
    if text is None:
        return None
    text = text.strip().replace("-", "").lower()
    return text if re.fullmatch(f"[0-9a-f]{{{length}}}", text) else None


def _slugify(text: str) -> str:
    # Django's slugify, which Sentry applies to monitor slugs, cut to Sentry's column size.
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text.lower())
    return re.sub(r"[-\s]+", "-", text).strip("-_")[:_MAX_SLUG_CHARS].strip("-_")
