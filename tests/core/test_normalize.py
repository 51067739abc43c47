"""Event normalization: the payload shapes SDKs send (Relay's ``Values``, tags, timestamps,
levels, lone surrogates), Sentry's titles and culprits, and totality on arbitrary JSON objects."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given

from resentry_core import _json
from resentry_core._fields import (
    normalize_environment,
    normalize_level,
    normalize_release,
    normalize_tags,
    normalize_uuid,
    parse_timestamp,
)
from resentry_core._normalize import event_tags, format_message, normalize_event, read_message
from resentry_core._records import EventRecord
from tests.core.json_strategies import event_payloads, json_values

RECEIVED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
EVENT_ID = "a" * 32


def normalize(payload: Mapping[str, object], item_type: str = "event") -> EventRecord:
    return normalize_event(
        payload,
        event_id=EVENT_ID,
        item_position=0,
        item_type=item_type,
        received_at=RECEIVED,
        fingerprint=None,
    )


def _is_clean(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


# --- timestamps ---------------------------------------------------------------------------

T0 = datetime(2011, 5, 2, 17, 41, 36, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1304358096, T0),
        (1304358096.25, T0 + timedelta(milliseconds=250)),
        ("2011-05-02T17:41:36", T0),
        ("2011-05-02T17:41:36Z", T0),
        ("2011-05-02T17:41:36.000", T0),
        ("2011-05-02T19:41:36+02:00", T0),
        ("2011-05-02T17:41:36.123456789Z", T0 + timedelta(microseconds=123456)),
        (" 2011-05-02 17:41:36 ", T0),
        ("10000-01-01T00:00:00Z", None),
        (1e13, None),
        ("0001-01-01T00:00:00+01:00", None),
        ("yesterday", None),
        ("", None),
        (True, None),
        (None, None),
        (float("nan"), None),
        ([1304358096], None),
    ],
)
def test_parse_timestamp(value: object, expected: datetime | None) -> None:
    """Unix seconds and ISO 8601 (naive = UTC, Z, offsets, long fractions) parse to UTC;
    years past 9999 and every other shape are invalid."""
    parsed = parse_timestamp(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None
        assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", [1e13, "10000-01-01T00:00:00", "not a date", None, {}])
def test_invalid_timestamp_becomes_receive_time(value: object) -> None:
    """An event whose timestamp is missing, unreadable or past year 9999 is dated when received."""
    assert normalize({"timestamp": value}).timestamp == RECEIVED


def test_offset_timestamp_is_stored_in_utc() -> None:
    """An ISO timestamp with an offset is converted to the same instant in UTC."""
    record = normalize({"timestamp": "2024-05-01T09:30:00-03:00"})
    assert record.timestamp == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert record.timestamp.utcoffset() == timedelta(0)


# --- levels, platform, release, environment, ids -----------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("debug", "debug"),
        ("log", "info"),
        ("WARNING", "warning"),
        ("warn", "warning"),
        ("critical", "fatal"),
        (" error ", "error"),
        (10, "debug"),
        (20, "info"),
        (30, "warning"),
        (40, "error"),
        (50, "fatal"),
        (40.0, "error"),
        (35, "DEFAULT"),
        (True, "DEFAULT"),
        ("verbose", "DEFAULT"),
        (None, "DEFAULT"),
    ],
)
def test_normalize_level(value: object, expected: str) -> None:
    """Level names, aliases and Python logging integers map to Sentry levels; others default."""
    assert normalize_level(value, default="DEFAULT") == expected


def test_level_defaults_to_error_for_events_and_info_for_transactions() -> None:
    """Without a valid level an event is ``error`` and a transaction ``info``."""
    assert normalize({}).level == "error"
    assert normalize({"level": 40}).level == "error"
    assert normalize({"level": "bogus"}, "transaction").level == "info"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("python", "python"), ("javascript", "javascript"), ("cobol", "other"), (None, "other")],
)
def test_platform_defaults_to_other(value: object, expected: str) -> None:
    """Known platforms are kept; anything else is ``other``, as Relay normalizes it."""
    assert normalize({"platform": value}).platform == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" 1.0.0 ", "1.0.0"),
        ("my-app@2.3.4+build.5", "my-app@2.3.4+build.5"),
        ("", None),
        ("   ", None),
        ("a/b", None),
        ("line\nbreak", None),
        ("latest", None),
        ("x" * 201, None),
        (123, None),
    ],
)
def test_normalize_release(value: object, expected: str | None) -> None:
    """Releases are trimmed; empty, slashed, multi-line, reserved or over-long ones are dropped."""
    assert normalize_release(value) == expected
    assert normalize({"release": value}).release == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" production ", "production"), ("", None), ("a/b", None), ("e" * 65, None), (1, None)],
)
def test_normalize_environment(value: object, expected: str | None) -> None:
    """Environments are trimmed; empty, slashed or over-long (64) ones are dropped."""
    assert normalize_environment(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("22D00B3F-D1B1-4B5D-8D20-49D138CD8A9C", "22d00b3fd1b14b5d8d2049d138cd8a9c"),
        ("22d00b3fd1b14b5d8d2049d138cd8a9c", "22d00b3fd1b14b5d8d2049d138cd8a9c"),
        ("{22d00b3f-d1b1-4b5d-8d20-49d138cd8a9c}", "22d00b3fd1b14b5d8d2049d138cd8a9c"),
        ("0" * 32, None),
        ("abc", None),
        ("22d00b3fd1b14b5d8d2049d138cd8a9", None),
        (42, None),
    ],
)
def test_normalize_uuid(value: object, expected: str | None) -> None:
    """UUIDs in any common spelling become 32 lowercase hex; the nil UUID only on request."""
    assert normalize_uuid(value) == expected


def test_nil_uuid_when_allowed() -> None:
    """The nil UUID is valid where the protocol allows it (check-in ids)."""
    assert normalize_uuid("00000000-0000-0000-0000-000000000000", allow_nil=True) == "0" * 32


# --- tags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"browser": "Firefox", "os": "Linux"}, {"browser": "Firefox", "os": "Linux"}),
        ([["browser", "Firefox"], ["os", "Linux"]], {"browser": "Firefox", "os": "Linux"}),
        (
            {"bool": True, "n": 42, "f": 1.5, "whole": 2.0},
            {"bool": "True", "n": "42", "f": "1.5", "whole": "2"},
        ),
        ([[23, 42]], {"23": "42"}),
        ({" foo bar ": " baz "}, {"foo-bar": "baz"}),
        ({"gone": None, "empty": "", "nested": {"a": 1}, "list": [1]}, {}),
        ({"multi": "a\nb", "bad key!": "v", "long": "x" * 201}, {}),
        ([["a", "1"], ["a", "2"]], {"a": "1"}),
        ([["only-key"], ["a", "b", "c"], "str", 5, ["ok", "yes"]], {"ok": "yes"}),
        ("a=b", {}),
        (None, {}),
    ],
)
def test_normalize_tags(value: object, expected: dict[str, str]) -> None:
    """Tags come from an object or from [key, value] pairs, stringified and trimmed like Relay's;
    invalid entries are ignored rather than failing the event."""
    assert normalize_tags(value) == expected
    assert normalize({"tags": value}).tags == expected


# --- exceptions: shapes, titles, culprits -------------------------------------------------

MAIN = {"type": "ValueError", "value": "bad value 6\nsecond line"}
CAUSE = {"type": "KeyError", "value": "'k'"}


@pytest.mark.parametrize(
    "payload",
    [
        {"exception": {"values": [CAUSE, MAIN]}},
        {"exception": [CAUSE, MAIN]},
        {"exception": MAIN},
        {"sentry.interfaces.Exception": {"values": [MAIN]}},
        {"exception": {"values": [CAUSE, MAIN, "junk", {"type": "", "value": ""}]}},
    ],
    ids=["values", "list", "object", "legacy-alias", "invalid-entries-ignored"],
)
def test_exception_shapes(payload: Mapping[str, object]) -> None:
    """``exception`` as ``{values}``, a list, one object or the legacy alias is an error event
    titled by its main (last valid) exception's type and the first line of its value."""
    record = normalize(payload)
    assert record.type == "error"
    assert record.title == "ValueError: bad value 6"


