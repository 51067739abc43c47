"""``send_test_event``: send a real error event to a DSN, as a Sentry SDK would.

It builds an envelope (https://develop.sentry.dev/sdk/data-model/envelopes/) holding one
``event`` item with an exception and its stack trace, and posts it to the DSN's envelope
endpoint with ``X-Sentry-Auth`` (https://develop.sentry.dev/sdk/overview/#authentication).
"""

import json
import sys
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from resentry_client._errors import ResentryClientError, error_for_response, error_for_transport
from resentry_client._flow import DEFAULT_TIMEOUT, USER_AGENT


@dataclass(frozen=True, slots=True)
class ParsedDsn:
    """The parts of a DSN: ``{scheme}://{public_key}@{host}{prefix}/{project_id}``."""

    public_key: str
    base_url: str
    project_id: int

    @property
    def envelope_url(self) -> str:
        """Where SDKs send envelopes."""
        return f"{self.base_url}/api/{self.project_id}/envelope/"


def parse_dsn(dsn: str) -> ParsedDsn:
    """Split a DSN.

    Raises:
        ResentryClientError: it is not a DSN.
    """
    parts = urlsplit(dsn.strip())
    prefix, _, project = parts.path.rstrip("/").rpartition("/")
    if (
        parts.scheme not in ("http", "https")
        or not parts.username
        or not parts.hostname
        or not project.isdigit()
    ):
        raise ResentryClientError(
            f"not a DSN: {dsn!r} (expected http://<public_key>@<host>[:port]/<project_id>)"
        )
    host = parts.netloc.rpartition("@")[2]
    return ParsedDsn(parts.username, f"{parts.scheme}://{host}{prefix}", int(project))


class ResentryTestError(Exception):
    """The exception of the test event."""


def _exception_event(event_id: str, message: str) -> dict[str, Any]:
    try:
        raise ResentryTestError(message)
    except ResentryTestError as exc:
        frames = [
            {
                "filename": frame.filename,
                "function": frame.name,
                "lineno": frame.lineno,
                "context_line": frame.line,
                "in_app": True,
            }
            for frame in traceback.extract_tb(exc.__traceback__)
        ]
    return {
        "event_id": event_id,
        "timestamp": datetime.now(UTC).isoformat(),
        "platform": "python",
        "level": "error",
        "logger": "resentry-client",
        "exception": {
            "values": [
                {
                    "type": ResentryTestError.__name__,
                    "value": message,
                    "module": __name__,
                    "mechanism": {"type": "resentry-client", "handled": True},
                    "stacktrace": {"frames": frames},
                }
            ]
        },
        "tags": {"resentry.test_event": "true"},
        "contexts": {"runtime": {"name": "CPython", "version": sys.version.split()[0]}},
        "sdk": {"name": "resentry-client", "version": USER_AGENT.partition("/")[2] or "0"},
    }


def send_test_event(
    dsn: str,
    *,
    message: str = "This is a test event sent by resentry-client",
    http_client: httpx.Client | None = None,
) -> str:
    """Send one error event to ``dsn`` and return its event id (32 hex digits).

    Raises:
        ResentryClientError: ``dsn`` is not a DSN.
        APIStatusError: the server refused the event (e.g. 403 for a revoked key).
        APIConnectionError: the server could not be reached.
    """
    parsed = parse_dsn(dsn)
    event_id = uuid.uuid4().hex
    payload = json.dumps(_exception_event(event_id, message)).encode()
    header = {"event_id": event_id, "dsn": dsn, "sent_at": datetime.now(UTC).isoformat()}
    body = b"\n".join(
        [
            json.dumps(header).encode(),
            json.dumps({"type": "event", "length": len(payload)}).encode(),
            payload,
        ]
    )
    headers = {
        "Content-Type": "application/x-sentry-envelope",
        "User-Agent": USER_AGENT,
        "X-Sentry-Auth": (
            f"Sentry sentry_key={parsed.public_key}, sentry_version=7, sentry_client={USER_AGENT}"
        ),
    }
    http = http_client or httpx.Client(timeout=DEFAULT_TIMEOUT)
    try:
        request = http.build_request("POST", parsed.envelope_url, content=body, headers=headers)
        try:
            response = http.send(request)
        except httpx.TransportError as exc:
            raise error_for_transport(exc, request) from exc
        if response.is_error:
            raise error_for_response(response)
    finally:
        if http_client is None:
            http.close()
    return event_id
