"""Envelope preparation: records for every item kind, from real sentry-python envelopes and from
the payload shapes other SDKs send; event id rules; rejection of undecodable JSON."""

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import sentry_sdk
from hypothesis import given
from hypothesis import strategies as st
from sentry_sdk import logger as sdk_logger
from sentry_sdk.crons import capture_checkin
from sentry_sdk.sessions import track_session

from resentry_core._envelope import Envelope, EnvelopeHeaders, Item
from resentry_core._errors import EnvelopeError
from resentry_core._fields import normalize_uuid
from resentry_core._parser import parse_envelope
from resentry_core._prepare import JSON_ITEM_TYPES, prepare_envelope
from resentry_core._records import (
    CheckInRecord,
    DiscardedCount,
    FeedbackRecord,
    LogRecord,
    PreparedEnvelope,
    SessionAggregate,
)
from tests.core.json_strategies import event_payloads, json_values
from tests.core.sdk_envelopes import sentry_sdk_envelopes

if TYPE_CHECKING:
    from sentry_sdk._types import MonitorConfig

RECEIVED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HEADER_ID = "22d00b3fd1b14b5d8d2049d138cd8a9c"
PAYLOAD_ID = "9ec79c33ec9942ab8353589fcb2e04dc"
HEX32 = re.compile(r"[0-9a-f]{32}")


def prepare(raw: bytes) -> PreparedEnvelope:
    """Parse ``raw`` with the real parser and prepare it."""
    return prepare_envelope(
        parse_envelope(raw), project_id=7, received_at=RECEIVED, raw=raw, raw_encoding=None
    )


def wire(header: dict[str, Any], *items: tuple[str, object]) -> bytes:
    """An envelope in wire format; JSON-able payloads are encoded, bytes are sent as they are."""
    lines = [json.dumps(header).encode()]
    for item_type, payload in items:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        lines += [json.dumps({"type": item_type, "length": len(body)}).encode(), body]
    return b"\n".join(lines) + b"\n"


def build(event_id: str | None, *items: Item) -> Envelope:
    """An envelope value built directly (for what the parser would already refuse)."""
    return Envelope(headers=EnvelopeHeaders(fields={}, event_id=event_id), items=items)


def prepare_value(envelope: Envelope) -> PreparedEnvelope:
    return prepare_envelope(
        envelope, project_id=7, received_at=RECEIVED, raw=b"", raw_encoding=None
    )


def item(item_type: str, payload: object) -> Item:
    """An item whose payload is ``payload`` as JSON (surrogates escaped, NaN allowed)."""
    return Item(headers={"type": item_type}, payload=json.dumps(payload).encode())


# --- real sentry-python envelopes ---------------------------------------------------------


def _raise_chained() -> None:
    try:
        dict[str, int]()["price"]
    except KeyError as exc:
        raise ValueError("cannot price cart 7") from exc


def test_real_sdk_error_event() -> None:
    """A chained exception from sentry-python becomes one grouped error event whose id is the
    envelope's, next to a raw item record of its exact payload."""
    with sentry_sdk_envelopes(release="shop@1.0", environment="prod") as envelopes:
        sentry_sdk.set_tag("region", "eu")
        try:
            _raise_chained()
        except ValueError:
            sentry_sdk.capture_exception()
    (raw,) = envelopes
    prepared = prepare(raw)
    (event,) = prepared.events
    header_id = json.loads(raw.split(b"\n", 1)[0])["event_id"]
    assert prepared.event_id == event.event_id == header_id
    assert (event.type, event.level, event.platform) == ("error", "error", "python")
    assert event.title == "ValueError: cannot price cart 7"
    assert event.culprit == "tests.core.test_prepare in _raise_chained"
    assert (event.release, event.environment) == ("shop@1.0", "prod")
    payload = json.loads(raw.split(b"\n")[2])
    assert event.tags == {"region": "eu", "server_name": payload["server_name"]}
    assert event.sdk is not None
    assert event.sdk["name"] == "sentry.python"
    assert event.fingerprint is not None
    assert re.fullmatch(r"[0-9a-f]{64}", event.fingerprint)
    assert datetime.now(UTC) - event.timestamp < timedelta(minutes=5)
    (record,) = prepared.items
    assert (record.position, record.type, record.headers["type"]) == (0, "event", "event")
    assert json.loads(bytes(record.payload))["event_id"] == header_id
    assert (prepared.project_id, prepared.received_at, prepared.raw) == (7, RECEIVED, raw)
    assert prepared.headers["event_id"] == header_id


