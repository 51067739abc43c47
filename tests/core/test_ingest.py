"""The Ingestor against every storage backend: acceptance, grouping, idempotency, bad input."""

import gzip
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import anyio
import orjson
import pytest

from resentry_core import Ingestor, IngestRequest
from resentry_core._errors import (
    AuthenticationError,
    EnvelopeError,
    InvalidAuthError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    ResentryError,
    StorageError,
    UnsupportedEncodingError,
)
from resentry_core._limits import Limits
from resentry_core._models import Project
from resentry_core._projects import Projects
from resentry_core._records import PreparedEnvelope, Recorded
from resentry_core._storage._protocol import EventFilter, Storage
from tests import factories as f


@dataclass(frozen=True)
class Setup:
    storage: Storage
    project: Project
    other: Project

    @property
    def key(self) -> str:
        return self.project.keys[0].public_key

    def request(self, body: bytes, **fields: object) -> IngestRequest:
        """A request for the main project authenticated with its key in X-Sentry-Auth."""
        values: dict[str, object] = {
            "project_id": self.project.id,
            "body": body,
            "x_sentry_auth": f"Sentry sentry_key={self.key}, sentry_version=7",
        }
        values.update(fields)
        return IngestRequest(**values)  # type: ignore[arg-type]


@pytest.fixture
async def setup(storage: Storage) -> Setup:
    project = await Projects(storage).create_project("Shop")
    other = await Projects(storage).create_project("Other")
    return Setup(storage, project, other)


async def assert_nothing_stored(s: Setup) -> None:
    for project in (s.project, s.other):
        assert len((await s.storage.list_items(project.id)).items) == 0
        assert len((await s.storage.list_issues(project.id)).items) == 0
    assert len((await s.storage.list_events(EventFilter())).items) == 0


async def test_ingest_stores_and_groups_an_error_event(setup: Setup) -> None:
    """An error envelope is stored with its event, grouped into a new issue, id normalized."""
    event_id = uuid.uuid4()
    result = await Ingestor(setup.storage).ingest(
        setup.request(f.error_envelope(str(event_id).upper()))
    )
    assert result.event_id == event_id.hex
    assert result.new_issue and result.issue_id is not None and not result.duplicate
    issue = await setup.storage.get_issue(setup.project.id, result.issue_id)
    assert issue.times_seen == 1
    assert issue.title == "ValueError: invalid literal for int() with base 10: 'abc'"
    detail = await setup.storage.get_event(setup.project.id, event_id.hex)
    assert detail.event.issue_id == issue.id
    assert orjson.loads(detail.payload)["exception"]["values"][0]["type"] == "ValueError"


async def test_same_error_with_shifted_lines_and_other_release_joins_the_issue(
    setup: Setup,
) -> None:
    """Line numbers, release, host and local variables do not split an issue."""
    ingestor = Ingestor(setup.storage)
    first = await ingestor.ingest(setup.request(f.error_envelope()))
    second = await ingestor.ingest(
        setup.request(
            f.error_envelope(
                lineno=99, release="shop@2.0.0", server_name="web-9", local_vars={"code": "'x'"}
            )
        )
    )
    other = await ingestor.ingest(setup.request(f.error_envelope(exc_type="KeyError")))
    assert second.issue_id == first.issue_id and not second.new_issue
    assert other.issue_id != first.issue_id and other.new_issue
    assert first.issue_id is not None
    assert (await setup.storage.get_issue(setup.project.id, first.issue_id)).times_seen == 2


async def test_resent_event_is_stored_once(setup: Setup) -> None:
    """SDK retries with the same event id are accepted (same id back) and stored once."""
    ingestor = Ingestor(setup.storage)
    body = f.error_envelope()
    first = await ingestor.ingest(setup.request(body))
    again = await ingestor.ingest(setup.request(body))
    assert again.event_id == first.event_id and again.duplicate
    assert len((await setup.storage.list_events(EventFilter())).items) == 1
    assert first.issue_id is not None
    assert (await setup.storage.get_issue(setup.project.id, first.issue_id)).times_seen == 1


