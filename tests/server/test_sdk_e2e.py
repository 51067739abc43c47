"""End to end: the real ``sentry_sdk`` over real HTTP to ``python -m resentry_server``.

One scenario per transport compression (gzip, brotli) sends what an application sends:
chained exceptions, messages at every level, a transaction with spans, an attachment with
binary bytes, a release-health session, cron check-ins, logs and a client report. Every
request the SDK made is recorded (exact bytes, encoding, answer); the tests then read
everything back through the management API and compare it with what was sent.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
import sentry_sdk
import sentry_sdk.logger as sentry_logs
from sentry_sdk.crons import capture_checkin
from sentry_sdk.transport import HttpTransport

from tests.server.conftest import ADMIN_PASSWORD, LiveServer, live_server_process, sentry_sdk_client

RELEASE = "shop@2.0.0"
ENVIRONMENT = "e2e"
Level = Literal["debug", "info", "warning", "error", "fatal"]
LEVELS: tuple[Level, ...] = ("debug", "info", "warning", "error", "fatal")
ATTACHMENT = b"\x00binary\r\nwith newlines\n\n\x00\xff\xfe and NUL bytes\x00" + bytes(range(256))
MONITOR = "nightly-report"
DROPPED = "this message is dropped by before_send"


@dataclass
class Sent:
    """One HTTP request the SDK made."""

    body: bytes
    content_encoding: str | None
    status: int | None = None


@dataclass
class Scenario:
    """What the SDK sent to one server, and how to read it back."""

    server: LiveServer
    project_id: int
    headers: dict[str, str]
    compression: str
    sent: list[Sent] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    message_ids: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, **params: Any) -> Any:
        """GET a management API path of the project; the JSON answer."""
        response = httpx.get(
            f"{self.server.base_url}/api/v1/projects/{self.project_id}{path}",
            params=params,
            headers=self.headers,
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def event(self, event_id: str) -> dict[str, Any]:
        """An event's detail."""
        detail: dict[str, Any] = self.get(f"/events/{event_id}")
        return detail

    def download(self, url: str) -> tuple[httpx.Headers, bytes]:
        """GET a download URL with the management token: headers and body bytes, not decoded."""
        with httpx.stream("GET", url, headers=self.headers, timeout=30) as response:
            assert response.status_code == 200
            return response.headers, b"".join(response.iter_raw())


def _recording_transport(sent: list[Sent]) -> type[HttpTransport]:
    class RecordingTransport(HttpTransport):
        """The SDK's own HTTP transport, recording each body it sends and the answer."""

        def _send_request(
            self, body: bytes, headers: dict[str, str], *args: Any, **kwargs: Any
        ) -> None:
            sent.append(Sent(body=body, content_encoding=headers.get("Content-Encoding")))
            super()._send_request(body, headers, *args, **kwargs)

        def _handle_response(self, response: Any, *args: Any, **kwargs: Any) -> None:
            sent[-1].status = response.status
            super()._handle_response(response, *args, **kwargs)

    return RecordingTransport