@pytest.mark.parametrize(
    ("exception", "title"),
    [
        ({"type": "ZeroDivisionError"}, "ZeroDivisionError"),
        ({"type": "ZeroDivisionError", "value": ""}, "ZeroDivisionError"),
        ({"value": "something broke"}, "something broke"),
        ({"type": "E", "value": 404}, "E: 404"),
        ({"type": "E", "value": "\n\n  later line  \nmore"}, "E: later line"),
    ],
)
def test_error_title(exception: Mapping[str, object], title: str) -> None:
    """The title is ``type: value`` (first non-blank line), the type alone, or the value alone."""
    assert normalize({"exception": exception}).title == title


def test_long_titles_are_truncated() -> None:
    """Titles stop at 200 characters, ending with an ellipsis."""
    title = normalize({"exception": {"type": "E", "value": "v" * 500}}).title
    assert len(title) == 200
    assert title.startswith("E: vvv")
    assert title.endswith("\u2026")


def _frame(module: str, function: str, *, in_app: bool | None = None) -> dict[str, object]:
    frame: dict[str, object] = {"module": module, "function": function, "lineno": 1}
    if in_app is not None:
        frame["in_app"] = in_app
    return frame


@pytest.mark.parametrize(
    ("payload", "culprit"),
    [
        (
            {
                "frames": [
                    _frame("app.views", "index", in_app=True),
                    _frame("lib.db", "query", in_app=False),
                ]
            },
            "app.views in index",
        ),
        ({"frames": [_frame("lib.a", "outer"), _frame("lib.b", "inner")]}, "lib.b in inner"),
        (
            {"frames": [{"filename": "src/app.py", "function": "run", "in_app": True}]},
            "src/app.py in run",
        ),
        ({"frames": [{"module": "app", "in_app": True}]}, "app in ?"),
        (
            {
                "platform": "javascript",
                "frames": [{"filename": "app.js", "function": "onClick", "in_app": True}],
            },
            "onClick(app.js)",
        ),
        (
            {"platform": "cocoa", "frames": [{"function": "-[Foo bar]", "in_app": True}]},
            "-[Foo bar]",
        ),
        (
            {"frames": [_frame("app", "f", in_app=True)], "transaction": "/api/users"},
            "/api/users",
        ),
        (
            {"frames": [_frame("app", "f", in_app=True)], "culprit": "legacy.culprit"},
            "legacy.culprit",
        ),
        ({"frames": [], "request": {"url": "https://x.io/p"}}, "https://x.io/p"),
        ({"frames": [], "logger": "django.request"}, "django.request"),
        ({"frames": []}, ""),
    ],
)
def test_error_culprit(payload: dict[str, object], culprit: str) -> None:
    """The culprit is the explicit culprit, else the transaction, else the innermost in-app
    frame (the innermost frame when none is in-app) in Sentry's per-platform format, else the
    request URL, else the logger."""
    frames = payload.pop("frames")
    event = {**payload, "exception": {"values": [{"type": "E", "stacktrace": {"frames": frames}}]}}
    assert normalize(event).culprit == culprit


