"""``/api/v1/projects``: projects, their keys (with DSNs) and their members.

Everyone sees the projects they are members of (admins: all); only admins change them. A
project the caller may not see answers 404, like one that does not exist.
"""

from fastapi import APIRouter

from resentry_core import Resentry
from resentry_server._deps import PublicUrlDep, ResentryDep
from resentry_server._routes._common import PageDep, errors, page_of
from resentry_server._schemas import (
    KeyCreate,
    KeyOut,
    MemberAdd,
    MemberOut,
    PageOut,
    ProjectCreate,
    ProjectOut,
    ProjectUpdate,
    RowId,
)
from resentry_server._security import AdminProject, AdminUser, VisibleProject, VisibleProjects

router = APIRouter(prefix="/api/v1/projects", tags=["projects"])


@router.get("/", responses=errors(401))
async def list_projects(
    projects: VisibleProjects, page: PageDep, base_url: PublicUrlDep
) -> PageOut[ProjectOut]:
    """The projects the caller may see (admins: all), by id."""
    return PageOut.of(page_of(projects, page), lambda p: ProjectOut.from_core(p, base_url))


@router.post("/", status_code=201, responses=errors(400, 401, 403, 409))
async def create_project(
    _: AdminUser, body: ProjectCreate, core: ResentryDep, base_url: PublicUrlDep
) -> ProjectOut:
    """Create a project with one active key (admins only); 409 when the slug is taken."""
    project = await core.projects.create_project(
        body.name,
        slug=body.slug,
        allowed_origins=body.allowed_origins,
        rate_limit_per_minute=body.rate_limit_per_minute,
        retention_days=body.retention_days,
    )
    return ProjectOut.from_core(project, base_url)


@router.get("/{project_id}", responses=errors(401, 404))
async def get_project(project: VisibleProject, base_url: PublicUrlDep) -> ProjectOut:
    """A project with its keys and their DSNs."""
    return ProjectOut.from_core(project, base_url)


@router.patch("/{project_id}", responses=errors(400, 401, 403, 404))
@router.put("/{project_id}", responses=errors(400, 401, 403, 404))
async def update_project(
    project: AdminProject, body: ProjectUpdate, core: ResentryDep, base_url: PublicUrlDep
) -> ProjectOut:
    """Change the fields sent (admins only); ``null`` clears the rate limit or the retention."""
    updated = await core.projects.update_project(project.id, **body.changes())
    return ProjectOut.from_core(updated, base_url)


@router.delete("/{project_id}", status_code=204, responses=errors(401, 403, 404))
async def delete_project(project: AdminProject, core: ResentryDep) -> None:
    """Delete a project with all its keys, events, issues and other data (admins only)."""
    await core.storage.delete_project(project.id)


@router.get("/{project_id}/keys/", responses=errors(401, 404))
async def list_keys(
    project: VisibleProject, page: PageDep, core: ResentryDep, base_url: PublicUrlDep
) -> PageOut[KeyOut]:
    """The project's keys, active and revoked, with their DSNs."""
    keys = page_of(await core.storage.list_keys(project.id), page)
    return PageOut.of(keys, lambda key: KeyOut.from_core(key, base_url))


@router.post("/{project_id}/keys/", status_code=201, responses=errors(400, 401, 403, 404))
async def create_key(
    project: AdminProject, body: KeyCreate, core: ResentryDep, base_url: PublicUrlDep
) -> KeyOut:
    """Add an active key (admins only)."""
    return KeyOut.from_core(await core.storage.create_key(project.id, label=body.label), base_url)


@router.delete("/{project_id}/keys/{key_id}", responses=errors(401, 403, 404))
async def revoke_key(
    project: AdminProject, key_id: RowId, core: ResentryDep, base_url: PublicUrlDep
) -> KeyOut:
    """Revoke a key (admins only): it stays listed, inactive; ingestion refuses it from now on."""
    return KeyOut.from_core(await core.storage.revoke_key(project.id, key_id), base_url)


@router.get("/{project_id}/members/", responses=errors(401, 404))
async def list_members(
    project: VisibleProject, page: PageDep, core: ResentryDep
) -> PageOut[MemberOut]:
    """The project's members, by user id."""
    members = page_of(await core.storage.list_members(project.id), page)
    return PageOut.of(members, MemberOut.from_core)


@router.post("/{project_id}/members/", status_code=201, responses=errors(400, 401, 403, 404))
async def add_member(project: AdminProject, body: MemberAdd, core: ResentryDep) -> MemberOut:
    """Add a member by ``user_id`` or ``username``, or update their settings (admins only)."""
    member = await core.storage.add_member(
        project.id,
        await _user_id(core, body),
        min_level=body.min_level,
        notify_new_issues=body.notify_new_issues,
        notify_regressions=body.notify_regressions,
    )
    return MemberOut.from_core(member)


@router.delete("/{project_id}/members/{user_id}", status_code=204, responses=errors(401, 403, 404))
async def remove_member(project: AdminProject, user_id: RowId, core: ResentryDep) -> None:
    """Remove a member (admins only); 404 when the user is not a member."""
    await core.storage.remove_member(project.id, user_id)


async def _user_id(core: Resentry, body: MemberAdd) -> int:
    if body.user_id is not None:
        return body.user_id
    return (await core.accounts.user_named(body.username or "")).id
