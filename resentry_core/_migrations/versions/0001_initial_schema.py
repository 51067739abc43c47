"""Initial schema

Revision ID: 0001
Revises: -
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Frozen copies of the column types in resentry_core/_storage/_tables.py at this revision.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_VALUE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
# SQLite renders it DATETIME either way; SqlStorage reads and writes it as UTC text.
TIMESTAMP = sa.DateTime(timezone=True)
revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "projects",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("allowed_origins", JSON_VALUE, nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("slug", name=op.f("uq_projects_slug")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "users",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("telegram_chat_id", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "envelopes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("event_id", sa.Text(), nullable=True),
        sa.Column("headers", JSON_VALUE, nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("raw_encoding", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_envelopes_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_envelopes")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_envelopes_project_id_received_at_id"),
        "envelopes",
        ["project_id", "received_at", "id"],
        unique=False,
    )
    op.create_table(
        "issues",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("culprit", sa.Text(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("first_seen", TIMESTAMP, nullable=False),
        sa.Column("last_seen", TIMESTAMP, nullable=False),
        sa.Column("times_seen", sa.BigInteger(), nullable=False),
        sa.Column("last_event_id", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('unresolved', 'resolved', 'ignored')", name=op.f("ck_issues_status")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_issues_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issues")),
        sa.UniqueConstraint(
            "project_id", "fingerprint", name=op.f("uq_issues_project_id_fingerprint")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_issues_project_id_first_seen_id"),
        "issues",
        ["project_id", "first_seen", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_issues_project_id_last_seen_id"),
        "issues",
        ["project_id", "last_seen", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_issues_project_id_times_seen_id"),
        "issues",
        ["project_id", "times_seen", "id"],
        unique=False,
    )
    op.create_table(
        "monitors",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("config", JSON_VALUE, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_check_in", TIMESTAMP, nullable=True),
        sa.Column("last_status", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_monitors_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitors")),
        sa.UniqueConstraint("project_id", "slug", name=op.f("uq_monitors_project_id_slug")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "project_keys",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("public_key", sa.String(length=32), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_keys_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_keys")),
        sa.UniqueConstraint("public_key", name=op.f("uq_project_keys_public_key")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_project_keys_project_id"), "project_keys", ["project_id"], unique=False
    )
    op.create_table(
        "project_members",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("min_level", sa.Text(), nullable=False),
        sa.Column("notify_new_issues", sa.Boolean(), nullable=False),
        sa.Column("notify_regressions", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_members_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_project_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_project_members")),
    )
    op.create_index(
        op.f("ix_project_members_user_id"), "project_members", ["user_id"], unique=False
    )
    op.create_table(
        "check_ins",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("monitor_id", ID, nullable=False),
        sa.Column("envelope_id", ID, nullable=False),
        sa.Column("check_in_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("duration", sa.Double(), nullable=True),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("release", sa.Text(), nullable=True),
        sa.Column("timestamp", TIMESTAMP, nullable=False),
        sa.Column("trace_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["envelope_id"],
            ["envelopes.id"],
            name=op.f("fk_check_ins_envelope_id_envelopes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitors.id"],
            name=op.f("fk_check_ins_monitor_id_monitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_ins")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_check_ins_envelope_id"), "check_ins", ["envelope_id"], unique=False)
    op.create_index(
        op.f("ix_check_ins_monitor_id_check_in_id"),
        "check_ins",
        ["monitor_id", "check_in_id"],
        unique=True,
        sqlite_where=sa.text("check_in_id != '00000000000000000000000000000000'"),
        postgresql_where=sa.text("check_in_id != '00000000000000000000000000000000'"),
    )
    op.create_index(
        op.f("ix_check_ins_monitor_id_timestamp_id"),
        "check_ins",
        ["monitor_id", "timestamp", "id"],
        unique=False,
    )
    op.create_table(
        "discard_counters",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("envelope_id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["envelope_id"],
            ["envelopes.id"],
            name=op.f("fk_discard_counters_envelope_id_envelopes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discard_counters")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_discard_counters_envelope_id"), "discard_counters", ["envelope_id"], unique=False
    )
    op.create_index(
        op.f("ix_discard_counters_project_id_reason_category"),
        "discard_counters",
        ["project_id", "reason", "category"],
        unique=False,
    )
    op.create_table(
        "envelope_items",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("envelope_id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("headers", JSON_VALUE, nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["envelope_id"],
            ["envelopes.id"],
            name=op.f("fk_envelope_items_envelope_id_envelopes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_envelope_items")),
        sa.UniqueConstraint(
            "envelope_id", "position", name=op.f("uq_envelope_items_envelope_id_position")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_envelope_items_project_id_received_at_id"),
        "envelope_items",
        ["project_id", "received_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_envelope_items_project_id_type_received_at_id"),
        "envelope_items",
        ["project_id", "type", "received_at", "id"],
        unique=False,
    )
    op.create_table(
        "feedback",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("envelope_id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("associated_event_id", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["envelope_id"],
            ["envelopes.id"],
            name=op.f("fk_feedback_envelope_id_envelopes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_feedback_envelope_id"), "feedback", ["envelope_id"], unique=False)
    op.create_index(
        op.f("ix_feedback_project_id_received_at_id"),
        "feedback",
        ["project_id", "received_at", "id"],
        unique=False,
    )
    op.create_table(
        "logs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("envelope_id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("timestamp", TIMESTAMP, nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attributes", JSON_VALUE, nullable=False),
        sa.Column("trace_id", sa.Text(), nullable=True),
        sa.Column("span_id", sa.Text(), nullable=True),
        sa.Column("severity_number", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["envelope_id"],
            ["envelopes.id"],
            name=op.f("fk_logs_envelope_id_envelopes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logs")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_logs_envelope_id"), "logs", ["envelope_id"], unique=False)
    op.create_index(
        op.f("ix_logs_project_id_timestamp_id"),
        "logs",
        ["project_id", "timestamp", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_logs_project_id_trace_id"), "logs", ["project_id", "trace_id"], unique=False
    )
    op.create_table(
        "notification_outbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("issue_id", ID, nullable=False),
        sa.Column("event_id", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("delivered_at", TIMESTAMP, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('new_issue', 'regression')", name=op.f("ck_notification_outbox_kind")
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issues.id"],
            name=op.f("fk_notification_outbox_issue_id_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_notification_outbox_delivered_at_next_attempt_at"),
        "notification_outbox",
        ["delivered_at", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notification_outbox_issue_id"), "notification_outbox", ["issue_id"], unique=False
    )
    op.create_table(
        "session_aggregates",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("envelope_id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("release", sa.Text(), nullable=False),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("exited", sa.BigInteger(), nullable=False),
        sa.Column("errored", sa.BigInteger(), nullable=False),
        sa.Column("abnormal", sa.BigInteger(), nullable=False),
        sa.Column("crashed", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["envelope_id"],
            ["envelopes.id"],
            name=op.f("fk_session_aggregates_envelope_id_envelopes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_aggregates")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_session_aggregates_envelope_id"),
        "session_aggregates",
        ["envelope_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_session_aggregates_project_id_release"),
        "session_aggregates",
        ["project_id", "release"],
        unique=False,
    )
    op.create_table(
        "sessions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("envelope_id", ID, nullable=False),
        sa.Column("sid", sa.Text(), nullable=False),
        sa.Column("release", sa.Text(), nullable=False),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("errored", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["envelope_id"],
            ["envelopes.id"],
            name=op.f("fk_sessions_envelope_id_envelopes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_sessions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("project_id", "sid", name=op.f("uq_sessions_project_id_sid")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_sessions_envelope_id"), "sessions", ["envelope_id"], unique=False)
    op.create_table(
        "attachments",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("envelope_id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("event_id", sa.Text(), nullable=True),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("attachment_type", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["envelope_items.id"],
            name=op.f("fk_attachments_item_id_envelope_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("item_id", name=op.f("uq_attachments_item_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_attachments_envelope_id"), "attachments", ["envelope_id"], unique=False
    )
    op.create_index(
        op.f("ix_attachments_project_id_event_id"),
        "attachments",
        ["project_id", "event_id"],
        unique=False,
    )
    op.create_table(
        "events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("envelope_id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("issue_id", ID, nullable=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("timestamp", TIMESTAMP, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("culprit", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("release", sa.Text(), nullable=True),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("tags", JSON_VALUE, nullable=False),
        sa.Column("user_data", JSON_VALUE, nullable=True),
        sa.Column("sdk", JSON_VALUE, nullable=True),
        sa.Column("transaction", sa.Text(), nullable=True),
        sa.Column("op", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Double(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("span_count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issues.id"], name=op.f("fk_events_issue_id_issues"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["envelope_items.id"],
            name=op.f("fk_events_item_id_envelope_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("item_id", name=op.f("uq_events_item_id")),
        sa.UniqueConstraint("project_id", "event_id", name=op.f("uq_events_project_id_event_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_events_issue_id_received_at_id"),
        "events",
        ["issue_id", "received_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_events_project_id_received_at_id"),
        "events",
        ["project_id", "received_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_events_project_id_type_received_at_id"),
        "events",
        ["project_id", "type", "received_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_events_project_id_type_received_at_id"), table_name="events")
    op.drop_index(op.f("ix_events_project_id_received_at_id"), table_name="events")
    op.drop_index(op.f("ix_events_issue_id_received_at_id"), table_name="events")
    op.drop_table("events")
    op.drop_index(op.f("ix_attachments_project_id_event_id"), table_name="attachments")
    op.drop_index(op.f("ix_attachments_envelope_id"), table_name="attachments")
    op.drop_table("attachments")
    op.drop_index(op.f("ix_sessions_envelope_id"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_index(op.f("ix_session_aggregates_project_id_release"), table_name="session_aggregates")
    op.drop_index(op.f("ix_session_aggregates_envelope_id"), table_name="session_aggregates")
    op.drop_table("session_aggregates")
    op.drop_index(op.f("ix_notification_outbox_issue_id"), table_name="notification_outbox")
    op.drop_index(
        op.f("ix_notification_outbox_delivered_at_next_attempt_at"),
        table_name="notification_outbox",
    )
    op.drop_table("notification_outbox")
    op.drop_index(op.f("ix_logs_project_id_trace_id"), table_name="logs")
    op.drop_index(op.f("ix_logs_project_id_timestamp_id"), table_name="logs")
    op.drop_index(op.f("ix_logs_envelope_id"), table_name="logs")
    op.drop_table("logs")
    op.drop_index(op.f("ix_feedback_project_id_received_at_id"), table_name="feedback")
    op.drop_index(op.f("ix_feedback_envelope_id"), table_name="feedback")
    op.drop_table("feedback")
    op.drop_index(
        op.f("ix_envelope_items_project_id_type_received_at_id"), table_name="envelope_items"
    )
    op.drop_index(op.f("ix_envelope_items_project_id_received_at_id"), table_name="envelope_items")
    op.drop_table("envelope_items")
    op.drop_index(
        op.f("ix_discard_counters_project_id_reason_category"), table_name="discard_counters"
    )
    op.drop_index(op.f("ix_discard_counters_envelope_id"), table_name="discard_counters")
    op.drop_table("discard_counters")
    op.drop_index(op.f("ix_check_ins_monitor_id_timestamp_id"), table_name="check_ins")
    op.drop_index(
        op.f("ix_check_ins_monitor_id_check_in_id"),
        table_name="check_ins",
        sqlite_where=sa.text("check_in_id != '00000000000000000000000000000000'"),
        postgresql_where=sa.text("check_in_id != '00000000000000000000000000000000'"),
    )
    op.drop_index(op.f("ix_check_ins_envelope_id"), table_name="check_ins")
    op.drop_table("check_ins")
    op.drop_index(op.f("ix_project_members_user_id"), table_name="project_members")
    op.drop_table("project_members")
    op.drop_index(op.f("ix_project_keys_project_id"), table_name="project_keys")
    op.drop_table("project_keys")
    op.drop_table("monitors")
    op.drop_index(op.f("ix_issues_project_id_times_seen_id"), table_name="issues")
    op.drop_index(op.f("ix_issues_project_id_last_seen_id"), table_name="issues")
    op.drop_index(op.f("ix_issues_project_id_first_seen_id"), table_name="issues")
    op.drop_table("issues")
    op.drop_index(op.f("ix_envelopes_project_id_received_at_id"), table_name="envelopes")
    op.drop_table("envelopes")
    op.drop_table("users")
    op.drop_table("projects")
