"""When each refresh token was first used (used_refresh_tokens.used_at), for the UI's renewal grace

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# Frozen copy of the column type in resentry_core/_storage/_tables.py at this revision.
TIMESTAMP = sa.DateTime(timezone=True)
revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tokens used before this revision were used at an unknown time: long ago, so never in a grace.
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


def upgrade() -> None:
    """Add ``used_at``, filled for the rows already there, then made NOT NULL."""
    op.add_column("used_refresh_tokens", sa.Column("used_at", TIMESTAMP, nullable=True))
    used = sa.table("used_refresh_tokens", sa.column("used_at", TIMESTAMP))
    op.execute(sa.update(used).values(used_at=_LONG_AGO))
    # SQLite rebuilds the table (nothing refers to it, so nothing cascades).
    with op.batch_alter_table("used_refresh_tokens") as batch:
        batch.alter_column("used_at", existing_type=TIMESTAMP, nullable=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("used_refresh_tokens") as batch:
        batch.drop_column("used_at")