def test_culprit_uses_the_last_exception_with_frames() -> None:
    """A main exception without frames takes its culprit from the latest chained stack."""
    payload = {
        "exception": {
            "values": [
                {"type": "A", "stacktrace": {"frames": [_frame("app.first", "f")]}},
                {"type": "B", "stacktrace": {"frames": [_frame("app.second", "g")]}},
                {"type": "C"},
            ]
        }
    }
    assert normalize(payload).culprit == "app.second in g"


def test_synthetic_exception_has_no_frame_culprit() -> None:
    """Like Sentry, a synthetic main exception gets no culprit from its frames."""
    exception = {
        "type": "SIGSEGV",
        "mechanism": {"synthetic": True},
        "stacktrace": {"frames": [_frame("app", "crash", in_app=True)]},
    }
    assert normalize({"exception": exception}).culprit == ""


# --- messages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "template", "formatted"),
    [
        ({"message": "hello world"}, "hello world", "hello world"),
        ({"message": {"message": "Hello %s", "params": ["there"]}}, "Hello %s", "Hello there"),
        (
            {
                "logentry": {
                    "message": "log %s of %d",
                    "formatted": "log msg of 5",
                    "params": ["msg", 5],
                }
            },
            "log %s of %d",
            "log msg of 5",
        ),
        (
            {"logentry": {"message": "Hello %(name)s", "params": {"name": "Bob"}}},
            "Hello %(name)s",
            "Hello Bob",
        ),
        (
            {"logentry": {"message": "{foo} and {bar}", "params": {"foo": 1, "bar": None}}},
            "{foo} and {bar}",
            "1 and null",
        ),
        ({"logentry": {"message": "{1}+{0}", "params": ["a", "b"]}}, "{1}+{0}", "b+a"),
        ({"logentry": {"message": "{} {}", "params": ["a", "b"]}}, "{} {}", "a b"),
        ({"logentry": {"message": "100%% of %s", "params": ["x"]}}, "100%% of %s", "100% of x"),
        ({"logentry": {"message": "Hello %s %s", "params": ["one"]}}, "Hello %s %s", "Hello %s %s"),
        ({"logentry": {"message": "Hello %s"}}, "Hello %s", "Hello %s"),
        ({"logentry": {"formatted": "only formatted"}}, "only formatted", "only formatted"),
        ({"logentry": {"params": [1]}, "message": "raw text"}, "raw text", "raw text"),
        ({"message": 42}, "42", "42"),
        ({"message": False}, None, None),
        ({"message": {"nested": True}}, None, None),
        ({}, None, None),
    ],
)
def test_read_message(
    payload: Mapping[str, object], template: str | None, formatted: str | None
) -> None:
    """``message`` (string or object) and ``logentry`` give a template and a formatted text;
    params fill ``%s``/``%(name)s``/``{}``/``{0}``/``{name}`` only when ``formatted`` is
    missing and they fit; otherwise the template is shown as it is."""
    message = read_message(payload)
    assert (message.template, message.formatted) == (template, formatted)


