"""Projects, keys, members and users in a memory state (semantics in ``_protocol``)."""

import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from resentry_core._errors import ConflictError, NotFoundError
from resentry_core._models import Level, Member, Project, ProjectKey, User
from resentry_core._storage._memory_ingest import delete_envelopes
from resentry_core._storage._memory_state import Journal, MemberRow, State, UserRow
from resentry_core._storage._values import (
    DEFAULT_KEY_LABEL,
    UNSET,
    Unset,
    new_project_slug,
    require_positive,
    require_text,
)
from resentry_core._usernames import skeleton, username_key


def with_keys(state: State, project: Project) -> Project:
    """The project with its keys, by id."""
    keys = sorted(
        (key for key in state.keys.values() if key.project_id == project.id), key=lambda k: k.id
    )
    return replace(project, keys=tuple(keys))


def get_project(state: State, project_id: int) -> Project:
    """The project with its keys. Raises NotFoundError."""
    project = state.projects.get(project_id)
    if project is None:
        raise NotFoundError(f"project {project_id} not found")
    return with_keys(state, project)


def _add_key(state: State, journal: Journal, project_id: int, label: str) -> ProjectKey:
    taken = {key.public_key for key in state.keys.values()}
    public_key = secrets.token_hex(16)
    while public_key in taken:  # pragma: no cover - 2**-128 per key
        public_key = secrets.token_hex(16)
    key = ProjectKey(
        id=state.new_id("keys"),
        project_id=project_id,
        public_key=public_key,
        label=label,
        is_active=True,
        created_at=datetime.now(UTC),
    )
    journal.put(state.keys, key.id, key)
    return key


def create_project(
    state: State,
    journal: Journal,
    name: str,
    *,
    slug: str | None,
    allowed_origins: Sequence[str],
    rate_limit_per_minute: int | None,
    retention_days: int | None,
) -> Project:
    """Create a project with one active key."""
    slug = new_project_slug(
        name,
        slug,
        rate_limit_per_minute=rate_limit_per_minute,
        retention_days=retention_days,
    )
    if any(project.slug == slug for project in state.projects.values()):
        raise ConflictError(f"the slug {slug!r} is taken")
    project = Project(
        id=state.new_id("projects"),
        name=name,
        slug=slug,
        created_at=datetime.now(UTC),
        allowed_origins=tuple(allowed_origins),
        rate_limit_per_minute=rate_limit_per_minute,
        retention_days=retention_days,
    )
    journal.put(state.projects, project.id, project)
    _add_key(state, journal, project.id, DEFAULT_KEY_LABEL)
    return with_keys(state, project)


def list_projects(state: State, user_id: int | None) -> list[Project]:
    """Every project, or the user's, by id."""
    projects = sorted(state.projects.values(), key=lambda project: project.id)
    if user_id is not None:
        projects = [project for project in projects if (project.id, user_id) in state.members]
    return [with_keys(state, project) for project in projects]


def update_project(
    state: State,
    journal: Journal,
    project_id: int,
    *,
    name: str | Unset,
    allowed_origins: Sequence[str] | Unset,
    rate_limit_per_minute: int | Unset | None,
    retention_days: int | Unset | None,
) -> Project:
    """Change the given fields of a project."""
    project = get_project(state, project_id)
    if name is not UNSET:
        require_text(name, "a project name")
        project = replace(project, name=name)
    if allowed_origins is not UNSET:
        project = replace(project, allowed_origins=tuple(allowed_origins))
    if rate_limit_per_minute is not UNSET:
        require_positive(rate_limit_per_minute, "rate_limit_per_minute")
        project = replace(project, rate_limit_per_minute=rate_limit_per_minute)
    if retention_days is not UNSET:
        require_positive(retention_days, "retention_days")
        project = replace(project, retention_days=retention_days)
    journal.put(state.projects, project_id, replace(project, keys=()))
    return project


def delete_project(state: State, journal: Journal, project_id: int) -> None:
    """Delete a project and everything it owns."""
    get_project(state, project_id)
    envelopes = [e.id for e in state.envelopes.values() if e.project_id == project_id]
    delete_envelopes(state, journal, envelopes)
    journal.delete_where(state.issues, lambda issue: issue.project_id != project_id)
    journal.delete_where(state.fingerprints, lambda issue_id: issue_id in state.issues)
    journal.delete_where(state.monitors, lambda monitor: monitor.project_id != project_id)
    journal.delete_where(state.keys, lambda key: key.project_id != project_id)
    journal.delete_where(state.members, lambda member: member.project_id != project_id)
    journal.delete(state.projects, project_id)


def create_key(state: State, journal: Journal, project_id: int, label: str) -> ProjectKey:
    """Add an active key to a project."""
    get_project(state, project_id)
    return _add_key(state, journal, project_id, label)


def list_keys(state: State, project_id: int) -> list[ProjectKey]:
    """A project's keys, by id."""
    return list(get_project(state, project_id).keys)


def revoke_key(state: State, journal: Journal, project_id: int, key_id: int) -> ProjectKey:
    """Deactivate one of the project's keys."""
    key = state.keys.get(key_id)
    if key is None or key.project_id != project_id:
        raise NotFoundError(f"key {key_id} not found in project {project_id}")
    key = replace(key, is_active=False)
    journal.put(state.keys, key_id, key)
    return key