async def test_event_without_any_id_gets_one(setup: Setup) -> None:
    """An event with no envelope or payload id is given a fresh 32-hex id."""
    body = f.envelope([f.item("event", f.error_event())])
    result = await Ingestor(setup.storage).ingest(setup.request(body))
    assert result.event_id is not None and len(result.event_id) == 32
    await setup.storage.get_event(setup.project.id, result.event_id)


async def test_resolved_issue_regresses(setup: Setup) -> None:
    """A new event on a resolved issue reopens it and is reported as a regression."""
    ingestor = Ingestor(setup.storage)
    first = await ingestor.ingest(setup.request(f.error_envelope()))
    assert first.issue_id is not None
    await setup.storage.set_issue_status(setup.project.id, first.issue_id, "resolved")
    again = await ingestor.ingest(setup.request(f.error_envelope()))
    assert again.regression and not again.new_issue
    issue = await setup.storage.get_issue(setup.project.id, first.issue_id)
    assert issue.status == "unresolved"


async def test_envelope_dsn_authenticates(setup: Setup) -> None:
    """With no header or query auth, the envelope header's dsn is the key (as in Relay)."""
    dsn = f"http://{setup.key}@127.0.0.1:8000/{setup.project.id}"
    body = f.envelope([f.item("event", f.error_event())], event_id=uuid.uuid4().hex, dsn=dsn)
    result = await Ingestor(setup.storage).ingest(
        IngestRequest(project_id=setup.project.id, body=body)
    )
    assert result.envelope_id is not None


async def test_legacy_store_body_forms(setup: Setup) -> None:
    """/store/ accepts plain JSON and base64(zlib(JSON)) and stores them as events."""
    import base64

    ingestor = Ingestor(setup.storage)
    event = f.error_event()
    plain = await ingestor.ingest_store(setup.request(orjson.dumps(event)))
    packed = base64.b64encode(zlib.compress(orjson.dumps(event)))
    old = await ingestor.ingest_store(setup.request(packed))
    assert plain.issue_id == old.issue_id is not None
    assert plain.event_id != old.event_id


def _bad_requests(s: Setup) -> list[tuple[str, IngestRequest, type[ResentryError]]]:
    good = f.error_envelope()
    key = s.key
    other_key = s.other.keys[0].public_key
    bomb = gzip.compress(b"{}\n" + b" " * (2 * 1024 * 1024), compresslevel=9)
    huge_event = f.envelope([f.item("event", b"{" + b" " * 8192 + b"}")])
    return [
        ("no auth", IngestRequest(project_id=s.project.id, body=good), AuthenticationError),
        (
            "two different keys",
            s.request(good, query=f"sentry_key={other_key}"),
            AuthenticationError,
        ),
        ("short key", s.request(good, x_sentry_auth="Sentry sentry_key=abc"), InvalidAuthError),
        (
            "protocol 8",
            s.request(good, x_sentry_auth=f"Sentry sentry_key={key}, sentry_version=8"),
            InvalidAuthError,
        ),
        (
            "other project's key",
            s.request(good, x_sentry_auth=f"Sentry sentry_key={other_key}"),
            PermissionDeniedError,
        ),
        ("unknown project", s.request(good, project_id=999_999), PermissionDeniedError),
        ("lz4", s.request(good, content_encoding="lz4"), UnsupportedEncodingError),
        ("label mismatch", s.request(good, content_encoding="gzip"), EnvelopeError),
        ("gzip bomb", s.request(bomb, content_encoding="gzip"), PayloadTooLargeError),
        ("event too large", s.request(huge_event), PayloadTooLargeError),
        ("bad framing", s.request(b'{"event_id": 5}\n'), EnvelopeError),
        ("bad event JSON", s.request(f.envelope([f.item("event", b"{nope")])), EnvelopeError),
        (
            "dsn for another project",
            s.request(
                f.envelope([f.item("event", f.error_event())], dsn=f"http://{key}@h/{s.other.id}")
            ),
            EnvelopeError,
        ),
    ]