def test_real_sdk_message_and_log_events() -> None:
    """capture_message and logentry events are default events titled by their message."""
    with sentry_sdk_envelopes() as envelopes:
        sentry_sdk.capture_message("disk full", level="warning")
        sentry_sdk.capture_event(
            {"logentry": {"message": "job %s failed", "params": [17]}, "logger": "jobs"}
        )
    message, log = (prepare(raw).events[0] for raw in envelopes)
    assert (message.type, message.level, message.title, message.message) == (
        "default",
        "warning",
        "disk full",
        "disk full",
    )
    assert (log.title, log.culprit, log.message) == ("job 17 failed", "jobs", "job 17 failed")


def test_real_sdk_transaction() -> None:
    """A sentry-python transaction is an ungrouped transaction event with op, status,
    duration and span count."""
    with (
        sentry_sdk_envelopes(traces_sample_rate=1.0) as envelopes,
        sentry_sdk.start_transaction(name="GET /cart", op="http.server") as transaction,
    ):
        for name in ("load", "save"):
            with sentry_sdk.start_span(op="db", name=name):
                pass
        transaction.set_status("ok")
    (raw,) = envelopes
    (event,) = prepare(raw).events
    assert (event.type, event.level, event.fingerprint) == ("transaction", "info", None)
    assert (event.title, event.culprit, event.transaction) == (
        "GET /cart",
        "GET /cart",
        "GET /cart",
    )
    assert (event.op, event.status, event.span_count) == ("http.server", "ok", 2)
    assert event.duration_ms is not None
    assert 0 <= event.duration_ms < 60_000


def test_real_sdk_sessions() -> None:
    """A sentry-python session update and request-mode aggregates become session records."""
    with sentry_sdk_envelopes(release="shop@1.0", environment="prod") as envelopes:
        sentry_sdk.start_session()
        sentry_sdk.end_session()
        scope = sentry_sdk.get_isolation_scope()
        for fail in (False, True):
            with track_session(scope, session_mode="request"):
                if fail:
                    sentry_sdk.capture_exception(RuntimeError("boom"))
    prepared = [prepare(raw) for raw in envelopes]
    (update,) = [s for p in prepared for s in p.sessions]
    assert (update.release, update.environment, update.status, update.init) == (
        "shop@1.0",
        "prod",
        "exited",
        True,
    )
    assert HEX32.fullmatch(update.sid)
    assert update.seq == int(update.timestamp.timestamp() * 1000)
    (aggregate,) = [a for p in prepared for a in p.session_aggregates]
    assert (aggregate.release, aggregate.environment) == ("shop@1.0", "prod")
    assert (aggregate.exited, aggregate.errored, aggregate.crashed, aggregate.abnormal) == (
        1,
        1,
        0,
        0,
    )
    assert all(p.event_id is None for p in prepared if p.sessions or p.session_aggregates)


def test_real_sdk_check_ins() -> None:
    """sentry-python cron check-ins become check-in records stamped with the receive time."""
    config: MonitorConfig = {
        "schedule": {"type": "crontab", "value": "0 * * * *"},
        "checkin_margin": 5,
    }
    with sentry_sdk_envelopes(release="jobs@3", environment="prod") as envelopes:
        check_in_id = capture_checkin("Nightly Report", status="in_progress", monitor_config=config)
        capture_checkin("Nightly Report", check_in_id=check_in_id, status="ok", duration=12.5)
    started, finished = (prepare(raw).check_ins[0] for raw in envelopes)
    assert started.check_in_id == finished.check_in_id == check_in_id
    assert (started.monitor_slug, started.status, started.monitor_config) == (
        "nightly-report",
        "in_progress",
        config,
    )
    assert (finished.status, finished.duration, finished.release, finished.environment) == (
        "ok",
        12.5,
        "jobs@3",
        "prod",
    )
    assert finished.timestamp == RECEIVED
    assert finished.trace_id is not None
    assert HEX32.fullmatch(finished.trace_id)