def project_for_key(state: State, project_id: int, public_key: str) -> Project | None:
    """The project when ``public_key`` is one of its active keys."""
    project = state.projects.get(project_id)
    if project is None:
        return None
    project = with_keys(state, project)
    active = any(key.is_active and key.public_key == public_key for key in project.keys)
    return project if active else None


def get_user_row(state: State, user_id: int) -> UserRow:
    """A user's row. Raises NotFoundError."""
    row = state.users.get(user_id)
    if row is None:
        raise NotFoundError(f"user {user_id} not found")
    return row


def _member(state: State, row: MemberRow) -> Member:
    return Member(
        project_id=row.project_id,
        user_id=row.user_id,
        username=state.users[row.user_id].user.username,
        min_level=row.min_level,
        notify_new_issues=row.notify_new_issues,
        notify_regressions=row.notify_regressions,
    )


def add_member(
    state: State,
    journal: Journal,
    project_id: int,
    user_id: int,
    *,
    min_level: Level,
    notify_new_issues: bool,
    notify_regressions: bool,
) -> Member:
    """Add or update a membership."""
    get_project(state, project_id)
    get_user_row(state, user_id)
    row = MemberRow(
        project_id=project_id,
        user_id=user_id,
        min_level=min_level,
        notify_new_issues=notify_new_issues,
        notify_regressions=notify_regressions,
    )
    journal.put(state.members, (project_id, user_id), row)
    return _member(state, row)


def remove_member(state: State, journal: Journal, project_id: int, user_id: int) -> None:
    """Remove a membership."""
    if (project_id, user_id) not in state.members:
        raise NotFoundError(f"user {user_id} is not a member of project {project_id}")
    journal.delete(state.members, (project_id, user_id))


def list_members(state: State, project_id: int) -> list[Member]:
    """A project's members by user id."""
    get_project(state, project_id)
    rows = [row for row in state.members.values() if row.project_id == project_id]
    return [_member(state, row) for row in sorted(rows, key=lambda row: row.user_id)]


def _check_username(state: State, username: str, user_id: int | None) -> None:
    require_text(username, "a username")
    shape = skeleton(username_key(username))
    for row in state.users.values():
        if skeleton(username_key(row.user.username)) == shape and row.user.id != user_id:
            raise ConflictError(f"the username {username!r} is taken")


def create_user(
    state: State,
    journal: Journal,
    username: str,
    password_hash: str,
    *,
    is_admin: bool,
    telegram_chat_id: str | None,
) -> User:
    """Create an active user."""
    _check_username(state, username, None)
    user = User(
        id=state.new_id("users"),
        username=username,
        is_admin=is_admin,
        is_active=True,
        telegram_chat_id=telegram_chat_id or None,
        created_at=datetime.now(UTC),
    )
    journal.put(state.users, user.id, UserRow(user=user, password_hash=password_hash))
    return user


def get_credentials(state: State, username: str) -> tuple[User, str] | None:
    """A user and their password hash, by username."""
    key = username_key(username)
    for row in state.users.values():
        if username_key(row.user.username) == key:
            return row.user, row.password_hash
    return None


def list_users(state: State) -> list[User]:
    """Every user by id."""
    return [state.users[user_id].user for user_id in sorted(state.users)]


def _is_last_active_admin(state: State, user: User) -> bool:
    if not (user.is_admin and user.is_active):
        return False
    return not any(
        row.user.is_admin and row.user.is_active and row.user.id != user.id
        for row in state.users.values()
    )


def update_user(
    state: State,
    journal: Journal,
    user_id: int,
    *,
    username: str | Unset,
    password_hash: str | Unset,
    is_admin: bool | Unset,
    is_active: bool | Unset,
    telegram_chat_id: str | Unset | None,
    end_sessions: bool,
) -> User:
    """Change the given fields of a user."""
    row = get_user_row(state, user_id)
    user = row.user
    if (is_admin is False or is_active is False) and _is_last_active_admin(state, user):
        raise ConflictError("the last active admin cannot be demoted or deactivated")
    if username is not UNSET:
        _check_username(state, username, user_id)
        user = replace(user, username=username)
    if is_admin is not UNSET:
        user = replace(user, is_admin=is_admin)
    if is_active is not UNSET:
        user = replace(user, is_active=is_active)
    if telegram_chat_id is not UNSET:
        user = replace(user, telegram_chat_id=telegram_chat_id or None)
    if end_sessions:
        user = replace(user, token_generation=user.token_generation + 1)
    if password_hash is not UNSET:
        row = replace(row, password_hash=password_hash)
    row = replace(row, user=user)
    journal.put(state.users, user_id, row)
    return user


def delete_user(state: State, journal: Journal, user_id: int) -> None:
    """Delete a user and their memberships."""
    row = get_user_row(state, user_id)
    if _is_last_active_admin(state, row.user):
        raise ConflictError("the last active admin cannot be deleted")
    journal.delete_where(state.members, lambda member: member.user_id != user_id)
    journal.delete(state.users, user_id)
