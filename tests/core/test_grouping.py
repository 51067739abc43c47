"""Grouping: which events share a fingerprint (``_grouping.py``), from synthetic and real events."""

import copy
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import sentry_sdk
from hypothesis import assume, given
from hypothesis import strategies as st

from resentry_core._grouping import default_key, fingerprint, parameterize
from resentry_core._parser import parse_envelope
from tests.core.json_strategies import event_payloads, json_values
from tests.core.sdk_envelopes import sentry_sdk_envelopes

Event = dict[str, Any]
Change = Callable[[Event], None]

BASE: Event = {
    "event_id": "9ec79c33ec9942ab8353589fcb2e04dc",
    "timestamp": "2024-05-01T12:00:00Z",
    "platform": "python",
    "release": "shop@1.0.0",
    "environment": "production",
    "server_name": "web-1",
    "tags": {"region": "eu"},
    "exception": {
        "values": [
            {
                "type": "ValueError",
                "value": "cannot charge 12 EUR",
                "module": None,
                "mechanism": {"type": "generic", "handled": True},
                "stacktrace": {
                    "frames": [
                        {
                            "module": "django.core.handlers.base",
                            "filename": "django/core/handlers/base.py",
                            "abs_path": "/venv/lib/site-packages/django/core/handlers/base.py",
                            "function": "_get_response",
                            "lineno": 197,
                            "in_app": False,
                        },
                        {
                            "module": "shop.views",
                            "filename": "shop/views.py",
                            "abs_path": "/srv/shop/releases/100/shop/views.py",
                            "function": "checkout",
                            "lineno": 42,
                            "context_line": "    charge(cart.total)",
                            "vars": {"cart": "<Cart 7>"},
                            "in_app": True,
                        },
                        {
                            "module": "shop.billing",
                            "filename": "shop/billing.py",
                            "abs_path": "/srv/shop/releases/100/shop/billing.py",
                            "function": "charge",
                            "lineno": 10,
                            "colno": 5,
                            "pre_context": ["def charge(amount):"],
                            "context_line": "    raise ValueError(...)",
                            "vars": {"amount": "12"},
                            "in_app": True,
                        },
                    ]
                },
            }
        ]
    },
}


def _frames(event: Event) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = event["exception"]["values"][-1]["stacktrace"]["frames"]
    return frames


def _shift_lines(event: Event) -> None:
    for frame in _frames(event):
        frame["lineno"] += 7
        frame["colno"] = 9


def _other_host(event: Event) -> None:
    event["server_name"] = "web-7.eu-west"
    for frame in _frames(event):
        frame["abs_path"] = frame["abs_path"].replace("/srv/shop/releases/100", "/opt/app")


def _other_locals(event: Event) -> None:
    for frame in _frames(event):
        frame["vars"] = {"amount": "99", "retry": "True"}
        frame["context_line"] = "    raise ValueError(f'cannot charge {amount}')"
        frame["pre_context"] = ["# moved", "def charge(amount):"]


def _other_identity(event: Event) -> None:
    event.update(
        event_id="0c8a4c3e0f9e4b7b8e2c8e3c6b2a1f00",
        timestamp=1714569600.5,
        release="shop@2.0.0",
        environment="staging",
        tags={"region": "us"},
        user={"id": "7"},
    )


def _other_value(event: Event) -> None:
    event["exception"]["values"][-1]["value"] = "cannot charge 99 USD"


def _other_library_frame(event: Event) -> None:
    _frames(event)[0].update(module="flask.app", function="dispatch_request")


def _deeper_recursion(event: Event) -> None:
    frames = _frames(event)
    frames.insert(2, copy.deepcopy(frames[1]))


def _other_type(event: Event) -> None:
    event["exception"]["values"][-1]["type"] = "TypeError"


def _renamed_function(event: Event) -> None:
    _frames(event)[2]["function"] = "refund"


def _moved_module(event: Event) -> None:
    _frames(event)[2]["module"] = "shop.payments"


def _other_call_path(event: Event) -> None:
    _frames(event).insert(2, {"module": "shop.cart", "function": "close", "in_app": True})


def _chained_cause(event: Event) -> None:
    event["exception"]["values"].insert(0, {"type": "KeyError", "value": "'price'"})


def _explicit_fingerprint(event: Event) -> None:
    event["fingerprint"] = ["billing-failures"]


