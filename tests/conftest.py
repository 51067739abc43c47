"""Shared test configuration: hypothesis profiles and the PostgreSQL switch."""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100)
settings.register_profile(
    "ci",
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

POSTGRES_URL_ENV = "RESENTRY_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    """The PostgreSQL URL for tests, or skip (locally) / fail (CI) when none is configured."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if url:
        return url
    if os.environ.get("RESENTRY_REQUIRE_POSTGRES") or os.environ.get("CI"):
        pytest.fail(f"{POSTGRES_URL_ENV} is not set, but PostgreSQL tests are required here")
    pytest.skip(
        f"no PostgreSQL: set {POSTGRES_URL_ENV}=postgresql+asyncpg://user:pw@127.0.0.1/db "
        "(bash .ci/run starts one) to run these cases"
    )


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio unless a module overrides this (SQLAlchemy needs asyncio)."""
    return "asyncio"