def test_real_sdk_logs() -> None:
    """sentry-python structured logs become log records with level, severity and attributes."""
    with sentry_sdk_envelopes(enable_logs=True) as envelopes:
        sdk_logger.warning("disk {mount} at {pct}%", mount="/var", pct=91)
        sdk_logger.info("started")
    logs = [log for raw in envelopes for log in prepare(raw).logs]
    assert [(log.body, log.level, log.severity_number) for log in logs] == [
        ("disk /var at 91%", "warn", 13),
        ("started", "info", 9),
    ]
    assert logs[0].attributes["sentry.message.template"] == {
        "value": "disk {mount} at {pct}%",
        "type": "string",
    }
    assert logs[0].trace_id is not None
    assert datetime.now(UTC) - logs[0].timestamp < timedelta(minutes=5)


def test_real_sdk_attachment_belongs_to_its_event() -> None:
    """An attachment sent with an event is recorded under that event's id."""
    with sentry_sdk_envelopes() as envelopes:
        sentry_sdk.add_attachment(bytes=b"line 1\nline 2", filename="notes.txt")
        sentry_sdk.capture_message("with attachment")
    (raw,) = envelopes
    prepared = prepare(raw)
    (attachment,) = prepared.attachments
    assert attachment.event_id == prepared.events[0].event_id == prepared.event_id
    assert (attachment.filename, attachment.size, attachment.attachment_type) == (
        "notes.txt",
        13,
        "event.attachment",
    )
    assert prepared.items[attachment.item_position].payload == b"line 1\nline 2"


# --- feedback -----------------------------------------------------------------------------

FEEDBACK = {
    "event_id": PAYLOAD_ID,
    "type": "feedback",
    "timestamp": 1714564800.5,
    "level": "info",
    "platform": "javascript",
    "contexts": {
        "feedback": {
            "message": "The checkout button does nothing",
            "contact_email": "jane@example.com",
            "name": "Jane",
            "url": "https://shop.example.com/cart",
            "source": "widget",
            "associated_event_id": "6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
        }
    },
}


def test_feedback_item_makes_an_event_and_a_feedback_record() -> None:
    """A feedback item (JavaScript SDK shape) is an ungrouped feedback event plus feedback."""
    prepared = prepare(wire({"event_id": PAYLOAD_ID}, ("feedback", FEEDBACK)))
    (event,) = prepared.events
    assert (event.type, event.fingerprint, event.title) == (
        "feedback",
        None,
        "The checkout button does nothing",
    )
    assert prepared.feedback == (
        FeedbackRecord(
            event_id=PAYLOAD_ID,
            associated_event_id="6ba7b8109dad11d180b400c04fd430c8",
            name="Jane",
            email="jane@example.com",
            message="The checkout button does nothing",
            url="https://shop.example.com/cart",
            source="feedback",
        ),
    )


def test_feedback_without_message_has_no_feedback_record() -> None:
    """Feedback without a message keeps its event and raw item but yields no feedback record."""
    payload = {**FEEDBACK, "contexts": {"feedback": {"message": "  ", "name": "Jane"}}}
    prepared = prepare(wire({}, ("feedback", payload)))
    assert [e.type for e in prepared.events] == ["feedback"]
    assert prepared.feedback == ()