async def test_bad_input_writes_nothing(setup: Setup) -> None:
    """Every class of bad request raises its own error and leaves storage untouched."""
    limits = Limits(max_envelope_bytes=1024 * 1024, max_event_bytes=4096)
    ingestor = Ingestor(setup.storage, limits=limits)
    for name, request, error in _bad_requests(setup):
        with pytest.raises(error):
            await ingestor.ingest(request)
        await assert_nothing_stored(setup)
        assert name  # the case name shows up in the traceback of a failure


async def test_revoked_key_is_refused(setup: Setup) -> None:
    """A revoked key answers PermissionDenied and writes nothing."""
    await setup.storage.revoke_key(setup.project.id, setup.project.keys[0].id)
    with pytest.raises(PermissionDeniedError):
        await Ingestor(setup.storage).ingest(setup.request(f.error_envelope()))
    await assert_nothing_stored(setup)


async def test_disallowed_origin_is_refused(storage: Storage) -> None:
    """A browser Origin outside the project's allowed origins is refused; listed ones pass."""
    project = await Projects(storage).create_project(
        "web", allowed_origins=["https://*.example.com"]
    )
    auth = f"Sentry sentry_key={project.keys[0].public_key}"
    ingestor = Ingestor(storage)
    body = f.error_envelope()
    with pytest.raises(PermissionDeniedError):
        await ingestor.ingest(
            IngestRequest(
                project_id=project.id, body=body, x_sentry_auth=auth, origin="https://evil.io"
            )
        )
    ok = await ingestor.ingest(
        IngestRequest(
            project_id=project.id, body=body, x_sentry_auth=auth, origin="https://app.example.com"
        )
    )
    assert ok.envelope_id is not None


async def test_rate_limit_spares_client_reports(storage: Storage) -> None:
    """Over the limit: events are refused (429), client reports are still stored."""
    project = await Projects(storage).create_project("limited", rate_limit_per_minute=2)
    auth = f"Sentry sentry_key={project.keys[0].public_key}"
    now = [0.0]
    ingestor = Ingestor(storage, monotonic=lambda: now[0])

    def request(body: bytes) -> IngestRequest:
        return IngestRequest(project_id=project.id, body=body, x_sentry_auth=auth)

    report = {
        "discarded_events": [{"reason": "queue_overflow", "category": "error", "quantity": 3}]
    }
    for _ in range(2):
        await ingestor.ingest(request(f.error_envelope()))
    with pytest.raises(RateLimitedError) as refused:
        await ingestor.ingest(request(f.error_envelope()))
    assert 0 < refused.value.retry_after <= 30
    mixed = await ingestor.ingest(
        request(f.envelope([f.item("event", f.error_event()), f.item("client_report", report)]))
    )
    assert mixed.rate_limits and mixed.issue_id is None
    only_report = await ingestor.ingest(request(f.envelope([f.item("client_report", report)])))
    assert not only_report.rate_limits
    counters = await storage.discard_counters(project.id)
    assert [(c.reason, c.category, c.quantity) for c in counters] == [
        ("queue_overflow", "error", 6)
    ]
    assert len((await storage.list_events(EventFilter(project_ids=(project.id,)))).items) == 2
    now[0] += 30.0  # one token refilled
    await ingestor.ingest(request(f.error_envelope()))


async def test_concurrent_ingests_count_exactly(setup: Setup) -> None:
    """500 concurrent ingests of one error through group commit: one issue, times_seen 500;
    50 concurrent sends of one event id: one event."""
    ingestor = Ingestor(setup.storage)
    results: list[str | None] = []
    dup_body = f.error_envelope(exc_type="DupError")

    async def send(body: bytes) -> None:
        results.append((await ingestor.ingest(setup.request(body))).event_id)

    async with ingestor.group_commit(max_batch=64), anyio.create_task_group() as tg:
        for _ in range(500):
            tg.start_soon(send, f.error_envelope())
        for _ in range(50):
            tg.start_soon(send, dup_body)
    issues = (await setup.storage.list_issues(setup.project.id)).items
    assert sorted(i.times_seen for i in issues) == [1, 500]
    assert len(results) == 550 and len(set(results)) == 501


