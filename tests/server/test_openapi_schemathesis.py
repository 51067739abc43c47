"""The OpenAPI schema holds: schemathesis calls every operation in-process, as an admin.

A SQLite database is seeded first (an admin, a project with an event, an attachment, an issue,
sessions, a monitor, logs, feedback and a client report); the app opens it in its own lifespan.
Path parameters are pointed at the seeded objects, so detail routes answer real data and not
only 404s. No answer may be a 5xx, and every answer must match the schema (status, content
type, headers, body). Not checked: that every schema-valid request succeeds (an opaque cursor
or "exactly one of user_id and username" cannot be expressed in the schema) and that every
schema-invalid one fails. ``docs/routes.md`` must list exactly the routes the app serves.
"""

import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.core.failures import FailureGroup
from schemathesis.python.asgi import shutdown_lifespans

from resentry_core import IngestRequest
from resentry_core._config import CoreConfig
from resentry_core._models import Project
from resentry_core._resentry import Resentry
from resentry_server._app import create_app
from resentry_server._ui import UI_ROUTERS
from tests import factories as f
from tests.server.api_helpers import PASSWORD
from tests.server.conftest import FAST_BCRYPT_ROUNDS, settings_for

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 10
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


# Envelope bodies are bytes, sent as generated (the built-in binary serializer).
schemathesis.serializer.alias("application/x-sentry-envelope", "application/octet-stream")


@dataclass(frozen=True)
class Seeded:
    """What the seeded database holds, by the names of the path parameters that address it.

    ``path_values`` address the seeded data; ``sacrificial`` the project and user that
    ``DELETE`` and user changes may hit, so the admin and the data stay for the whole run.
    """

    access_token: str
    path_values: dict[str, Any]
    sacrificial: dict[str, Any]


async def seed(config: CoreConfig) -> Seeded:
    """Create the admin, a project and one of each kind of data; log the admin in."""
    async with Resentry.open(config) as core:
        await core.accounts.create_user("admin", PASSWORD, is_admin=True)
        victim = await core.accounts.create_user("victim", PASSWORD)
        project = await core.projects.create_project("Shop")
        doomed = await core.projects.create_project("Doomed")
        event_id = uuid.uuid4().hex
        check_in = {"check_in_id": uuid.uuid4().hex, "monitor_slug": "nightly", "status": "ok"}
        log = {"items": [{"timestamp": 1764126000.0, "level": "info", "body": "hi"}]}
        report = {"discarded_events": [{"reason": "r", "category": "error", "quantity": 1}]}
        items = [
            f.item("event", f.error_event()),
            f.item("attachment", b"log\n", filename="app.log", content_type="text/plain"),
            f.item("session", _session()),
            f.item("check_in", check_in),
            f.item("log", log),
            f.item("client_report", report),
        ]
        await _ingest(core, project, f.envelope(items, event_id=event_id))
        feedback = f.item("feedback", {"contexts": {"feedback": {"message": "Nice"}}})
        await _ingest(core, project, f.envelope([feedback], event_id=uuid.uuid4().hex))
        detail = await core.storage.get_event(project.id, event_id)
        item = (await core.storage.list_items(project.id, type="session")).items[0]
        tokens = await core.accounts.login("admin", PASSWORD)
    return Seeded(
        access_token=tokens.access_token,
        path_values={
            "project_id": project.id,
            "event_id": event_id,
            "issue_id": detail.event.issue_id,
            "attachment_id": detail.attachments[0].id,
            "envelope_id": detail.event.envelope_id,
            "item_id": item.id,
            "monitor_slug": "nightly",
            "user_id": victim.id,
            "key_id": project.keys[0].id,
        },
        sacrificial={"project_id": doomed.id},
    )


def _session() -> dict[str, Any]:
    return {
        "sid": uuid.uuid4().hex,
        "started": "2026-11-26T03:00:00Z",
        "status": "exited",
        "attrs": {"release": "shop@1.0.0"},
    }


async def _ingest(core: Resentry, project: Project, body: bytes) -> None:
    key = project.keys[0].public_key
    auth = f"Sentry sentry_key={key}, sentry_version=7"
    await core.ingestor.ingest(IngestRequest(project_id=project.id, body=body, x_sentry_auth=auth))


@pytest.fixture(scope="module")
def seeded_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Seeded]]:
    """The app's schema, served in-process by an app on a freshly seeded database."""
    data_dir = tmp_path_factory.mktemp("schemathesis")
    server_settings = settings_for(
        data_dir, secret_key=secrets.token_urlsafe(48), bcrypt_rounds=FAST_BCRYPT_ROUNDS
    )
    seeded = anyio.run(seed, server_settings.to_core_config())
    app = create_app(server_settings)
    yield schemathesis.openapi.from_asgi("/openapi.json", app), seeded
    shutdown_lifespans()  # schemathesis keeps the app's lifespan (its open core) running


def _path_parameters(operation: Any, seeded: Seeded) -> dict[str, Any]:
    names = {parameter.name for parameter in operation.path_parameters}
    values = seeded.path_values
    if operation.method.upper() == "DELETE" and operation.path.endswith("{project_id}"):
        values = seeded.sacrificial
    return {name: value for name, value in values.items() if name in names}


def test_every_operation_conforms_to_the_schema(seeded_schema: tuple[Any, Seeded]) -> None:
    """No operation answers a server error, and every answer matches the OpenAPI schema.

    Each operation gets positive and negative cases (invalid parameters and bodies must be
    refused with a 4xx); path parameters address the seeded data.
    """
    schema, seeded = seeded_schema
    headers = {"Authorization": f"Bearer {seeded.access_token}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(
                generation_mode=mode,
                path_parameters=_path_parameters(operation, seeded),
                headers=headers,
            )

            @given(case=strategy)
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: report fast, as found
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                case.call_and_validate(checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to get wrong
            except (FailureGroup, Exception) as exc:  # noqa: BLE001 - all reported together below
                failures.append(f"{mode.value} {operation.label}:\n{exc}")
    assert not failures, "\n\n".join(failures)


def _documented(markdown: str) -> set[tuple[str, str]]:
    documented = set()
    for line in markdown.splitlines():
        cells = line.split("|")
        if len(cells) < 4:
            continue
        methods = re.findall(r"`([A-Z]+)`", cells[1])
        paths = re.findall(r"`(/[^`]*)`", cells[2])
        documented |= {(method, path) for method in methods for path in paths}
    return documented


def test_routes_doc_lists_every_route(tmp_path: Path) -> None:
    """``docs/routes.md`` lists exactly the operations of the app's OpenAPI schema, and in its
    "Web UI" section exactly the UI's pages (which the schema leaves out).

    Only the CORS preflight (``OPTIONS``) routes and the schema and docs pages themselves are
    documented without being operations of the schema.
    """
    text = (ROOT / "docs" / "routes.md").read_text(encoding="utf-8")
    before_ui, rest = text.split("\n## Web UI\n", 1)
    ui_section, service = rest.split("\n## Service routes\n", 1)
    documented = _documented(before_ui) | _documented(service)
    paths = create_app(settings_for(tmp_path)).openapi()["paths"]
    served = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    not_operations = {
        (method, path)
        for method, path in documented
        if method == "OPTIONS" or path in ("/openapi.json", "/docs", "/redoc")
    }
    assert len(not_operations) == 6
    assert served == documented - not_operations
    pages = {
        (method, route.path)
        for router in UI_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    assert _documented(ui_section) == pages
