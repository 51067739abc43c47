"""Token generations, used refresh tokens and login failures on SQL (see ``_protocol``)."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, select, update

from resentry_core._storage._sql_admin import get_user_row
from resentry_core._storage._sql_tx import Tx
from resentry_core._storage._tables import login_failures, used_refresh_tokens, users


def end_sessions(tx: Tx, user_id: int) -> None:
    """Raise the user's token generation. Raises NotFoundError."""
    get_user_row(tx, user_id)
    generation = users.c.token_generation + 1
    tx.conn.execute(update(users).where(users.c.id == user_id).values(token_generation=generation))


def use_refresh_token(
    tx: Tx,
    token_id: str,
    user_id: int,
    expires_at: datetime,
    now: datetime,
    grace_since: datetime | None,
) -> bool:
    """Record a refresh token as used at ``now``; False when it was used before, unless that
    first use came after ``grace_since``. Drops expired records.

    The insert decides which use is the first (``ON CONFLICT DO NOTHING``: a concurrent first
    use waits for the other's commit, then finds its row), and a row's ``used_at`` never
    changes, so the grace check reads a settled value.
    """
    tx.conn.execute(delete(used_refresh_tokens).where(used_refresh_tokens.c.expires_at <= now))
    row = {"token_id": token_id, "user_id": user_id, "expires_at": expires_at, "used_at": now}
    inserted = tx.conn.execute(
        tx.insert_missing(used_refresh_tokens, ["token_id"]).values(row)
    ).rowcount
    if inserted or grace_since is None:
        return bool(inserted)
    table = used_refresh_tokens.c
    recent = select(table.token_id).where(table.token_id == token_id, table.used_at > grace_since)
    return tx.conn.execute(recent).first() is not None


def login_failure_counts(
    tx: Tx, keys: Sequence[str], since: datetime
) -> dict[str, tuple[int, datetime]]:
    """Failures and window start per key, for windows that started after ``since``."""
    query = select(login_failures).where(
        login_failures.c.key.in_(keys), login_failures.c.window_start > since
    )
    return {row.key: (row.failures, row.window_start) for row in tx.conn.execute(query)}


def record_login_failure(tx: Tx, keys: Sequence[str], now: datetime, since: datetime) -> None:
    """Count one failure for each key; a window that started by ``since`` starts again.

    Rows whose window started by ``since`` are deleted first: the table holds only the
    current window's failures, however many names and addresses an attacker tries.
    """
    tx.conn.execute(delete(login_failures).where(login_failures.c.window_start <= since))
    expired = login_failures.c.window_start <= since
    statement = tx.upsert(
        login_failures,
        ["key"],
        lambda excluded: {
            "failures": case((expired, 1), else_=login_failures.c.failures + 1),
            "window_start": case(
                (expired, excluded.window_start), else_=login_failures.c.window_start
            ),
        },
    )
    for key in keys:
        tx.conn.execute(statement.values(key=key, failures=1, window_start=now))


def clear_login_failures(tx: Tx, key: str) -> None:
    """Forget a key's failures."""
    tx.conn.execute(delete(login_failures).where(login_failures.c.key == key))