SAME_GROUP: dict[str, Change] = {
    "shifted line numbers": _shift_lines,
    "another host and deploy path": _other_host,
    "other local variables and source context": _other_locals,
    "another release, environment, id and time": _other_identity,
    "another exception value": _other_value,
    "another non-in-app frame": _other_library_frame,
    "deeper direct recursion": _deeper_recursion,
}
OTHER_GROUP: dict[str, Change] = {
    "another exception type": _other_type,
    "another in-app function": _renamed_function,
    "another in-app module": _moved_module,
    "another call path": _other_call_path,
    "a chained cause": _chained_cause,
    "an explicit fingerprint": _explicit_fingerprint,
}


def _variant(change: Change, base: Event = BASE) -> Event:
    event = copy.deepcopy(base)
    change(event)
    return event


@pytest.mark.parametrize("change", SAME_GROUP.values(), ids=SAME_GROUP.keys())
def test_same_error_groups_together(change: Change) -> None:
    """The same error stays in its issue across releases, hosts, line shifts and locals."""
    assert fingerprint(_variant(change)) == fingerprint(BASE)


@pytest.mark.parametrize("change", OTHER_GROUP.values(), ids=OTHER_GROUP.keys())
def test_different_errors_group_apart(change: Change) -> None:
    """Another exception type, call site or chain, or an explicit fingerprint, is another issue."""
    assert fingerprint(_variant(change)) != fingerprint(BASE)


def test_fingerprint_is_a_sha256_hex_digest() -> None:
    """The fingerprint is 64 lowercase hex characters and the same on every call."""
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint(BASE))
    assert fingerprint(copy.deepcopy(BASE)) == fingerprint(BASE)


def test_without_in_app_frames_all_frames_count() -> None:
    """When no frame is in-app, library frames are the call site and tell errors apart."""

    def all_library(event: Event) -> None:
        for frame in _frames(event):
            frame["in_app"] = False

    base = _variant(all_library)
    assert fingerprint(_variant(_other_library_frame, base)) != fingerprint(base)
    assert fingerprint(_variant(_shift_lines, base)) == fingerprint(base)


def test_frames_without_in_app_flags_count() -> None:
    """Frames that say nothing about in-app (as sentry-python often sends) all count."""

    def unflagged(event: Event) -> None:
        for frame in _frames(event):
            del frame["in_app"]

    base = _variant(unflagged)
    assert fingerprint(_variant(_other_library_frame, base)) != fingerprint(base)
    assert fingerprint(_variant(_other_value, base)) == fingerprint(base)


def _js_error(filename: str, function: str = "onClick") -> Event:
    frame = {"filename": filename, "function": function, "lineno": 1, "colno": 2, "in_app": True}
    return {"exception": {"values": [{"type": "TypeError", "stacktrace": {"frames": [frame]}}]}}


@pytest.mark.parametrize(
    "filename",
    [
        "https://cdn-2.example.com/static/app.js?v=2",
        "http://localhost:3000/static/app.js#top",
        "/static/app.js:10:5",
        "\\static\\app.js",
    ],
)
def test_filenames_are_normalized(filename: str) -> None:
    """Without a module, the filename counts minus origin, query, fragment and line suffix."""
    assert fingerprint(_js_error(filename)) == fingerprint(_js_error("/static/app.js"))


def test_long_filenames_are_normalized_alike() -> None:
    """A path too long to be remembered between events is normalized the same way."""
    directory = "/static/" + "d" * 1100
    long_name = f"https://cdn.example.com{directory}/app.js?v=2"
    assert fingerprint(_js_error(long_name)) == fingerprint(_js_error(f"{directory}/other.js"))
    assert fingerprint(_js_error(long_name)) != fingerprint(_js_error("/static/app.js"))


def test_other_file_or_function_groups_apart() -> None:
    """Another file or another function at the same place is another issue."""
    base = fingerprint(_js_error("/static/app.js"))
    assert fingerprint(_js_error("/static/vendor.js")) != base
    assert fingerprint(_js_error("/static/app.js", "onSubmit")) != base


def test_memory_addresses_in_function_names_are_ignored() -> None:
    """Generated function names that embed an address (Java lambdas) group together."""
    a = _js_error("A.java", "lambda$main$0/0x0000000800c02a08")
    b = _js_error("A.java", "lambda$main$0/0x0000000800d11c40")
    assert fingerprint(a) == fingerprint(b)