@pytest.mark.parametrize(
    ("header_id", "payload", "expected_id"),
    [
        (None, {"event_id": PAYLOAD_ID, "comments": "It broke"}, PAYLOAD_ID),
        (HEADER_ID, {"comments": "It broke"}, HEADER_ID),
        (HEADER_ID, {"event_id": "not-a-uuid", "comments": "It broke"}, HEADER_ID),
        (None, {"comments": "It broke"}, None),
        (HEADER_ID, {"event_id": PAYLOAD_ID, "comments": ""}, None),
        (HEADER_ID, {"event_id": PAYLOAD_ID}, None),
    ],
)
def test_user_report(
    header_id: str | None, payload: dict[str, object], expected_id: str | None
) -> None:
    """A legacy user report refers to its payload's event id, else the envelope's; without an
    id or comments it yields no record (the raw item is kept)."""
    header = {"event_id": header_id} if header_id else {}
    full = {"name": "Jane", "email": "jane@example.com", **payload}
    prepared = prepare(wire(header, ("user_report", full)))
    assert [i.type for i in prepared.items] == ["user_report"]
    if expected_id is None:
        assert prepared.feedback == ()
        return
    assert prepared.feedback == (
        FeedbackRecord(
            event_id=expected_id,
            associated_event_id=expected_id,
            name="Jane",
            email="jane@example.com",
            message="It broke",
            url=None,
            source="user_report",
        ),
    )


# --- event ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "payload", "expected"),
    [
        ({"event_id": HEADER_ID}, {"event_id": PAYLOAD_ID}, HEADER_ID),
        ({"event_id": HEADER_ID}, {"event_id": "garbage"}, HEADER_ID),
        ({}, {"event_id": "9EC79C33-EC99-42AB-8353-589FCB2E04DC"}, PAYLOAD_ID),
        ({}, {"message": "no id anywhere"}, "generated"),
        ({}, {"event_id": None}, "generated"),
        ({}, {"event_id": "00000000-0000-0000-0000-000000000000"}, "generated"),
    ],
)
def test_event_id(header: dict[str, Any], payload: dict[str, object], expected: str) -> None:
    """The envelope header's id wins over the payload's (as in Relay); else the payload's,
    normalized; else a new one (as Relay generates), which attachments of the envelope share."""
    prepared = prepare(wire(header, ("event", payload), ("attachment", b"x")))
    (event,) = prepared.events
    assert prepared.event_id == event.event_id == prepared.attachments[0].event_id
    if expected == "generated":
        assert HEX32.fullmatch(event.event_id)
        assert event.event_id not in (HEADER_ID, PAYLOAD_ID, "0" * 32)
    else:
        assert event.event_id == expected


@pytest.mark.parametrize("bad_id", ["garbage", "9ec79c33ec9942ab8353589fcb2e04d", 42, ["x"]])
def test_invalid_payload_event_id_without_header_id_is_rejected(bad_id: object) -> None:
    """An event whose payload id is invalid, with no envelope id to win over it, is refused."""
    raw = wire({}, ("attachment", b"x"), ("event", {"event_id": bad_id}))
    with pytest.raises(EnvelopeError, match="invalid event_id in 'event' item") as caught:
        prepare(raw)
    assert caught.value.item_index == 1


def test_envelope_without_event_item_keeps_the_header_id() -> None:
    """Without an event-creating item the envelope id is the header's, or none."""
    assert prepare(wire({"event_id": HEADER_ID}, ("attachment", b"x"))).event_id == HEADER_ID
    assert prepare(wire({}, ("client_report", {"discarded_events": []}))).event_id is None


def test_second_event_creating_item_is_rejected() -> None:
    """Two event-creating items (event + feedback) in one envelope are refused, never stored
    under one id; the parser refuses them first, this guards direct callers."""
    envelope = build(HEADER_ID, item("event", {}), item("feedback", FEEDBACK))
    with pytest.raises(EnvelopeError, match="more than one") as caught:
        prepare_value(envelope)
    assert caught.value.item_index == 1


# --- raw items and JSON errors ------------------------------------------------------------

RAW_ONLY = (
    "profile",
    "profile_chunk",
    "replay_event",
    "replay_recording",
    "span",
    "statsd",
    "trace_metric",
    "something_new",
)


def test_every_item_is_kept_in_order() -> None:
    """Every item, of any type, becomes an item record with its headers and exact payload."""
    items = [(kind, f"payload of {kind}\r\n\x00".encode()) for kind in RAW_ONLY]
    prepared = prepare(wire({}, *items))
    assert [(r.position, r.type, r.payload) for r in prepared.items] == [
        (position, kind, payload) for position, (kind, payload) in enumerate(items)
    ]
    assert all(r.headers["length"] == len(r.payload) for r in prepared.items)
    assert (prepared.events, prepared.logs, prepared.feedback) == ((), (), ())


