"""Ingest authentication: every source read once, and the order of the checks when several fail.

The HTTP answers of these cases are pinned in ``tests/server/test_ingest_api.py``; here the
authenticator runs alone, against SQLite, with a body reader that counts its calls.
"""

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from resentry_core import IngestRequest
from resentry_core._envelope import Envelope
from resentry_core._errors import (
    AuthenticationError,
    EnvelopeError,
    InvalidAuthError,
    PermissionDeniedError,
    ResentryError,
)
from resentry_core._ingest_auth import IngestAuthenticator, Sender
from resentry_core._models import Project
from resentry_core._parser import parse_envelope
from resentry_core._projects import Projects
from resentry_core._storage._sql import SqlStorage
from tests import factories as f
from tests.core.conftest import open_sql_storage


@dataclass
class Reader:
    """Parses the request body, counting the calls."""

    body: bytes
    calls: list[int] = field(default_factory=list)

    def __call__(self) -> Envelope:
        self.calls.append(1)
        return parse_envelope(self.body)


@dataclass(frozen=True)
class Setup:
    auth: IngestAuthenticator
    project: Project

    @property
    def key(self) -> str:
        return self.project.keys[0].public_key

    def dsn(self, key: str | None = None, project_id: int | None = None) -> str:
        return f"http://{key or self.key}@localhost/{project_id or self.project.id}"

    async def envelope(self, body: bytes, **fields: str) -> tuple[Sender, Reader]:
        reader = Reader(body)
        request = IngestRequest(project_id=self.project.id, body=body, **fields)
        sender, envelope = await self.auth.envelope(request, reader)
        assert envelope == parse_envelope(body)
        return sender, reader

    async def refused(self, body: bytes, **fields: str) -> tuple[ResentryError, Reader]:
        reader = Reader(body)
        request = IngestRequest(project_id=self.project.id, body=body, **fields)
        with pytest.raises(ResentryError) as caught:
            await self.auth.envelope(request, reader)
        return caught.value, reader


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    storage: SqlStorage = await open_sql_storage(f"sqlite:///{tmp_path / 'auth.db'}")
    try:
        project = await Projects(storage).create_project("Shop")
        yield Setup(IngestAuthenticator(storage), project)
    finally:
        await storage.aclose()


def _header(key: str) -> str:
    return f"Sentry sentry_key={key}, sentry_version=7"


async def test_header_key_is_checked_and_the_body_read_once(setup: Setup) -> None:
    """With credentials in the header, the project comes from the key; the body is read once."""
    sender, reader = await setup.envelope(f.error_envelope(), x_sentry_auth=_header(setup.key))
    assert (sender.auth.public_key, sender.auth.source) == (setup.key, "header")
    assert sender.project.id == setup.project.id
    assert len(reader.calls) == 1


async def test_envelope_dsn_alone_authenticates(setup: Setup) -> None:
    """Without request credentials the envelope's dsn is the key."""
    body = f.envelope([f.item("event", f.error_event())], dsn=setup.dsn())
    sender, reader = await setup.envelope(body)
    assert (sender.auth.public_key, sender.auth.source) == (setup.key, "envelope")
    assert sender.project.id == setup.project.id
    assert len(reader.calls) == 1


async def test_request_key_failures_come_before_the_body(setup: Setup) -> None:
    """A malformed key (400) and an unknown key (403) are refused without reading the body."""
    error, reader = await setup.refused(b"garbage", x_sentry_auth=_header("short"))
    assert isinstance(error, InvalidAuthError)
    assert reader.calls == []
    error, reader = await setup.refused(b"garbage", x_sentry_auth=_header(secrets.token_hex(16)))
    assert isinstance(error, PermissionDeniedError)
    assert reader.calls == []


async def test_bad_body_is_answered_before_bad_or_missing_credentials(setup: Setup) -> None:
    """Malformed or missing request credentials wait for the body: a bad body answers first."""
    for fields in ({"x_sentry_auth": "Sentry sentry_version=7"}, {}):
        error, reader = await setup.refused(b"garbage", **fields)
        assert isinstance(error, EnvelopeError), fields
        assert len(reader.calls) == 1


async def test_malformed_credentials_are_401_even_with_a_valid_dsn(setup: Setup) -> None:
    """A malformed header is not replaced by the envelope's dsn."""
    body = f.envelope([f.item("event", f.error_event())], dsn=setup.dsn())
    error, _ = await setup.refused(body, x_sentry_auth="Sentry sentry_version=7")
    assert isinstance(error, AuthenticationError)
    assert str(error) == "bad x-sentry-auth header"


@pytest.mark.parametrize(
    ("header", "dsn", "expected", "message"),
    [
        (False, None, AuthenticationError, "missing authorization information"),
        (False, "nonsense", AuthenticationError, "bad envelope authentication header"),
        (False, "http://short@localhost/{project}", InvalidAuthError, "bad sentry DSN public key"),
        (False, "http://{key}@localhost/999", EnvelopeError, "project id mismatch"),
        (True, "nonsense", EnvelopeError, "invalid envelope header: dsn"),
        (True, "http://{other}@localhost/{project}", AuthenticationError, "public key mismatch"),
        (True, "http://{key}@localhost/999", EnvelopeError, "project id mismatch"),
    ],
)
async def test_envelope_dsn_failures(
    setup: Setup,
    header: bool,
    dsn: str | None,
    expected: type[ResentryError],
    message: str,
) -> None:
    """The dsn alone, or beside a header key, answers as Relay does."""
    headers = (
        {}
        if dsn is None
        else {
            "dsn": dsn.format(key=setup.key, other=secrets.token_hex(16), project=setup.project.id)
        }
    )
    body = f.envelope([f.item("event", f.error_event())], **headers)
    fields = {"x_sentry_auth": _header(setup.key)} if header else {}
    error, reader = await setup.refused(body, **fields)
    assert type(error) is expected
    assert str(error).startswith(message)
    assert len(reader.calls) == 1


async def test_dsn_key_unknown_to_the_project_is_403(setup: Setup) -> None:
    """A well-formed dsn key that opens no project is refused like a header key."""
    body = f.envelope([f.item("event", f.error_event())], dsn=setup.dsn(secrets.token_hex(16)))
    error, _ = await setup.refused(body)
    assert isinstance(error, PermissionDeniedError)
