"""Who is calling the management API, and what they may see.

- :data:`CurrentUser`: the active user of a bearer access token (401 otherwise).
- :data:`AdminUser`: the same, and an admin (403 otherwise).
- :data:`VisibleProject`: the project of ``{project_id}`` if the caller may see it: admins see
  every project, other users the projects they are members of. Any other id answers 404, never
  403, so project ids cannot be probed.
- :data:`AdminProject`: a visible project, and the caller is an admin (403 otherwise).
- :data:`VisibleProjects` / :data:`VisibleProjectIds`: every project the caller may see.
- :data:`SelfOrAdmin`: the user of ``{user_id}`` when it is the caller or the caller is an admin.
"""

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from resentry_core import NotFoundError, PermissionDeniedError, Project, User
from resentry_server._deps import ResentryDep
from resentry_server._schemas import RowId

# Relative, so that Swagger UI finds it under a mount prefix too (resolved against /openapi.json).
TOKEN_URL = "api/v1/auth/login"  # noqa: S105 - a path

_bearer = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    description="An access token from `POST /api/v1/auth/login`, as `Authorization: Bearer …`.",
)


BearerToken = Annotated[str, Depends(_bearer)]
"""The bearer token of the request, as sent (401 when there is none)."""


async def _current_user(token: BearerToken, core: ResentryDep) -> User:
    return await core.accounts.user_for_token(token)


CurrentUser = Annotated[User, Depends(_current_user)]


async def _admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise PermissionDeniedError("only an admin may do this")
    return user


AdminUser = Annotated[User, Depends(_admin_user)]


async def _visible_project(project_id: RowId, user: CurrentUser, core: ResentryDep) -> Project:
    if not user.is_admin and not await core.storage.is_member(project_id, user.id):
        raise NotFoundError(f"project {project_id} not found")
    return await core.storage.get_project(project_id)


VisibleProject = Annotated[Project, Depends(_visible_project)]


async def _admin_project(project: VisibleProject, user: CurrentUser) -> Project:
    if not user.is_admin:
        raise PermissionDeniedError("only an admin may change a project")
    return project


AdminProject = Annotated[Project, Depends(_admin_project)]


async def _visible_projects(user: CurrentUser, core: ResentryDep) -> list[Project]:
    return await core.storage.list_projects(user_id=None if user.is_admin else user.id)


VisibleProjects = Annotated[list[Project], Depends(_visible_projects)]


async def _visible_project_ids(
    user: CurrentUser, projects: VisibleProjects
) -> tuple[int, ...] | None:
    # None is "every project" for EventFilter.project_ids: an admin also sees projects created
    # while they page through events.
    return None if user.is_admin else tuple(project.id for project in projects)


VisibleProjectIds = Annotated[tuple[int, ...] | None, Depends(_visible_project_ids)]
"""The caller's project ids (``None``: every project, for an admin)."""


async def _self_or_admin(user_id: RowId, user: CurrentUser, core: ResentryDep) -> User:
    if user_id != user.id and not user.is_admin:
        raise PermissionDeniedError("only an admin may see or change other users")
    return await core.storage.get_user(user_id)


SelfOrAdmin = Annotated[User, Depends(_self_or_admin)]


def check_user_change(
    caller: User, target: User, *, is_admin: bool | None, is_active: bool | None
) -> None:
    """Refuse a non-admin's change of their own ``is_admin`` or ``is_active``.

    Sending the current value is no change and is allowed (a client may ``PUT`` the whole user).

    Raises:
        PermissionDeniedError: a non-admin tries to change either flag.
    """
    if caller.is_admin:
        return
    if (is_admin is not None and is_admin != target.is_admin) or (
        is_active is not None and is_active != target.is_active
    ):
        raise PermissionDeniedError("only an admin may change is_admin or is_active")
