"""``/api/v1/projects/{project_id}/issues``: list, detail, status changes, events of an issue."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from resentry_core import EventFilter, IssueStatus
from resentry_server._deps import ResentryDep
from resentry_server._routes._common import PageDep, errors
from resentry_server._schemas import IssueOut, IssueStatusIn, PageOut, RowId
from resentry_server._schemas_events import EventOut
from resentry_server._security import VisibleProject

router = APIRouter(prefix="/api/v1/projects/{project_id}/issues", tags=["issues"])

IssueSort = Literal["last_seen", "first_seen", "times_seen"]


@router.get("/", responses=errors(401, 404))
async def list_issues(
    project: VisibleProject,
    page: PageDep,
    core: ResentryDep,
    status: Annotated[IssueStatus | None, Query()] = None,
    sort: Annotated[IssueSort, Query(description="descending")] = "last_seen",
) -> PageOut[IssueOut]:
    """The project's issues, optionally of one status, sorted newest or most seen first."""
    issues = await core.storage.list_issues(
        project.id, status=status, sort=sort, cursor=page.cursor, limit=page.limit
    )
    return PageOut.of(issues, IssueOut.from_core)


@router.get("/{issue_id}", responses=errors(401, 404))
async def get_issue(project: VisibleProject, issue_id: RowId, core: ResentryDep) -> IssueOut:
    """One issue."""
    return IssueOut.from_core(await core.storage.get_issue(project.id, issue_id))


@router.patch("/{issue_id}", responses=errors(400, 401, 404))
@router.put("/{issue_id}", responses=errors(400, 401, 404))
async def set_issue_status(
    project: VisibleProject, issue_id: RowId, body: IssueStatusIn, core: ResentryDep
) -> IssueOut:
    """Resolve (``resolved``), ignore (``ignored``) or reopen (``unresolved``) an issue.

    Any member of the project may do this.
    """
    issue = await core.issues.set_status(project.id, issue_id, body.status)
    return IssueOut.from_core(issue)


@router.get("/{issue_id}/events/", responses=errors(401, 404))
async def list_issue_events(
    project: VisibleProject, issue_id: RowId, page: PageDep, core: ResentryDep
) -> PageOut[EventOut]:
    """The issue's events, newest received first."""
    issue = await core.storage.get_issue(project.id, issue_id)  # 404 for another project's
    events = await core.storage.list_events(
        EventFilter(project_ids=(project.id,), issue_id=issue.id),
        cursor=page.cursor,
        limit=page.limit,
    )
    return PageOut.of(events, EventOut.from_core)
