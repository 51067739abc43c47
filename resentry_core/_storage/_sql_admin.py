"""Projects, keys, members and users on SQL (semantics in ``_protocol``; each takes a ``Tx``)."""

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, exists, or_, select, update

from resentry_core._errors import ConflictError, NotFoundError
from resentry_core._models import Level, Member, Project, ProjectKey, User
from resentry_core._storage._protocol import AdminCheck
from resentry_core._storage._sql_tx import Query, Row, Tx
from resentry_core._storage._tables import project_keys, project_members, projects, users
from resentry_core._storage._values import DEFAULT_KEY_LABEL, UNSET, Unset
from resentry_core._usernames import skeleton, username_key


def _key(row: Any) -> ProjectKey:
    return ProjectKey(
        id=row.id,
        project_id=row.project_id,
        public_key=row.public_key,
        label=row.label,
        is_active=row.is_active,
        created_at=row.created_at,
    )


def _project(row: Any, keys: Sequence[ProjectKey]) -> Project:
    return Project(
        id=row.id,
        name=row.name,
        slug=row.slug,
        created_at=row.created_at,
        allowed_origins=tuple(row.allowed_origins),
        rate_limit_per_minute=row.rate_limit_per_minute,
        retention_days=row.retention_days,
        keys=tuple(keys),
    )


def _with_keys(rows: Sequence[Any], key_rows: Sequence[Any]) -> list[Project]:
    """The projects of ``rows`` with their keys among ``key_rows`` (in key order)."""
    keys: dict[int, list[ProjectKey]] = {row.id: [] for row in rows}
    for key_row in key_rows:
        keys[key_row.project_id].append(_key(key_row))
    return [_project(row, keys[row.id]) for row in rows]


def _of_members(query: Select[Any], project_id: ColumnElement[int]) -> Query:
    """``query`` narrowed to the projects of the member ``user_id`` (a parameter)."""
    joined = query.join(project_members, project_members.c.project_id == project_id)
    return Query(joined.where(project_members.c.user_id == bindparam("user_id")))


_PROJECT = Query(select(projects).where(projects.c.id == bindparam("project_id")))
_KEYS = select(project_keys).order_by(project_keys.c.id)
_PROJECT_KEYS = Query(_KEYS.where(project_keys.c.project_id == bindparam("project_id")))
_PROJECTS = select(projects).order_by(projects.c.id)
_ALL = (Query(_PROJECTS), Query(_KEYS))
_MEMBERS = (
    _of_members(_PROJECTS, projects.c.id),
    _of_members(_KEYS, project_keys.c.project_id),
)


def get_project(tx: Tx, project_id: int) -> Project:
    """The project with its keys. Raises NotFoundError."""
    bound = {"project_id": project_id}
    row = tx.first(_PROJECT, bound)
    if row is None:
        raise NotFoundError(f"project {project_id} not found")
    [project] = _with_keys([row], tx.rows(_PROJECT_KEYS, bound))
    return project


def list_projects(tx: Tx, user_id: int | None) -> list[Project]:
    """Every project, or the user's, by id."""
    project_query, key_query = _ALL if user_id is None else _MEMBERS
    bound = {} if user_id is None else {"user_id": user_id}
    return _with_keys(tx.rows(project_query, bound), tx.rows(key_query, bound))


def project_for_key(tx: Tx, project_id: int, public_key: str) -> Project | None:
    """The project when ``public_key`` is one of its active keys (one query)."""
    query = (
        select(projects, *(column.label(f"key_{column.name}") for column in project_keys.c))
        .join(project_keys, project_keys.c.project_id == projects.c.id)
        .where(projects.c.id == project_id)
        .order_by(project_keys.c.id)
    )
    rows = tx.conn.execute(query).all()
    keys = [
        ProjectKey(
            id=row.key_id,
            project_id=row.key_project_id,
            public_key=row.key_public_key,
            label=row.key_label,
            is_active=row.key_is_active,
            created_at=row.key_created_at,
        )
        for row in rows
    ]
    if not any(key.is_active and key.public_key == public_key for key in keys):
        return None
    return _project(rows[0], keys)


def _insert_key(tx: Tx, project_id: int, label: str) -> ProjectKey:
    row: Row = {
        "project_id": project_id,
        "public_key": secrets.token_hex(16),
        "label": label,
        "is_active": True,
        "created_at": datetime.now(UTC),
    }
    [key_id] = tx.insert_ids(project_keys, [row])
    return ProjectKey(id=key_id, **{name: row[name] for name in row if name != "id"})


_SLUG_TAKEN = Query(select(projects.c.id).where(projects.c.slug == bindparam("slug")))


