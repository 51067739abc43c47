"""Notifications: channels, rules, deliveries, de-duplication windows, user e-mail

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen copies of the column types in resentry_core/_storage/_tables.py at this revision.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_KINDS = "kind IN ('new_issue', 'regression')"
_NEW_KINDS = (
    "kind IN ('new_issue', 'regression', 'level', 'monitor_missed', 'monitor_failed', "
    "'monitor_timeout')"
)
_TRIGGERS = _NEW_KINDS.replace("kind", "trigger", 1)


def _outbox(*, after: bool) -> sa.Table:
    """The outbox as it is before or after this revision, for SQLite's batch copy."""
    extra: list[sa.Column[int] | sa.Index] = []
    if after:
        extra = [
            sa.Column(
                "monitor_id",
                ID,
                sa.ForeignKey(
                    "monitors.id",
                    ondelete="CASCADE",
                    name=op.f("fk_notification_outbox_monitor_id_monitors"),
                ),
                nullable=True,
            ),
            sa.Index(op.f("ix_notification_outbox_monitor_id"), "monitor_id"),
        ]
    table = sa.Table(
        "notification_outbox",
        sa.MetaData(),
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("project_id", ID, nullable=False),
        sa.Column(
            "issue_id",
            ID,
            sa.ForeignKey(
                "issues.id", ondelete="CASCADE", name="fk_notification_outbox_issue_id_issues"
            ),
            nullable=after,
        ),
        sa.Column("event_id", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("delivered_at", TIMESTAMP, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            _NEW_KINDS if after else _OLD_KINDS, name=op.f("ck_notification_outbox_kind")
        ),
        sa.Index(op.f("ix_notification_outbox_issue_id"), "issue_id"),
        sa.Index(
            op.f("ix_notification_outbox_delivered_at_next_attempt_at"),
            "delivered_at",
            "next_attempt_at",
        ),
        *extra,
        sqlite_autoincrement=True,
    )
    table.primary_key.name = "pk_notification_outbox"
    return table


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("users", sa.Column("email", sa.Text(), nullable=True))
    op.add_column("monitors", sa.Column("alerted_check_in", TIMESTAMP, nullable=True))
    with op.batch_alter_table(
        "notification_outbox", copy_from=_outbox(after=False)
    ) as batch:
        batch.alter_column("issue_id", existing_type=ID, nullable=True)
        batch.add_column(sa.Column("monitor_id", ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_notification_outbox_monitor_id_monitors"),
            "monitors",
            ["monitor_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.drop_constraint(op.f("ck_notification_outbox_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_notification_outbox_kind"), _NEW_KINDS)
    op.create_index(
        "ix_notification_outbox_monitor_id", "notification_outbox", ["monitor_id"], unique=False
    )
    op.create_table(
        "notification_channels",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("flavor", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "kind IN ('telegram', 'email', 'webhook')", name=op.f("ck_notification_channels_kind")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_notification_channels_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notification_channels"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_notification_channels_project_id", "notification_channels", ["project_id"]
    )
    op.create_table(
        "notification_rules",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("min_level", sa.Text(), nullable=False),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(_TRIGGERS, name=op.f("ck_notification_rules_trigger")),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["notification_channels.id"],
            name="fk_notification_rules_channel_id_notification_channels",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_notification_rules_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notification_rules"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_notification_rules_channel_id", "notification_rules", ["channel_id"])
    op.create_index(
        "ix_notification_rules_project_id_trigger", "notification_rules", ["project_id", "trigger"]
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("channel_id", ID, nullable=True),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("issue_id", ID, nullable=True),
        sa.Column("monitor_id", ID, nullable=True),
        sa.Column("event_id", sa.Text(), nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("delivered_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'retrying', 'delivered', 'failed')",
            name=op.f("ck_notification_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["notification_channels.id"],
            name="fk_notification_deliveries_channel_id_notification_channels",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name="fk_notification_deliveries_issue_id_issues",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitors.id"],
            name="fk_notification_deliveries_monitor_id_monitors",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_notification_deliveries_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_notification_deliveries_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notification_deliveries"),
        sa.UniqueConstraint("key", name="uq_notification_deliveries_key"),
        sqlite_autoincrement=True,
    )
    for columns in (
        ["channel_id"],
        ["issue_id"],
        ["monitor_id"],
        ["project_id", "id"],
        ["status", "next_attempt_at"],
        ["user_id"],
    ):
        op.create_index(
            f"ix_notification_deliveries_{'_'.join(columns)}", "notification_deliveries", columns
        )
    op.create_table(
        "notification_windows",
        sa.Column("issue_id", ID, nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=True),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("baseline", sa.BigInteger(), nullable=False),
        sa.Column("ends_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["notification_channels.id"],
            name="fk_notification_windows_channel_id_notification_channels",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name="fk_notification_windows_issue_id_issues",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_notification_windows_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issue_id", "destination", name="pk_notification_windows"),
    )
    for columns in (["channel_id"], ["ends_at"], ["user_id"]):
        op.create_index(
            f"ix_notification_windows_{'_'.join(columns)}", "notification_windows", columns
        )


def downgrade() -> None:
    """Revert this revision (notices this revision introduced are dropped)."""
    op.drop_table("notification_windows")
    op.drop_table("notification_deliveries")
    op.drop_table("notification_rules")
    op.drop_table("notification_channels")
    op.execute(
        "DELETE FROM notification_outbox "
        "WHERE issue_id IS NULL OR kind NOT IN ('new_issue', 'regression')"
    )
    with op.batch_alter_table(
        "notification_outbox", copy_from=_outbox(after=True)
    ) as batch:
        batch.drop_constraint(op.f("ck_notification_outbox_kind"), type_="check")
        batch.drop_index(op.f("ix_notification_outbox_monitor_id"))
        batch.drop_constraint(
            op.f("fk_notification_outbox_monitor_id_monitors"), type_="foreignkey"
        )
        batch.drop_column("monitor_id")
        batch.alter_column("issue_id", existing_type=ID, nullable=False)
        batch.create_check_constraint(op.f("ck_notification_outbox_kind"), _OLD_KINDS)
    op.drop_column("monitors", "alerted_check_in")
    op.drop_column("users", "email")