def _drop_marked(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    return None if event.get("message") == DROPPED else event


def _parse_coupon(code: str) -> int:
    return int(code)


def _apply_coupon(code: str) -> int:
    try:
        return _parse_coupon(code)
    except ValueError as exc:
        raise RuntimeError(f"coupon {code!r} could not be applied") from exc


def _send_everything(scenario: Scenario, dsn: str) -> None:
    """Use the SDK as an application would."""
    options: dict[str, Any] = {
        "release": RELEASE,
        "environment": ENVIRONMENT,
        "traces_sample_rate": 1.0,
        "enable_logs": True,
        "before_send": _drop_marked,
        "transport": _recording_transport(scenario.sent),
        "_experiments": {"transport_compression_algo": scenario.compression},
    }
    with sentry_sdk_client(dsn, **options):
        scope = sentry_sdk.get_isolation_scope()
        scope.start_session()
        try:
            _apply_coupon("SPRING-SALE")
        except RuntimeError:
            scenario.ids["exception"] = sentry_sdk.capture_exception() or ""
        scope.end_session()
        for level in LEVELS:
            event_id = sentry_sdk.capture_message(f"checkout reached step {level}", level=level)
            scenario.message_ids[level] = event_id or ""
        with sentry_sdk.start_transaction(name="POST /checkout", op="http.server"):
            with sentry_sdk.start_span(op="db.query", name="SELECT cart"):
                pass
            with sentry_sdk.start_span(op="http.client", name="POST payments"):
                pass
        with sentry_sdk.new_scope() as attachment_scope:
            attachment_scope.add_attachment(
                bytes=ATTACHMENT, filename="core.bin", content_type="application/octet-stream"
            )
            scenario.ids["attachment"] = sentry_sdk.capture_message("crash dump attached") or ""
        check_in_id = capture_checkin(
            monitor_slug=MONITOR,
            status="in_progress",
            monitor_config={"schedule": {"type": "crontab", "value": "0 3 * * *"}},
        )
        capture_checkin(monitor_slug=MONITOR, check_in_id=check_in_id, status="ok", duration=2.5)
        scenario.ids["check_in"] = check_in_id or ""
        sentry_logs.info("order {order_id} placed", order_id=1042)
        sentry_logs.warning("stock low for {sku}", sku="TEA-1")
        sentry_sdk.capture_message(DROPPED)


@pytest.fixture(scope="module", params=["gzip", "br"])
def scenario(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    """A fresh server that received everything the SDK sends, compressed with gzip or brotli."""
    data_dir: Path = tmp_path_factory.mktemp(f"e2e-{request.param}")
    with live_server_process(data_dir) as server:
        server.create_user("admin", ADMIN_PASSWORD, admin=True)
        project_id, dsn = server.create_project("E2E shop")
        scenario = Scenario(
            server=server,
            project_id=project_id,
            headers=server.login("admin", ADMIN_PASSWORD),
            compression=request.param,
        )
        _send_everything(scenario, dsn)
        yield scenario


def test_every_request_was_accepted_and_compressed(scenario: Scenario) -> None:
    """Each request got a 200, and each body was compressed with the configured algorithm."""
    assert len(scenario.sent) >= len(LEVELS) + 6
    assert [sent.status for sent in scenario.sent] == [200] * len(scenario.sent)
    assert {sent.content_encoding for sent in scenario.sent} == {scenario.compression}


def test_stored_envelopes_are_the_exact_bytes_sent(scenario: Scenario) -> None:
    """The raw envelope of every event downloads as exactly the (compressed) body the SDK sent."""
    bodies = {sent.body for sent in scenario.sent}
    event_ids = [
        scenario.ids["exception"],
        scenario.ids["attachment"],
        *scenario.message_ids.values(),
    ]
    for event_id in event_ids:
        headers, raw = scenario.download(scenario.event(event_id)["envelope_url"])
        assert headers["content-encoding"] == scenario.compression
        assert raw in bodies


def test_chained_exception_is_stored_grouped_and_complete(scenario: Scenario) -> None:
    """The exception and its cause arrive in order, with frames, grouped into an issue."""
    event = scenario.event(scenario.ids["exception"])
    assert event["type"] == "error"
    assert event["level"] == "error"
    assert event["release"] == RELEASE
    assert event["environment"] == ENVIRONMENT
    values = event["payload"]["exception"]["values"]
    assert [value["type"] for value in values] == ["ValueError", "RuntimeError"]
    assert values[1]["value"] == "coupon 'SPRING-SALE' could not be applied"
    functions = [frame["function"] for frame in values[0]["stacktrace"]["frames"]]
    assert functions[-2:] == ["_apply_coupon", "_parse_coupon"]
    assert "RuntimeError" in event["title"]
    issue = scenario.get(f"/issues/{event['issue_id']}")
    assert issue["times_seen"] == 1
    assert issue["last_event_id"] == scenario.ids["exception"]


def test_messages_at_every_level(scenario: Scenario) -> None:
    """capture_message at each level is stored with that level and message."""
    for level, event_id in scenario.message_ids.items():
        event = scenario.event(event_id)
        assert event["level"] == level
        assert event["message"] == f"checkout reached step {level}"
        assert event["payload"]["message"] == f"checkout reached step {level}"


def test_transaction_with_spans(scenario: Scenario) -> None:
    """The transaction is stored as an event without an issue, with its two spans."""
    page = scenario.get("/events/", type="transaction")
    [transaction] = page["items"]
    assert transaction["transaction"] == "POST /checkout"
    assert transaction["op"] == "http.server"
    assert transaction["issue_id"] is None
    assert transaction["span_count"] == 2
    payload = scenario.event(transaction["event_id"])["payload"]
    assert sorted(span["op"] for span in payload["spans"]) == ["db.query", "http.client"]


def test_attachment_bytes_are_exact(scenario: Scenario) -> None:
    """The binary attachment (NUL bytes, CR/LF) downloads byte for byte, with its metadata."""
    event = scenario.event(scenario.ids["attachment"])
    [attachment] = event["attachments"]
    assert attachment["filename"] == "core.bin"
    assert attachment["content_type"] == "application/octet-stream"
    assert attachment["attachment_type"] == "event.attachment"
    assert attachment["size"] == len(ATTACHMENT)
    headers, data = scenario.download(attachment["download_url"])
    assert data == ATTACHMENT
    assert "content-encoding" not in headers


def test_release_health_session(scenario: Scenario) -> None:
    """The session that saw an error counts as started and errored for the release."""
    [health] = scenario.get("/sessions/")["items"]
    assert health["release"] == RELEASE
    assert health["environment"] == ENVIRONMENT
    assert health["started"] == 1
    assert health["errored"] == 1


def test_cron_check_ins(scenario: Scenario) -> None:
    """The monitor is created with its schedule; its one check-in ended ok after 2.5 s."""
    [monitor] = scenario.get("/monitors/")["items"]
    assert monitor["slug"] == MONITOR
    assert monitor["config"]["schedule"] == {"type": "crontab", "value": "0 3 * * *"}
    assert monitor["last_status"] == "ok"
    [check_in] = scenario.get(f"/monitors/{MONITOR}/check-ins/")["items"]
    assert check_in["check_in_id"].replace("-", "") == scenario.ids["check_in"].replace("-", "")
    assert check_in["status"] == "ok"
    assert check_in["duration"] == pytest.approx(2.5)


def test_logs(scenario: Scenario) -> None:
    """Both log records arrive with their formatted body, level and template attributes."""
    logs = {log["body"]: log for log in scenario.get("/logs/")["items"]}
    assert set(logs) == {"order 1042 placed", "stock low for TEA-1"}
    assert logs["order 1042 placed"]["level"] == "info"
    assert logs["stock low for TEA-1"]["level"] == "warn"
    attributes = logs["order 1042 placed"]["attributes"]
    assert attributes["sentry.message.template"]["value"] == "order {order_id} placed"
    assert attributes["sentry.message.parameter.order_id"]["value"] == 1042
    assert attributes["sentry.release"]["value"] == RELEASE


def test_client_report_of_the_dropped_event(scenario: Scenario) -> None:
    """The event dropped by before_send is reported by the SDK and summed per reason."""
    counters = scenario.get("/client-reports/")["items"]
    assert {"reason": "before_send", "category": "error", "quantity": 1} in counters
    dropped = scenario.get("/events/", level="info")["items"]
    assert DROPPED not in [event["message"] for event in dropped]