class _PoisonStorage:
    """Delegates to a real storage but fails any batch containing a poisoned event id."""

    def __init__(self, inner: Storage, poison: str) -> None:
        self.inner = inner
        self.poison = poison
        self.batches: list[int] = []

    async def project_for_key(self, project_id: int, public_key: str) -> Project | None:
        return await self.inner.project_for_key(project_id, public_key)

    async def record(self, batch: Sequence[PreparedEnvelope]) -> list[Recorded]:
        self.batches.append(len(batch))
        if any(p.event_id == self.poison for p in batch):
            raise RuntimeError("disk on fire")
        return await self.inner.record(batch)

    async def prune(self, project_id: int, older_than: datetime) -> int:
        return await self.inner.prune(project_id, older_than)


async def test_failed_envelope_does_not_fail_its_batch(setup: Setup) -> None:
    """Group commit retries a failed batch one by one: only the bad envelope fails."""
    poison = uuid.uuid4().hex
    store = _PoisonStorage(setup.storage, poison)
    ingestor = Ingestor(store)
    outcomes: dict[str, bool] = {}

    async def send(event_id: str) -> None:
        try:
            await ingestor.ingest(setup.request(f.error_envelope(event_id)))
        except StorageError:
            outcomes[event_id] = False
        else:
            outcomes[event_id] = True

    ids = [uuid.uuid4().hex for _ in range(20)] + [poison]
    async with ingestor.group_commit(max_batch=64), anyio.create_task_group() as tg:
        for event_id in ids:
            tg.start_soon(send, event_id)
    assert outcomes.pop(poison) is False and all(outcomes.values())
    assert max(store.batches) > 1  # batching really happened
    stored = {e.event_id for e in (await setup.storage.list_events(EventFilter(), limit=500)).items}
    assert stored == set(ids) - {poison}


class _GatedStorage:
    """Delegates to a real storage, but holds every batch until ``gate`` is set."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.gate = anyio.Event()

    async def project_for_key(self, project_id: int, public_key: str) -> Project | None:
        return await self.inner.project_for_key(project_id, public_key)

    async def record(self, batch: Sequence[PreparedEnvelope]) -> list[Recorded]:
        await self.gate.wait()
        return await self.inner.record(batch)

    async def prune(self, project_id: int, older_than: datetime) -> int:
        return await self.inner.prune(project_id, older_than)


async def test_leaving_group_commit_stores_the_queued_envelopes(setup: Setup) -> None:
    """Envelopes still queued when the group-commit context closes are stored and answered."""
    store = _GatedStorage(setup.storage)
    ingestor = Ingestor(store)
    answered: list[str | None] = []

    async def send() -> None:
        answered.append((await ingestor.ingest(setup.request(f.error_envelope()))).event_id)

    async def open_gate() -> None:
        await anyio.wait_all_tasks_blocked()  # the context below is closing
        store.gate.set()

    async with anyio.create_task_group() as tg, ingestor.group_commit(max_batch=4):
        for _ in range(10):
            tg.start_soon(send)
        await anyio.wait_all_tasks_blocked()  # one batch is being written, the rest queued
        tg.start_soon(open_gate)
    assert len(set(answered)) == 10
    stored = await setup.storage.list_events(EventFilter(), limit=50)
    assert {e.event_id for e in stored.items} == set(answered)


async def test_busy_for_a_second_after_storing(storage: Storage) -> None:
    """``busy`` (which paces the worker of the same process) holds for a second after an
    envelope is stored, and not before any."""
    project = await Projects(storage).create_project("paced")
    now = [100.0]
    ingestor = Ingestor(storage, monotonic=lambda: now[0])
    assert not ingestor.busy()
    auth = f"Sentry sentry_key={project.keys[0].public_key}"
    await ingestor.ingest(
        IngestRequest(project_id=project.id, body=f.error_envelope(), x_sentry_auth=auth)
    )
    assert ingestor.busy()
    now[0] += 0.9
    assert ingestor.busy()
    now[0] += 0.2
    assert not ingestor.busy()