def test_frames_known_only_by_address_do_not_count() -> None:
    """Native frames without a function or location do not make the key vary by address."""
    base = _js_error("main.c", "crash")
    with_address = copy.deepcopy(base)
    _frames(with_address).insert(0, {"instruction_addr": "0x1000a"})
    assert fingerprint(with_address) == fingerprint(base)


# --- exceptions without frames ------------------------------------------------------------


def _bare(kind: str, value: str) -> Event:
    return {"exception": {"values": [{"type": kind, "value": value}]}}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "timed out after 30s connecting to 10.0.0.1",
            "timed out after 45s connecting to 10.0.0.22",
        ),
        ("user 42 not found", "user 1337 not found"),
        (
            "order 550e8400-e29b-41d4-a716-446655440000 failed",
            "order 6ba7b810-9dad-11d1-80b4-00c04fd430c8 failed",
        ),
        ("KeyError 'price'", "KeyError 'weight'"),
        ("mail to bob@example.com bounced", "mail to alice@example.org bounced"),
        ("object at 0x7f3a2c1b0e10 leaked", "object at 0x7f99ab12cd00 leaked"),
        ("took 1.25s\nfull dump: A", "took 3.5s\nfull dump: B"),
    ],
)
def test_frameless_exceptions_group_by_type_and_normalized_value(first: str, second: str) -> None:
    """Without frames, the type and the value's first line with parameters normalized group."""
    assert fingerprint(_bare("Timeout", first)) == fingerprint(_bare("Timeout", second))


def test_frameless_exceptions_with_other_text_or_type_group_apart() -> None:
    """Another message text or another type is another issue."""
    base = fingerprint(_bare("Timeout", "user 42 not found"))
    assert fingerprint(_bare("Timeout", "user 42 is locked")) != base
    assert fingerprint(_bare("Denied", "user 42 not found")) != base


# --- messages -----------------------------------------------------------------------------


def test_message_template_groups_regardless_of_params() -> None:
    """Log events group by ``logentry.message`` before formatting, whatever the parameters."""
    first = {
        "logentry": {
            "message": "Payment %s failed",
            "formatted": "Payment 12 failed",
            "params": [12],
        }
    }
    second = {"logentry": {"message": "Payment %s failed", "params": ["abc"]}}
    other = {"logentry": {"message": "Refund %s failed", "params": [12]}}
    assert fingerprint(first) == fingerprint(second)
    assert fingerprint(other) != fingerprint(first)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Job 17 done in 2.5s", "Job 18 done in 12.75s"),
        (
            "Synced 3f786850e387550fdab836ed7e6dc881de23001b at 2024-05-01T10:00:00Z",
            "Synced 0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33 at 2024-06-11T08:15:30Z",
        ),
        (
            "GET https://api.example.com/users/1 failed",
            "GET https://api.example.com/users/2?x=1 failed",
        ),
        ("login from 192.168.0.1 and fe80::1", "login from 10.1.2.3 and ::1"),
        ('quota "alpha" exceeded', 'quota "beta" exceeded'),
    ],
)
def test_formatted_messages_group_with_parameters_normalized(first: str, second: str) -> None:
    """Messages sent already formatted group once numbers, ids, dates, URLs, IPs and quoted
    values are normalized."""
    assert fingerprint({"message": first}) == fingerprint({"message": second})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("User 42 has 3.5 credits", "User <int> has <float> credits"),
        ("user_42 in v2", "user_<int> in v2"),
        ("can't read the user's file", "can't read the user's file"),
        ("std::vector at 12:30:01", "std::vector at <time>"),
        ("at 0xdeadbeef", "at <hex>"),
        ("first line 1\nsecond line 2", "first line <int>"),
    ],
)
def test_parameterize(text: str, expected: str) -> None:
    """Parameters become placeholders while words, apostrophes and versions-in-words stay."""
    assert parameterize(text) == expected


def test_message_and_exception_do_not_share_a_group() -> None:
    """A log message and an exception with the same text are different issues."""
    assert fingerprint({"message": "boom"}) != fingerprint(_bare("", "boom"))


def test_events_without_anything_to_group_by_share_one_group() -> None:
    """Events with no exception and no message fall into one fallback group."""
    assert fingerprint({}) == fingerprint({"extra": {"a": 1}, "exception": {"values": []}})
    assert default_key({}) == ["fallback"]


# --- explicit fingerprints ----------------------------------------------------------------


