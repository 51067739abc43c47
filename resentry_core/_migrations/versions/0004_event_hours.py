"""Hourly event counts per issue and per project (event_hours), filled from the stored events

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen copies of the column types in resentry_core/_storage/_tables.py at this revision.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Events counted per statement: the backfill walks the events table in ranges of ids.
BACKFILL_STEP = 100_000

# The start of an event's UTC hour, in the column's own format: SQLite keeps fixed-width UTC
# text ("YYYY-MM-DD HH:MM:SS.ffffff"), PostgreSQL timestamptz.
_HOUR = {
    "sqlite": "substr(received_at, 1, 13) || ':00:00.000000'",
    "postgresql": "date_trunc('hour', received_at, 'UTC')",
}
# Per issue (issue_id) and per project (issue_id 0: every event); WHERE before ON CONFLICT
# also keeps SQLite from reading the upsert as a join constraint.
_BACKFILL = """
INSERT INTO event_hours (project_id, issue_id, hour, count)
SELECT project_id, {owner}, {hour}, count(*) FROM events
WHERE id >= :low AND id < :high {only}
GROUP BY {groups}
ON CONFLICT (project_id, issue_id, hour) DO UPDATE SET count = event_hours.count + excluded.count
"""


def upgrade() -> None:
    """Create ``event_hours`` and count the stored events into it, a range of ids at a time."""
    op.create_table(
        "event_hours",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("issue_id", ID, nullable=False),
        sa.Column("hour", TIMESTAMP, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_event_hours_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "issue_id", "hour", name=op.f("pk_event_hours")),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    hour = _HOUR[bind.dialect.name]
    statements = [
        sa.text(
            _BACKFILL.format(
                owner="issue_id",
                hour=hour,
                only="AND issue_id IS NOT NULL",
                groups=f"project_id, issue_id, {hour}",
            )
        ),
        sa.text(_BACKFILL.format(owner="0", hour=hour, only="", groups=f"project_id, {hour}")),
    ]
    low, high = bind.execute(sa.text("SELECT min(id), max(id) FROM events")).one()
    if low is None:
        return
    for start in range(low, high + 1, BACKFILL_STEP):
        for statement in statements:
            bind.execute(statement, {"low": start, "high": start + BACKFILL_STEP})


def downgrade() -> None:
    """Drop ``event_hours``."""
    op.drop_table("event_hours")