def create_project(
    tx: Tx,
    name: str,
    *,
    slug: str,
    allowed_origins: Sequence[str],
    rate_limit_per_minute: int | None,
    retention_days: int | None,
) -> Project:
    """Create a project with one active key. Raises ConflictError."""
    if tx.first(_SLUG_TAKEN, {"slug": slug}) is not None:
        raise ConflictError(f"the slug {slug!r} is taken")
    row: Row = {
        "name": name,
        "slug": slug,
        "created_at": datetime.now(UTC),
        "allowed_origins": list(allowed_origins),
        "rate_limit_per_minute": rate_limit_per_minute,
        "retention_days": retention_days,
    }
    [project_id] = tx.insert_ids(projects, [row])
    key = _insert_key(tx, project_id, DEFAULT_KEY_LABEL)
    return Project(
        id=project_id,
        name=name,
        slug=slug,
        created_at=row["created_at"],
        allowed_origins=tuple(allowed_origins),
        rate_limit_per_minute=rate_limit_per_minute,
        retention_days=retention_days,
        keys=(key,),
    )


def update_project(
    tx: Tx,
    project_id: int,
    *,
    name: str | Unset,
    allowed_origins: Sequence[str] | Unset,
    rate_limit_per_minute: int | Unset | None,
    retention_days: int | Unset | None,
) -> Project:
    """Change the given fields of a project. Raises NotFoundError."""
    get_project(tx, project_id)
    values: Row = {}
    if name is not UNSET:
        values["name"] = name
    if allowed_origins is not UNSET:
        values["allowed_origins"] = list(allowed_origins)
    if rate_limit_per_minute is not UNSET:
        values["rate_limit_per_minute"] = rate_limit_per_minute
    if retention_days is not UNSET:
        values["retention_days"] = retention_days
    if values:
        tx.conn.execute(update(projects).where(projects.c.id == project_id).values(values))
    return get_project(tx, project_id)


def delete_project(tx: Tx, project_id: int) -> None:
    """Delete a project; foreign keys cascade to everything it owns. Raises NotFoundError."""
    result = tx.conn.execute(delete(projects).where(projects.c.id == project_id))
    if result.rowcount == 0:
        raise NotFoundError(f"project {project_id} not found")


def create_key(tx: Tx, project_id: int, label: str) -> ProjectKey:
    """Add an active key to a project. Raises NotFoundError."""
    get_project(tx, project_id)
    return _insert_key(tx, project_id, label)


def list_keys(tx: Tx, project_id: int) -> list[ProjectKey]:
    """A project's keys, by id. Raises NotFoundError."""
    return list((get_project(tx, project_id)).keys)


def revoke_key(tx: Tx, project_id: int, key_id: int) -> ProjectKey:
    """Deactivate one of the project's keys. Raises NotFoundError."""
    statement = (
        update(project_keys)
        .where(project_keys.c.id == key_id, project_keys.c.project_id == project_id)
        .values(is_active=False)
        .returning(*project_keys.c)
    )
    row = tx.conn.execute(statement).first()
    if row is None:
        raise NotFoundError(f"key {key_id} not found in project {project_id}")
    return _key(row)


def get_user_row(tx: Tx, user_id: int) -> Any:
    """A user's row (password hash included). Raises NotFoundError."""
    row = tx.conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFoundError(f"user {user_id} not found")
    return row


def user_from_row(row: Any) -> User:
    """The :class:`User` of a ``users`` row."""
    return User(
        id=row.id,
        username=row.username,
        is_admin=row.is_admin,
        is_active=row.is_active,
        telegram_chat_id=row.telegram_chat_id,
        created_at=row.created_at,
        token_generation=row.token_generation,
        email=row.email,
    )


_MEMBER_COLUMNS = (*project_members.c, users.c.username)


def _member(row: Any) -> Member:
    return Member(
        project_id=row.project_id,
        user_id=row.user_id,
        username=row.username,
        min_level=row.min_level,
        notify_new_issues=row.notify_new_issues,
        notify_regressions=row.notify_regressions,
    )


def add_member(
    tx: Tx,
    project_id: int,
    user_id: int,
    *,
    min_level: Level,
    notify_new_issues: bool,
    notify_regressions: bool,
) -> Member:
    """Add or update a membership. Raises NotFoundError."""
    get_project(tx, project_id)
    user = get_user_row(tx, user_id)
    settings: Row = {
        "min_level": min_level,
        "notify_new_issues": notify_new_issues,
        "notify_regressions": notify_regressions,
    }
    row = {"project_id": project_id, "user_id": user_id, "created_at": datetime.now(UTC)}
    statement = tx.upsert(
        project_members,
        ("project_id", "user_id"),
        lambda excluded: {name: excluded[name] for name in settings},
    )
    tx.conn.execute(statement, [{**row, **settings}])
    return Member(project_id=project_id, user_id=user_id, username=user.username, **settings)


def remove_member(tx: Tx, project_id: int, user_id: int) -> None:
    """Remove a membership. Raises NotFoundError."""
    statement = delete(project_members).where(
        project_members.c.project_id == project_id, project_members.c.user_id == user_id
    )
    if tx.conn.execute(statement).rowcount == 0:
        raise NotFoundError(f"user {user_id} is not a member of project {project_id}")