@pytest.mark.parametrize("item_type", sorted(JSON_ITEM_TYPES))
@pytest.mark.parametrize("payload", [b"{not json", b"\xff\xfe", b"", b"[1, 2]", b'"text"', b"null"])
def test_uninterpretable_json_is_rejected(item_type: str, payload: bytes) -> None:
    """An item whose JSON must be read but is not a JSON object rejects the whole envelope."""
    raw = wire({"event_id": HEADER_ID}, ("attachment", b"fine"), (item_type, payload))
    with pytest.raises(EnvelopeError, match=f"invalid JSON in '{item_type}' item") as caught:
        prepare(raw)
    assert caught.value.item_index == 1


def test_attachment_defaults() -> None:
    """An attachment without filename or content type gets ``attachment`` and octet-stream."""
    raw = wire({"event_id": HEADER_ID}, ("attachment", b"\x00\x01"))
    (attachment,) = prepare(raw).attachments
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "attachment",
        "application/octet-stream",
        2,
    )
    assert attachment.event_id == HEADER_ID


# --- sessions -----------------------------------------------------------------------------

SESSION = {
    "sid": "bd458200-37b5-4975-bedc-b92f8dda3c95",
    "did": "user-42",
    "started": "2024-05-01T11:00:00Z",
    "timestamp": "2024-05-01T11:05:00Z",
    "status": "crashed",
    "errors": 2,
    "seq": 4,
    "duration": 300.5,
    "attrs": {"release": "app@1.0", "environment": "prod"},
}


def test_session_update_fields() -> None:
    """A full session update keeps every field, the sid normalized."""
    (update,) = prepare(wire({}, ("session", SESSION))).sessions
    assert (update.sid, update.did, update.release, update.environment) == (
        "bd45820037b54975bedcb92f8dda3c95",
        "user-42",
        "app@1.0",
        "prod",
    )
    assert (update.status, update.errors, update.seq, update.duration, update.init) == (
        "crashed",
        2,
        4,
        300.5,
        False,
    )
    assert update.started == datetime(2024, 5, 1, 11, tzinfo=UTC)


def test_session_defaults() -> None:
    """Status defaults to ok, errors to 0, the timestamp to the receive time and seq to that
    time in milliseconds."""
    minimal = {"sid": SESSION["sid"], "started": SESSION["started"], "attrs": {"release": "r"}}
    (update,) = prepare(wire({}, ("session", minimal))).sessions
    assert (update.status, update.errors, update.timestamp, update.duration) == (
        "ok",
        0,
        RECEIVED,
        None,
    )
    assert update.seq == int(RECEIVED.timestamp() * 1000)


@pytest.mark.parametrize(
    "change",
    [
        {"sid": None},
        {"sid": "not-a-uuid"},
        {"started": None},
        {"started": "yesterday"},
        {"attrs": {"environment": "prod"}},
        {"attrs": {"release": "  "}},
        {"attrs": "app@1.0"},
        {"status": "exploded"},
    ],
)
def test_invalid_session_is_dropped_but_its_item_kept(change: dict[str, object]) -> None:
    """A session without a UUID sid, a start, a valid release or a known status yields no
    record; its raw item is still stored."""
    prepared = prepare(wire({}, ("session", {**SESSION, **change}), ("session", SESSION)))
    assert len(prepared.sessions) == 1
    assert [i.type for i in prepared.items] == ["session", "session"]


