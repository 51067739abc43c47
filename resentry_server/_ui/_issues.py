"""A project's issues: the list (filters, sort, pages, bulk actions), an issue, downloads."""

from datetime import UTC, datetime
from typing import Annotated, Final, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from resentry_core import ISSUE_STATUSES, LEVELS, IssueFilter, IssueStatus, NotFoundError
from resentry_server._deps import ResentryDep
from resentry_server._schemas import RowId
from resentry_server._ui._event import event_view
from resentry_server._ui._render import page_url, render
from resentry_server._ui._route import UiRoute
from resentry_server._ui._session import CheckedForm, SignedIn, VisibleProject, safe_next
from resentry_server._ui._stores import insights

router = APIRouter(route_class=UiRoute, include_in_schema=False)

IssueSort = Literal["last_seen", "first_seen", "times_seen"]
SORTS: Final = {"last_seen": "Last seen", "first_seen": "First seen", "times_seen": "Events"}
SPARKLINE_DAYS: Final = 14
PAGE_SIZE: Final = 50
# The tags the issue page always shows first, when the events have them.
LEADING_TAGS: Final = ("environment", "release", "browser", "os", "server_name")


def _blank_is_none(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


@router.get("/projects/{project_id}/", name="ui_issues")
async def issues(
    request: Request,
    viewer: SignedIn,
    project: VisibleProject,
    core: ResentryDep,
    status: Annotated[IssueStatus, Query()] = "unresolved",
    sort: Annotated[IssueSort, Query()] = "last_seen",
    level: Annotated[str | None, Query()] = None,
    environment: Annotated[str | None, Query()] = None,
    release: Annotated[str | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> Response:
    """The project's issues of one status, filtered and sorted, a page at a time."""
    where = IssueFilter(
        status=status,
        level=_blank_is_none(level),
        environment=_blank_is_none(environment),
        release=_blank_is_none(release),
        text=_blank_is_none(q),
    )
    store = insights(core)
    page = await store.search_issues(
        project.id, where, sort=sort, cursor=cursor or None, limit=PAGE_SIZE
    )
    daily = await store.issue_histograms(
        project.id,
        [issue.id for issue in page.items],
        until=datetime.now(UTC),
        unit="day",
        buckets=SPARKLINE_DAYS,
    )
    filters = {
        "status": status,
        "sort": sort,
        "level": where.level,
        "environment": where.environment,
        "release": where.release,
        "q": where.text,
    }
    context = {
        "project": project,
        "page": page,
        "daily": daily,
        "filters": filters,
        "statuses": ISSUE_STATUSES,
        "levels": LEVELS,
        "sorts": SORTS,
        "active": "ui_issues",
        "here": page_url(
            request, "ui_issues", {**filters, "cursor": cursor}, project_id=project.id
        ),
    }
    return render(request, "issues.html", context)


@router.post("/projects/{project_id}/issues/bulk", name="ui_issues_bulk")
async def bulk(
    request: Request,
    form: CheckedForm,
    viewer: SignedIn,
    project: VisibleProject,
    core: ResentryDep,
    status: Annotated[IssueStatus, Form()],
    issue: Annotated[list[int], Form(default_factory=list)],
    back: Annotated[str | None, Form()] = None,
) -> Response:
    """Set the status of every checked issue, then go back to the list."""
    for issue_id in issue:
        await core.issues.set_status(project.id, issue_id, status)
    return RedirectResponse(safe_next(request, back), status_code=303)


@router.get("/projects/{project_id}/issues/{issue_id}/", name="ui_issue")
async def issue_page(
    request: Request,
    viewer: SignedIn,
    project: VisibleProject,
    issue_id: RowId,
    core: ResentryDep,
    event: Annotated[str | None, Query(pattern="^[0-9a-f]{32}$")] = None,
) -> Response:
    """An issue: counts, tag distributions and one event (the latest unless ``event``)."""
    issue = await core.storage.get_issue(project.id, issue_id)
    store = insights(core)
    event_id = event or issue.last_event_id
    detail = older = newer = None
    if event_id is not None:
        detail = await core.storage.get_event(project.id, event_id)
        if detail.event.issue_id != issue.id:
            raise NotFoundError(f"event {event_id} is not an event of issue {issue.id}")
        older, newer = await store.event_neighbors(project.id, issue.id, event_id)
    tags = await store.tag_distribution(project.id, issue.id)
    ordered = [name for name in LEADING_TAGS if name in tags.tags]
    ordered += [name for name in tags.tags if name not in LEADING_TAGS]
    daily = await store.issue_histograms(
        project.id, [issue.id], until=datetime.now(UTC), unit="day", buckets=SPARKLINE_DAYS
    )
    context = {
        "project": project,
        "issue": issue,
        "detail": detail,
        "view": event_view(detail.payload) if detail else None,
        "older": older,
        "newer": newer,
        "tags": tags,
        "tag_order": ordered,
        "daily": daily[issue.id],
        "active": "ui_issues",
    }
    return render(request, "issue.html", context)


@router.post("/projects/{project_id}/issues/{issue_id}/status", name="ui_issue_status")
async def set_status(
    request: Request,
    form: CheckedForm,
    viewer: SignedIn,
    project: VisibleProject,
    issue_id: RowId,
    core: ResentryDep,
    status: Annotated[IssueStatus, Form()],
) -> Response:
    """Resolve, ignore or reopen the issue, then show it again."""
    await core.issues.set_status(project.id, issue_id, status)
    target = page_url(request, "ui_issue", project_id=project.id, issue_id=issue_id)
    return RedirectResponse(target, status_code=303)


def download(body: bytes, filename: str, media_type: str = "application/octet-stream") -> Response:
    """``body`` as a download: never shown inline, never sniffed, sandboxed if opened anyway."""
    ascii_name = (
        "".join(
            ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in filename
        )
        or "download"
    )
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
            ),
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@router.get("/projects/{project_id}/events/{event_id}.json", name="ui_event_json")
async def event_json(
    viewer: SignedIn, project: VisibleProject, event_id: str, core: ResentryDep
) -> Response:
    """The event's payload exactly as the SDK sent it."""
    detail = await core.storage.get_event(project.id, event_id.lower())
    return download(detail.payload, f"{detail.event.event_id}.json", "application/json")


@router.get("/projects/{project_id}/envelopes/{envelope_id}", name="ui_envelope")
async def envelope(
    viewer: SignedIn, project: VisibleProject, envelope_id: RowId, core: ResentryDep
) -> Response:
    """The raw envelope as received (still compressed if it came compressed)."""
    stored = await core.storage.get_envelope(project.id, envelope_id)
    suffix = f".{stored.raw_encoding}" if stored.raw_encoding else ""
    return download(stored.raw, f"envelope-{stored.id}.envelope{suffix}")


@router.get("/projects/{project_id}/attachments/{attachment_id}", name="ui_attachment")
async def attachment(
    viewer: SignedIn, project: VisibleProject, attachment_id: RowId, core: ResentryDep
) -> Response:
    """An attachment's bytes, as a download."""
    meta, body = await core.storage.get_attachment(project.id, attachment_id)
    return download(body, meta.filename)