def test_explicit_fingerprint_replaces_default_grouping() -> None:
    """Events with equal explicit fingerprints group together whatever they contain."""
    a = {"fingerprint": ["db", "timeout"], "message": "one"}
    b = {**_bare("Other", "two"), "fingerprint": ["db", "timeout"]}
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint({**a, "fingerprint": ["db", "deadlock"]}) != fingerprint(a)


@pytest.mark.parametrize("marker", ["{{ default }}", "{{default}}", " {{  default }} "])
def test_default_alone_is_default_grouping(marker: str) -> None:
    """A fingerprint of only ``{{ default }}`` groups exactly like no fingerprint."""
    assert fingerprint({**BASE, "fingerprint": [marker]}) == fingerprint(BASE)


def test_default_expands_inside_a_fingerprint() -> None:
    """``{{ default }}`` next to other values stands for the default key: it splits the default
    group by the extra value and still tells different errors apart."""
    with_tenant = {**BASE, "fingerprint": ["{{ default }}", "tenant-a"]}
    other_tenant = {**BASE, "fingerprint": ["{{ default }}", "tenant-b"]}
    other_error = {**_variant(_other_type), "fingerprint": ["{{ default }}", "tenant-a"]}
    assert len({fingerprint(BASE), fingerprint(with_tenant), fingerprint(other_tenant)}) == 3
    assert fingerprint(other_error) != fingerprint(with_tenant)
    assert fingerprint({**_variant(_shift_lines), "fingerprint": ["{{default}}", "tenant-a"]}) == (
        fingerprint(with_tenant)
    )


def test_fingerprint_values_are_stringified_like_relay() -> None:
    """Numbers and booleans in a fingerprint count as their text; nulls are skipped."""
    assert fingerprint({"fingerprint": [404, True, None, 1.0]}) == fingerprint(
        {"fingerprint": ["404", "True", "1"]}
    )


@pytest.mark.parametrize(
    "value", [[], [None], "billing", {"a": 1}, ["ok", {"nested": 1}], ["ok", ["list"]], 7]
)
def test_unusable_fingerprints_are_ignored(value: object) -> None:
    """An empty, non-list or partly non-scalar fingerprint falls back to default grouping."""
    assert fingerprint({**BASE, "fingerprint": value}) == fingerprint(BASE)


# --- real sentry-python events ------------------------------------------------------------

_SOURCE = """
def charge(amount):
    total = amount * 2
    raise ValueError(f"cannot charge {total}")

def refund(amount):
    raise ValueError(f"cannot charge {amount}")

def checkout(amount, refunding=False):
    return refund(amount) if refunding else charge(amount)
"""


def _sdk_error(
    *, blank_lines: int = 0, amount: int = 6, refunding: bool = False, **options: Any
) -> Event:
    namespace: dict[str, Any] = {"__name__": "shop.checkout"}
    code = compile("\n" * blank_lines + _SOURCE, "shop/checkout.py", "exec")
    exec(code, namespace)  # noqa: S102  # our own constant source, loaded at a chosen line
    with sentry_sdk_envelopes(in_app_include=["shop"], **options) as envelopes:
        try:
            namespace["checkout"](amount, refunding)
        except ValueError:
            sentry_sdk.capture_exception()
    (envelope,) = (parse_envelope(raw) for raw in envelopes)
    payload: Event = envelope.items[0].json()
    return payload


def test_real_sdk_events_group_across_releases_hosts_lines_and_locals() -> None:
    """The same error captured by sentry-python from shifted code, another release and host
    and other argument values gets the same fingerprint; another raising function does not."""
    base = _sdk_error(release="shop@1.0", server_name="web-1")
    moved = _sdk_error(blank_lines=12, amount=50, release="shop@1.1", server_name="web-9")
    other_site = _sdk_error(refunding=True, release="shop@1.0", server_name="web-1")
    assert (
        base["exception"]["values"][-1]["stacktrace"]["frames"][-1]["lineno"]
        != (moved["exception"]["values"][-1]["stacktrace"]["frames"][-1]["lineno"])
    )
    assert fingerprint(moved) == fingerprint(base)
    assert fingerprint(other_site) != fingerprint(base)


def test_real_sdk_messages_group_by_template() -> None:
    """sentry-python log records with the same template and other arguments group together."""
    with sentry_sdk_envelopes() as envelopes:
        for user in ("bob", "alice"):
            sentry_sdk.capture_event(
                {"logentry": {"message": "login failed for %s", "params": [user]}}
            )
        sentry_sdk.capture_message("something else")
    first, second, third = (parse_envelope(raw).items[0].json() for raw in envelopes)
    assert fingerprint(first) == fingerprint(second) != fingerprint(third)


