"""Private in-memory SQLite databases for ``memory://``, each a copy of one schema template.

Building the schema with Alembic costs about 0.4 s of imports and ~50 ms per database; instead
the first ``memory://`` database of a process builds a template from the table metadata
(``tests/core/test_migrations.py`` checks that the migrations build exactly that schema),
stamped at :data:`~resentry_core._storage._sql_db.HEAD_REVISION`, and every database after it
is a copy made with SQLite's backup API (~0.1 ms). Each copy is a database of its own: nothing
is shared between two ``memory://`` storages, and nothing is written to disk.
"""

import sqlite3
import threading
from functools import cache
from typing import Final

from sqlalchemy import create_engine, text
from sqlalchemy.pool import StaticPool

from resentry_core._storage._tables import metadata

MEMORY_URL: Final = "memory://"
_ALEMBIC_VERSION: Final = (
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,"
    " CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
)
_copying = threading.Lock()


@cache
def _template(revision: str) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    engine = create_engine("sqlite://", creator=lambda: connection, poolclass=StaticPool)
    with engine.begin() as conn:
        metadata.create_all(conn)
        conn.execute(text(_ALEMBIC_VERSION))
        conn.execute(text("INSERT INTO alembic_version VALUES (:revision)"), {"revision": revision})
    return connection


def new_memory_database(revision: str) -> sqlite3.Connection:
    """A new private in-memory database holding the schema at ``revision`` (the head)."""
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    with _copying:  # the template is shared by every thread
        _template(revision).backup(connection)
    return connection