def list_members(tx: Tx, project_id: int) -> list[Member]:
    """A project's members by user id. Raises NotFoundError."""
    get_project(tx, project_id)
    query = (
        select(*_MEMBER_COLUMNS)
        .join(users, users.c.id == project_members.c.user_id)
        .where(project_members.c.project_id == project_id)
        .order_by(project_members.c.user_id)
    )
    return [_member(row) for row in tx.conn.execute(query).all()]


def is_member(tx: Tx, project_id: int, user_id: int) -> bool:
    """Whether the user is a member of the project."""
    condition = exists().where(
        project_members.c.project_id == project_id, project_members.c.user_id == user_id
    )
    return bool(tx.conn.execute(select(condition)).scalar())


def _username_columns(tx: Tx, username: str, user_id: int | None) -> Row:
    # The key and skeleton columns are unique: a name equal to another user's after case
    # folding, or confusable with it (Unicode TR 39), is taken (resentry_core._usernames).
    key = username_key(username)
    shape = skeleton(key)
    query = select(users.c.id, users.c.username).where(
        or_(
            users.c.username == username,
            users.c.username_key == key,
            users.c.username_skeleton == shape,
        )
    )
    for found, name in tx.conn.execute(query).all():
        if found != user_id:
            raise ConflictError(
                f"the username {username!r} is taken: it is or looks like {name!r}"
                if name != username
                else f"the username {username!r} is taken"
            )
    return {"username": username, "username_key": key, "username_skeleton": shape}


def create_user(
    tx: Tx,
    username: str,
    password_hash: str,
    *,
    is_admin: bool,
    telegram_chat_id: str | None,
    email: str | None,
) -> User:
    """Create an active user. Raises ConflictError."""
    row: Row = {
        **_username_columns(tx, username, None),
        "password_hash": password_hash,
        "is_admin": is_admin,
        "is_active": True,
        "telegram_chat_id": telegram_chat_id or None,
        "email": email or None,
        "created_at": datetime.now(UTC),
    }
    [user_id] = tx.insert_ids(users, [row])
    return User(
        id=user_id,
        username=username,
        is_admin=is_admin,
        is_active=True,
        telegram_chat_id=row["telegram_chat_id"],
        created_at=row["created_at"],
        email=row["email"],
    )


def get_credentials(tx: Tx, username: str) -> tuple[User, str] | None:
    """A user and their password hash, by username compared case-insensitively after NFKC.

    A user the 0002 migration left without a key (a collision) is found by exact username,
    before the user whose key it collided with.
    """
    found = or_(
        users.c.username_key == username_key(username),
        and_(users.c.username_key.is_(None), users.c.username == username),
    )
    exact_first = (users.c.username != username, users.c.id)
    row = tx.conn.execute(select(users).where(found).order_by(*exact_first)).first()
    return None if row is None else (user_from_row(row), row.password_hash)


def list_users(tx: Tx) -> list[User]:
    """Every user by id."""
    rows = tx.conn.execute(select(users).order_by(users.c.id)).all()
    return [user_from_row(row) for row in rows]


def _check_admins(tx: Tx, check: AdminCheck | None) -> None:
    """Call ``check`` with the ids of every active admin, locked (PostgreSQL) until the
    transaction ends, so that two concurrent demotions of the last two admins cannot both
    pass it."""
    if check is not None:
        query = select(users.c.id).where(users.c.is_admin, users.c.is_active).order_by(users.c.id)
        check(list(tx.conn.execute(tx.locking(query)).scalars()))


def update_user(
    tx: Tx,
    user_id: int,
    *,
    username: str | Unset,
    password_hash: str | Unset,
    is_admin: bool | Unset,
    is_active: bool | Unset,
    telegram_chat_id: str | Unset | None,
    email: str | Unset | None,
    end_sessions: bool,
    check: AdminCheck | None,
) -> User:
    """Change the given fields of a user once ``check`` passes. Raises NotFoundError,
    ConflictError, and what ``check`` raises."""
    get_user_row(tx, user_id)
    _check_admins(tx, check)
    values: Row = {}
    if username is not UNSET:
        values.update(_username_columns(tx, username, user_id))
    if password_hash is not UNSET:
        values["password_hash"] = password_hash
    if is_admin is not UNSET:
        values["is_admin"] = is_admin
    if is_active is not UNSET:
        values["is_active"] = is_active
    if telegram_chat_id is not UNSET:
        values["telegram_chat_id"] = telegram_chat_id or None
    if email is not UNSET:
        values["email"] = email or None
    if end_sessions:
        values["token_generation"] = users.c.token_generation + 1
    if values:
        tx.conn.execute(update(users).where(users.c.id == user_id).values(values))
    return user_from_row(get_user_row(tx, user_id))


def delete_user(tx: Tx, user_id: int, check: AdminCheck | None) -> None:
    """Delete a user (memberships cascade) once ``check`` passes. Raises NotFoundError and
    what ``check`` raises."""
    get_user_row(tx, user_id)
    _check_admins(tx, check)
    tx.conn.execute(delete(users).where(users.c.id == user_id))