def test_format_message_needs_matching_params() -> None:
    """Named placeholders need an object and positional ones a list; a mismatch gives None."""
    assert format_message("Hello %(name)s", ["Bob"]) is None
    assert format_message("Hello %s", {"name": "Bob"}) is None
    assert format_message("no placeholders", ["x"]) is None
    assert format_message("{{literal}} {}", ["x"]) == "{literal} x"


def test_message_event_title_and_culprit() -> None:
    """A message event is titled by its formatted message's first line; its culprit is the
    transaction, else the logger."""
    payload = {
        "logentry": {"message": "Disk %s full\ndetails", "params": ["/var"]},
        "logger": "app",
    }
    record = normalize(payload)
    assert (record.type, record.title, record.culprit) == ("default", "Disk /var full", "app")
    assert record.message == "Disk /var full\ndetails"
    assert normalize({**payload, "transaction": "GET /"}).culprit == "GET /"


def test_event_without_exception_or_message() -> None:
    """An empty event is a default event titled ``<unlabeled event>``."""
    record = normalize({})
    assert (record.type, record.title, record.culprit, record.message) == (
        "default",
        "<unlabeled event>",
        "",
        "",
    )


def test_long_message_title_is_truncated() -> None:
    """Message titles are cut at 200 characters; the stored message keeps more."""
    record = normalize({"message": "m" * 1000})
    assert len(record.title) == 200
    assert record.message == "m" * 1000


# --- event types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "item_type", "expected"),
    [
        ({"exception": MAIN}, "event", "error"),
        ({"message": "m"}, "event", "default"),
        ({"type": "error"}, "event", "default"),
        ({"type": "transaction", "message": "m"}, "event", "default"),
        ({"type": "csp"}, "event", "csp"),
        ({"type": "made-up"}, "event", "default"),
        ({"type": "error", "exception": MAIN}, "transaction", "transaction"),
        ({}, "feedback", "feedback"),
    ],
)
def test_event_type(payload: Mapping[str, object], item_type: str, expected: str) -> None:
    """The item type decides transactions and feedback; an event item is ``error`` with an
    exception, a declared security report type, else ``default``."""
    assert normalize(payload, item_type).type == expected


# --- transactions and feedback ------------------------------------------------------------


def test_transaction_fields() -> None:
    """A transaction's title and culprit are its name; op and status come from the trace
    context, the duration from start and end, the span count from ``spans``."""
    payload = {
        "type": "transaction",
        "transaction": "GET /users",
        "start_timestamp": "2024-05-01T10:00:00Z",
        "timestamp": "2024-05-01T10:00:01.250Z",
        "contexts": {"trace": {"op": "http.server", "status": "ok", "trace_id": "t" * 32}},
        "spans": [{}, {}, {}],
        "level": "error",
    }
    record = normalize(payload, "transaction")
    assert (record.title, record.culprit, record.transaction) == (
        "GET /users",
        "GET /users",
        "GET /users",
    )
    assert (record.op, record.status, record.span_count) == ("http.server", "ok", 3)
    assert record.duration_ms == pytest.approx(1250.0)
    assert record.level == "error"
    assert record.fingerprint is None