def test_session_aggregates() -> None:
    """Each bucket of a sessions item is an aggregate with the item's release and environment;
    buckets without a start are skipped; without a release there are none."""
    payload = {
        "attrs": {"release": "app@1.0", "environment": "prod"},
        "aggregates": [
            {"started": "2024-05-01T11:00:00Z", "exited": 5, "errored": 1},
            {"started": "bad", "exited": 3},
            {"started": "2024-05-01T11:01:00Z", "crashed": 2, "abnormal": -1},
            "junk",
        ],
    }
    prepared = prepare(wire({}, ("sessions", payload), ("sessions", {**payload, "attrs": {}})))
    assert prepared.session_aggregates == (
        SessionAggregate(
            started=datetime(2024, 5, 1, 11, tzinfo=UTC),
            release="app@1.0",
            environment="prod",
            exited=5,
            errored=1,
        ),
        SessionAggregate(
            started=datetime(2024, 5, 1, 11, 1, tzinfo=UTC),
            release="app@1.0",
            environment="prod",
            crashed=2,
        ),
    )


# --- check-ins ----------------------------------------------------------------------------


def test_check_in_fields() -> None:
    """The nil check-in id is allowed; the slug is slugified; an unknown status is kept as
    ``unknown``; negative durations are dropped."""
    payload = {
        "check_in_id": "00000000-0000-0000-0000-000000000000",
        "monitor_slug": "  Backup DB (Daily) ",
        "status": "Exploded",
        "duration": -3,
        "contexts": {"trace": {"trace_id": "not hex"}},
    }
    assert prepare(wire({}, ("check_in", payload))).check_ins == (
        CheckInRecord(
            check_in_id="0" * 32,
            monitor_slug="backup-db-daily",
            status="unknown",
            duration=None,
            environment=None,
            release=None,
            timestamp=RECEIVED,
            monitor_config=None,
            trace_id=None,
        ),
    )


@pytest.mark.parametrize(
    "change",
    [
        {"check_in_id": "nope"},
        {"check_in_id": None},
        {"monitor_slug": "!!!"},
        {"monitor_slug": 5},
        {"status": None},
    ],
)
def test_invalid_check_in_is_dropped(change: dict[str, object]) -> None:
    """A check-in without a UUID id, a usable slug or a status yields no record."""
    payload = {"check_in_id": PAYLOAD_ID, "monitor_slug": "job", "status": "ok", **change}
    prepared = prepare(wire({}, ("check_in", payload)))
    assert prepared.check_ins == ()
    assert len(prepared.items) == 1


# --- logs ---------------------------------------------------------------------------------


def test_log_container_entries() -> None:
    """Log entries take level aliases, severities from the entry, its attributes or its level,
    and the receive time when their timestamp is unusable; entries without a body are skipped."""
    payload = {
        "items": [
            {
                "timestamp": 1714564800.25,
                "level": "warning",
                "body": "a",
                "trace_id": "5B8EFFF798038103D269B633813FC60C",
                "span_id": "eee19b7ec3c1b174",
                "attributes": {"k": {"type": "integer", "value": 3}, "bad": 5},
            },
            {
                "timestamp": "later",
                "level": "nonsense",
                "body": "b",
                "attributes": {"sentry.severity_number": {"type": "integer", "value": 18}},
            },
            {"level": "fatal", "body": "c", "severity_number": 99, "trace_id": "short"},
            {"level": "info"},
            "junk",
        ]
    }
    logs = prepare(wire({}, ("log", payload))).logs
    assert logs == (
        LogRecord(
            timestamp=datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC),
            level="warn",
            body="a",
            attributes={"k": {"type": "integer", "value": 3}},
            trace_id="5b8efff798038103d269b633813fc60c",
            span_id="eee19b7ec3c1b174",
            severity_number=13,
        ),
        LogRecord(
            timestamp=RECEIVED,
            level="error",
            body="b",
            attributes={"sentry.severity_number": {"type": "integer", "value": 18}},
            trace_id=None,
            span_id=None,
            severity_number=18,
        ),
        LogRecord(
            timestamp=RECEIVED,
            level="fatal",
            body="c",
            attributes={},
            trace_id=None,
            span_id=None,
            severity_number=21,
        ),
    )


