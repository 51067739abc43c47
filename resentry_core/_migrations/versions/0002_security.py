"""Security: username keys and skeletons, token generations, used refresh tokens, login failures

Revision ID: 0002
Revises: 0001

Existing users get their case-folded key and TR 39 skeleton (``resentry_core._usernames``).
Users whose key or skeleton equals an older user's (``Admin`` next to ``admin``, Cyrillic
``аdmin``) cannot share the unique columns: they keep NULL there, can still log in by their
exact username, and are reported in a warning naming each pair, so that an admin renames
them (``PATCH /api/v1/users/{id}``). The migration deletes and renames nothing.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from resentry_core._usernames import skeleton, username_key

# Frozen copies of the column types in resentry_core/_storage/_tables.py at this revision.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("resentry_core.migrations")


def upgrade() -> None:
    """Apply this revision."""
    # Plain ADD COLUMN and unique indexes: SQLite rebuilding ``users`` (Alembic's batch mode)
    # would cascade-delete every membership while foreign keys are enforced.
    op.add_column("users", sa.Column("username_key", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("username_skeleton", sa.Text(), nullable=True))
    op.add_column(
        "users",
        sa.Column("token_generation", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    _fill_username_columns()
    op.create_index(op.f("ix_users_username_key"), "users", ["username_key"], unique=True)
    op.create_index(
        op.f("ix_users_username_skeleton"), "users", ["username_skeleton"], unique=True
    )
    op.create_table(
        "used_refresh_tokens",
        sa.Column("token_id", sa.Text(), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_used_refresh_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_used_refresh_tokens")),
    )
    op.create_index(
        op.f("ix_used_refresh_tokens_user_id"), "used_refresh_tokens", ["user_id"], unique=False
    )
    op.create_index(
        op.f("ix_used_refresh_tokens_expires_at"),
        "used_refresh_tokens",
        ["expires_at"],
        unique=False,
    )
    op.create_table(
        "login_failures",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failures")),
    )
    op.create_index(
        op.f("ix_login_failures_window_start"), "login_failures", ["window_start"], unique=False
    )


def _fill_username_columns() -> None:
    connection = op.get_bind()
    users = sa.table(
        "users",
        sa.column("id", ID),
        sa.column("username", sa.Text()),
        sa.column("username_key", sa.Text()),
        sa.column("username_skeleton", sa.Text()),
    )
    rows = connection.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id))
    owners: dict[str, tuple[int, str]] = {}
    collisions = []
    for user_id, username in rows.all():
        key = username_key(username)
        shape = skeleton(key)
        earlier = owners.get(key) or owners.get(shape)
        if earlier is not None:
            collisions.append(f"user {user_id} {username!r} ~ user {earlier[0]} {earlier[1]!r}")
            continue
        owners[key] = owners[shape] = (user_id, username)
        connection.execute(
            sa.update(users)
            .where(users.c.id == user_id)
            .values(username_key=key, username_skeleton=shape)
        )
    if collisions:
        logger.warning(
            "%d username(s) collide with an older user's after case folding or as Unicode "
            "confusables; they keep working but should be renamed: %s",
            len(collisions),
            "; ".join(collisions),
        )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_login_failures_window_start"), table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index(op.f("ix_used_refresh_tokens_expires_at"), table_name="used_refresh_tokens")
    op.drop_index(op.f("ix_used_refresh_tokens_user_id"), table_name="used_refresh_tokens")
    op.drop_table("used_refresh_tokens")
    op.drop_index(op.f("ix_users_username_skeleton"), table_name="users")
    op.drop_index(op.f("ix_users_username_key"), table_name="users")
    for column in ("token_generation", "username_skeleton", "username_key"):
        op.drop_column("users", column)  # SQLite >= 3.35 drops a column in place