@pytest.mark.parametrize(
    "payload",
    [
        {"timestamp": "2024-05-01T10:00:00Z"},
        {"timestamp": "2024-05-01T10:00:00Z", "start_timestamp": "2024-05-01T10:00:05Z"},
        {"start_timestamp": "garbage", "timestamp": 5, "spans": "many"},
    ],
)
def test_transaction_without_usable_times(payload: Mapping[str, object]) -> None:
    """Without both times (or with an end before the start) the duration is unknown; the
    unnamed transaction still gets a title and a span count of 0."""
    record = normalize(payload, "transaction")
    assert record.duration_ms is None
    assert record.title == "<unlabeled transaction>"
    assert record.span_count == 0


def test_feedback_event_fields() -> None:
    """A feedback event is titled by the first line of its message; the URL is its culprit."""
    payload = {
        "type": "feedback",
        "contexts": {
            "feedback": {"message": "The button\ndoes nothing", "url": "https://shop/cart"}
        },
    }
    record = normalize(payload, "feedback")
    assert (record.type, record.level, record.title, record.culprit) == (
        "feedback",
        "info",
        "The button",
        "https://shop/cart",
    )
    assert record.message == "The button\ndoes nothing"


# --- other fields -------------------------------------------------------------------------


def test_user_sdk_and_identity_fields() -> None:
    """``user`` and ``sdk`` objects are kept; the envelope's sdk stands in for a missing one;
    the event id and item position are the ones given."""
    user = {"id": "42", "email": "a@b.c"}
    sdk = {"name": "sentry.python", "version": "2.0"}
    record = normalize_event(
        {"user": user},
        event_id="b" * 32,
        item_position=3,
        item_type="event",
        received_at=RECEIVED,
        fingerprint="f" * 64,
        envelope_sdk=sdk,
    )
    assert (record.user, record.sdk) == (user, sdk)
    assert (record.event_id, record.item_position, record.fingerprint) == ("b" * 32, 3, "f" * 64)
    assert normalize({"sdk": {"name": "own"}}).sdk == {"name": "own"}
    assert normalize({"user": "not an object", "sdk": []}).user is None


def test_lone_surrogates_are_repaired() -> None:
    """A payload with a lone UTF-16 surrogate escape (JavaScript cutting an emoji)
    normalizes to valid text with U+FFFD in its place."""
    payload = _json.loads(
        b'{"exception":{"type":"Error","value":"cut \\ud83d"},"tags":{"t":"x\\ud83d"}}'
    )
    record = normalize(payload)
    assert record.title == "Error: cut \ufffd"
    assert record.tags == {"t": "x\ufffd"}
    assert _is_clean(record.title)


def test_surrogates_in_python_values_are_repaired() -> None:
    """Text built from values that did not go through the JSON decoder is cleaned too."""
    record = normalize({"message": "bad \ud800 nul\x00", "transaction": "t\udfff"})
    assert record.title == "bad \ufffd nul"
    assert record.culprit == "t\ufffd"


# --- totality -----------------------------------------------------------------------------

_TEXT_FIELDS = ("type", "level", "platform", "title", "culprit", "message")


@given(event_payloads, json_values)
def test_any_json_object_normalizes(payload: dict[str, object], noise: object) -> None:
    """Every JSON object normalizes, whatever its field types, to a record of clean text."""
    for item_type in ("event", "transaction", "feedback"):
        record = normalize({**payload, "extra": noise}, item_type)
        assert record.timestamp.tzinfo is not None
        assert record.level in {"debug", "info", "warning", "error", "fatal"}
        for name in _TEXT_FIELDS:
            assert _is_clean(getattr(record, name))
        for key, value in record.tags.items():
            assert _is_clean(key)
            assert _is_clean(value)


def test_server_name_and_contexts_become_tags_unless_sent_as_tags() -> None:
    """``server_name`` and the browser, OS, runtime and device contexts are promoted to tags
    as Relay does; a tag the SDK sent under the same name wins; unusable values are left out."""
    payload = {
        "tags": {"os": "custom"},
        "server_name": "web-1",
        "contexts": {
            "browser": {"name": "Chrome", "version": "120.0"},
            "os": {"name": "Linux", "version": "6.1"},
            "runtime": {"name": "CPython"},
            "device": {"model": "Pixel 8"},
            "app": {"name": "shop"},
        },
    }
    assert event_tags(payload) == {
        "os": "custom",
        "server_name": "web-1",
        "browser": "Chrome 120.0",
        "runtime": "CPython",
        "device": "Pixel 8",
    }
    assert event_tags({"server_name": "a\nb", "contexts": {"browser": "Chrome"}}) == {}
