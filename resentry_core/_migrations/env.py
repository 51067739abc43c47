"""Alembic environment for Resentry: runs on the connection ``SqlStorage.migrate()`` passes in.

There is no ``alembic.ini``: run migrations with ``resentry migrate`` or
``SqlStorage.migrate()``, which hand a connection (already inside a transaction) to this script
through ``config.attributes["connection"]``.
"""

from alembic import context
from sqlalchemy import Connection

from resentry_core._storage._tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run Resentry migrations through SqlStorage.migrate() (resentry migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