# --- stability ----------------------------------------------------------------------------

# Fingerprints computed by the first release: stored issues are keyed by them, so a change of
# the key's parts, order or encoding (non-ASCII and DEL are \u-escaped) would split groups.
_PINNED: list[tuple[Event, str]] = [
    (BASE, "7c3096181914dd8adea0e15fbbec0823383aab1b20734d8458e39b5a50c7cc9e"),
    (
        {
            "platform": "javascript",
            "exception": {
                "values": [
                    {
                        "type": "TypeError",
                        "value": "Cannot read properties of undefined (reading 'id')",
                        "stacktrace": {
                            "frames": [
                                {
                                    "filename": "https://cdn.example.com/static/app.min.js?v=3#a",
                                    "function": "Object.<anonymous>",
                                    "in_app": True,
                                },
                                {
                                    "filename": "webpack:///./src/cart.js:12:5",
                                    "function": "handler@0x7ffd1234",
                                    "in_app": True,
                                },
                                {"filename": "C:\\app\\vendor.js", "function": "run"},
                            ]
                        },
                    }
                ]
            },
        },
        "a6af479f510e572bd6db93b8652f66cf305fd23f2995673e3df284b127a44e35",
    ),
    (
        {"logentry": {"message": "User %s paid 12.50 \u20ac at 2024-05-01T12:00:00Z"}},
        "ba2f698dc9de3325f23f0c8745b6e8cf54756398474e224bc6d7855370c2b14a",
    ),
    (
        {"exception": {"values": [{"type": "KeyError", "value": "'caf\u00e9\x7f' id 0xbeef"}]}},
        "e13bb1bd8591269a6e1a667063c106bd42ea538c6e0fd6cd97377ed8cd1419cf",
    ),
    (
        {"message": "plain", "fingerprint": ["{{ default }}", "na\u00efve \U0001f600", 42, 1.5]},
        "bb210dbd36d1ac314571e966adfa8fe1bd8061428d20bfd281e9c7ffcdca1789",
    ),
    (
        {
            "exception": {
                "values": [
                    {
                        "module": "app.\u00fcber",
                        "type": "Err\x7f",
                        "stacktrace": {"frames": [{"module": "m\u00f6d", "function": "f\u00fcn"}]},
                    }
                ]
            }
        },
        "388ca4ddf7ebd3c4e99a024e563f6a9c7dd1e8212bc0c97813ad9bf712c5ab88",
    ),
    ({}, "bd884bfe31157201e3546ac4900b43524295584dd7aecc98503216f5b1029be7"),
]


@pytest.mark.parametrize(("event", "expected"), _PINNED)
def test_fingerprints_never_change(event: Event, expected: str) -> None:
    """Known events keep the fingerprints they always had, whatever their characters."""
    assert fingerprint(event) == expected


@given(st.lists(st.text().map(lambda text: text.replace("\x00", "")), min_size=1))
def test_keys_are_hashed_in_the_standard_library_encoding(parts: list[str]) -> None:
    """A key of any characters is hashed as compact, ASCII-only ``json.dumps`` encodes it."""
    assume(not any("default" in part for part in parts))
    encoded = json.dumps(["custom", parts], ensure_ascii=True, separators=(",", ":"))
    expected = hashlib.sha256(encoded.encode("ascii")).hexdigest()
    assert fingerprint({"fingerprint": parts}) == expected


# --- totality -----------------------------------------------------------------------------

_IRRELEVANT = ("event_id", "timestamp", "release", "environment", "server_name", "tags", "user")


@given(event_payloads)
def test_any_json_object_has_a_fingerprint(payload: dict[str, object]) -> None:
    """Every JSON object gets a 64-hex fingerprint, the same each time, and never an error."""
    value = fingerprint(payload)
    assert re.fullmatch(r"[0-9a-f]{64}", value)
    assert fingerprint(copy.deepcopy(payload)) == value


@given(event_payloads, json_values)
def test_fields_outside_the_key_never_change_it(payload: dict[str, object], noise: object) -> None:
    """Ids, times, releases, environments, hosts, tags and users never affect grouping."""
    assert fingerprint({**payload, **dict.fromkeys(_IRRELEVANT, noise)}) == fingerprint(
        {key: value for key, value in payload.items() if key not in _IRRELEVANT}
    )
