"""Creating and dropping scratch PostgreSQL databases (test fixtures and the benchmark)."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool


async def execute(url: str, statement: str) -> None:
    """Run one statement outside a transaction (``CREATE DATABASE`` needs that)."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def drop_database(url: str, name: str) -> None:
    """Drop database ``name``, ending the sessions still connected to it.

    ``WITH (FORCE)`` ends our own leftover sessions but not an autovacuum worker that happens
    to be in the database (that takes a superuser), so the drop is retried while one is.
    """
    statement = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    for _ in range(40):
        try:
            await execute(url, statement)
        except DBAPIError as exc:
            if "pg_signal_backend" not in str(exc):
                raise
            await anyio.sleep(0.25)
        else:
            return
    await execute(url, statement)


@asynccontextmanager
async def scratch_database(base_url: str, prefix: str) -> AsyncIterator[str]:
    """A new, empty database on the server of ``base_url`` (a URL for it), dropped on exit."""
    base = make_url(base_url)
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = base.render_as_string(hide_password=False)
    await execute(admin, f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        await drop_database(admin, name)