def test_otel_log() -> None:
    """An OTLP/JSON log record becomes a log record with Sentry-style typed attributes."""
    payload = {
        "timeUnixNano": "1714564800500000000",
        "severityNumber": 17,
        "severityText": "ERROR",
        "body": {"stringValue": "payment failed"},
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "attributes": [
            {"key": "http.status", "value": {"intValue": "502"}},
            {"key": "retry", "value": {"boolValue": True}},
            {"key": "ratio", "value": {"doubleValue": 0.5}},
            {"key": "service", "value": {"stringValue": "billing"}},
            {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}]}}},
            {"value": {"stringValue": "no key"}},
        ],
    }
    (log,) = prepare(wire({}, ("otel_log", payload))).logs
    assert (log.timestamp, log.level, log.severity_number, log.body) == (
        datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC),
        "error",
        17,
        "payment failed",
    )
    assert log.attributes == {
        "http.status": {"type": "integer", "value": 502},
        "retry": {"type": "boolean", "value": True},
        "ratio": {"type": "double", "value": 0.5},
        "service": {"type": "string", "value": "billing"},
        "tags": {"type": "string", "value": '{"arrayValue":{"values":[{"stringValue":"a"}]}}'},
    }
    assert (log.trace_id, log.span_id) == ("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174")


def test_otel_log_without_time_or_severity_text() -> None:
    """Without a time the log is dated when received; the level follows the severity number."""
    (log,) = prepare(wire({}, ("otel_log", {"severityNumber": 6, "body": {"intValue": "3"}}))).logs
    assert (log.timestamp, log.level, log.severity_number, log.body) == (
        RECEIVED,
        "debug",
        6,
        '{"intValue":"3"}',
    )


# --- client reports -----------------------------------------------------------------------


def test_client_reports_are_summed_per_reason_and_category() -> None:
    """Discarded counts of all client reports in the envelope, legacy lists included, are
    summed per (reason, category); malformed entries are skipped."""
    first = {
        "timestamp": 1714564800,
        "discarded_events": [
            {"reason": "queue_overflow", "category": "error", "quantity": 3},
            {"reason": "sample_rate", "category": "transaction", "quantity": 10},
            {"reason": "queue_overflow", "category": "error", "quantity": 0},
            {"reason": "before_send", "quantity": 1},
            {"reason": "before_send", "category": "error", "quantity": "2"},
            "junk",
        ],
        "rate_limited_events": [
            {"reason": "ratelimit_backoff", "category": "error", "quantity": 4}
        ],
    }
    second = {
        "discarded_events": [{"reason": "queue_overflow", "category": "error", "quantity": 2}]
    }
    prepared = prepare(wire({}, ("client_report", first), ("client_report", second)))
    assert prepared.discarded == (
        DiscardedCount(reason="queue_overflow", category="error", quantity=5),
        DiscardedCount(reason="sample_rate", category="transaction", quantity=10),
        DiscardedCount(reason="ratelimit_backoff", category="error", quantity=4),
    )


# --- totality -----------------------------------------------------------------------------


@given(event_payloads)
def test_any_event_object_prepares(payload: dict[str, object]) -> None:
    """Any JSON object as an event payload prepares into one event, unless its own event_id is
    invalid while the envelope has none, which is an EnvelopeError and nothing else."""
    prepared = prepare_value(build(HEADER_ID, item("event", payload)))
    assert [e.event_id for e in prepared.events] == [HEADER_ID]
    raw_id = payload.get("event_id")
    envelope = build(None, item("event", payload))
    if raw_id is not None and normalize_uuid(raw_id, allow_nil=True) is None:
        with pytest.raises(EnvelopeError, match="invalid event_id"):
            prepare_value(envelope)
    else:
        prepared = prepare_value(envelope)
        assert prepared.event_id is not None
        assert HEX32.fullmatch(prepared.event_id)


@given(
    st.sampled_from(sorted(JSON_ITEM_TYPES - {"event"})),
    st.dictionaries(st.text(max_size=10), json_values, max_size=6) | event_payloads,
)
def test_any_json_object_prepares_for_every_interpreted_type(
    item_type: str, payload: dict[str, object]
) -> None:
    """Any JSON object as the payload of any interpreted item type prepares without error."""
    prepared = prepare_value(build(HEADER_ID, item(item_type, payload), item("attachment", "x")))
    assert [r.type for r in prepared.items] == [item_type, "attachment"]
