"""Realistic Sentry payloads and envelopes for tests, built the way SDKs build them."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

Headers = Mapping[str, Any]


def error_event(
    *,
    exc_type: str = "ValueError",
    value: str = "invalid literal for int() with base 10: 'abc'",
    module: str = "shop.checkout",
    function: str = "apply_coupon",
    lineno: int = 42,
    release: str = "shop@1.0.0",
    environment: str = "production",
    server_name: str = "web-1",
    local_vars: Mapping[str, str] | None = None,
    level: str = "error",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An error event as sentry-python sends it: one exception with an in-app frame."""
    frames = [
        {
            "filename": "django/core/handlers/base.py",
            "module": "django.core.handlers.base",
            "function": "_get_response",
            "lineno": 197,
            "in_app": False,
        },
        {
            "filename": module.replace(".", "/") + ".py",
            "abs_path": "/srv/app/" + module.replace(".", "/") + ".py",
            "module": module,
            "function": function,
            "lineno": lineno,
            "context_line": "    total = int(code)",
            "pre_context": ["def apply_coupon(code):"],
            "post_context": ["    return total"],
            "vars": dict(local_vars or {"code": "'abc'"}),
            "in_app": True,
        },
    ]
    event: dict[str, Any] = {
        "level": level,
        "platform": "python",
        "timestamp": "2026-11-26T03:00:00.123456Z",
        "release": release,
        "environment": environment,
        "server_name": server_name,
        "exception": {
            "values": [
                {
                    "type": exc_type,
                    "value": value,
                    "module": None,
                    "mechanism": {"type": "generic", "handled": False},
                    "stacktrace": {"frames": frames},
                }
            ]
        },
        "tags": {"browser": "Firefox"},
        "user": {"id": "42", "email": "jane@example.com"},
        "sdk": {"name": "sentry.python", "version": "2.75.0"},
        "breadcrumbs": {
            "values": [
                {"timestamp": 1764126000.0, "category": "http", "message": f"GET /cart/{i}"}
                for i in range(5)
            ]
        },
    }
    event.update(extra or {})
    return event


def message_event(message: str = "Something happened", *, level: str = "info") -> dict[str, Any]:
    """A plain message event."""
    return {"level": level, "platform": "python", "message": message, "release": "shop@1.0.0"}


def transaction_event(name: str = "/checkout", *, spans: int = 3) -> dict[str, Any]:
    """A transaction with ``spans`` child spans."""
    return {
        "type": "transaction",
        "transaction": name,
        "start_timestamp": 1764126000.0,
        "timestamp": 1764126000.25,
        "platform": "python",
        "release": "shop@1.0.0",
        "contexts": {
            "trace": {
                "trace_id": uuid.uuid4().hex,
                "span_id": uuid.uuid4().hex[:16],
                "op": "http.server",
                "status": "ok",
            }
        },
        "spans": [
            {
                "span_id": uuid.uuid4().hex[:16],
                "op": "db",
                "description": "SELECT 1",
                "start_timestamp": 1764126000.01,
                "timestamp": 1764126000.02,
            }
            for _ in range(spans)
        ],
    }


def item(
    item_type: str, payload: bytes | Mapping[str, Any], **headers: Any
) -> tuple[Headers, bytes]:
    """One item: JSON payloads are encoded; every item gets an explicit length."""
    data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return {"type": item_type, "length": len(data), **headers}, data


def envelope(
    items: Sequence[tuple[Headers, bytes]] = (),
    *,
    event_id: str | None = None,
    **headers: Any,
) -> bytes:
    """Serialize an envelope the way sentry-python does (explicit lengths, trailing newline)."""
    head: dict[str, Any] = dict(headers)
    if event_id is not None:
        head["event_id"] = event_id
    parts = [orjson.dumps(head)]
    for item_headers, payload in items:
        parts += [orjson.dumps(dict(item_headers)), payload]
    return b"\n".join(parts) + b"\n"


def error_envelope(event_id: str | None = None, **event_fields: Any) -> bytes:
    """An envelope with one error event (a fresh id unless one is given)."""
    event_id = event_id or uuid.uuid4().hex
    return envelope([item("event", error_event(**event_fields))], event_id=event_id)
