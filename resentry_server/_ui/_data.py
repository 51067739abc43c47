"""The other data of a project: transactions (with a span waterfall), logs, feedback, cron
monitors and release health."""

from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from resentry_core import LEVELS, EventFilter, NotFoundError
from resentry_server._deps import ResentryDep
from resentry_server._ui._render import page_url, render
from resentry_server._ui._route import UiRoute
from resentry_server._ui._session import SignedIn, VisibleProject
from resentry_server._ui._spans import waterfall
from resentry_server._ui._stores import insights

router = APIRouter(route_class=UiRoute, include_in_schema=False)

PAGE_SIZE: Final = 50
STRIP_CHECK_INS: Final = 30
EventId = Annotated[str, Query(pattern="^[0-9a-fA-F]{32}$")]


@router.get("/projects/{project_id}/transactions/", name="ui_transactions")
async def transactions(
    request: Request,
    viewer: SignedIn,
    project: VisibleProject,
    core: ResentryDep,
    cursor: Annotated[str | None, Query()] = None,
) -> Response:
    """The project's transactions, newest first: name, duration, status."""
    where = EventFilter(project_ids=(project.id,), type="transaction")
    page = await core.storage.list_events(where, cursor=cursor or None, limit=PAGE_SIZE)
    context = {"project": project, "page": page, "active": "ui_transactions"}
    return render(request, "transactions.html", context)


@router.get("/projects/{project_id}/transactions/{event_id}/", name="ui_transaction")
async def transaction(
    request: Request, viewer: SignedIn, project: VisibleProject, event_id: str, core: ResentryDep
) -> Response:
    """One transaction with its spans drawn as a waterfall."""
    detail = await core.storage.get_event(project.id, event_id.lower())
    if detail.event.type != "transaction":
        raise NotFoundError(f"event {event_id} is not a transaction")
    context = {"project": project, "detail": detail, "spans": waterfall(detail.payload)}
    return render(request, "transaction.html", {**context, "active": "ui_transactions"})


@router.get("/projects/{project_id}/events/{event_id}/", name="ui_event")
async def event(
    request: Request, viewer: SignedIn, project: VisibleProject, event_id: str, core: ResentryDep
) -> Response:
    """Any event, on the page that shows it (its issue, or the transaction page)."""
    found = (await core.storage.get_event(project.id, event_id.lower())).event
    if found.issue_id is not None:
        target = page_url(
            request,
            "ui_issue",
            {"event": found.event_id},
            project_id=project.id,
            issue_id=found.issue_id,
        )
    elif found.type == "transaction":
        target = page_url(request, "ui_transaction", project_id=project.id, event_id=found.event_id)
    else:
        target = page_url(request, "ui_event_json", project_id=project.id, event_id=found.event_id)
    return RedirectResponse(target, status_code=303)


@router.get("/projects/{project_id}/logs/", name="ui_logs")
async def logs(
    request: Request,
    viewer: SignedIn,
    project: VisibleProject,
    core: ResentryDep,
    level: Annotated[str | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> Response:
    """The project's logs, filtered by level and text."""
    filters = {"level": level or None, "q": (q or "").strip() or None}
    page = await insights(core).search_logs(
        project.id,
        level=filters["level"],
        text=filters["q"],
        cursor=cursor or None,
        limit=PAGE_SIZE,
    )
    context = {"project": project, "page": page, "filters": filters, "levels": LEVELS}
    return render(request, "logs.html", {**context, "active": "ui_logs"})


@router.get("/projects/{project_id}/feedback/", name="ui_feedback")
async def feedback(
    request: Request,
    viewer: SignedIn,
    project: VisibleProject,
    core: ResentryDep,
    cursor: Annotated[str | None, Query()] = None,
) -> Response:
    """User feedback, each linked to the event it is about."""
    page = await core.storage.list_feedback(project.id, cursor=cursor or None, limit=PAGE_SIZE)
    context = {"project": project, "page": page, "active": "ui_feedback"}
    return render(request, "feedback.html", context)


@router.get("/projects/{project_id}/monitors/", name="ui_monitors")
async def monitors(
    request: Request, viewer: SignedIn, project: VisibleProject, core: ResentryDep
) -> Response:
    """Cron monitors: state, last check-in and a strip of recent check-ins."""
    found = await core.storage.list_monitors(project.id)
    strips = {
        monitor.slug: list(
            (
                await core.storage.list_check_ins(project.id, monitor.slug, limit=STRIP_CHECK_INS)
            ).items
        )[::-1]
        for monitor in found
    }
    context = {"project": project, "monitors": found, "strips": strips, "active": "ui_monitors"}
    return render(request, "monitors.html", context)


@router.get("/projects/{project_id}/releases/", name="ui_releases")
async def releases(
    request: Request, viewer: SignedIn, project: VisibleProject, core: ResentryDep
) -> Response:
    """Release health: sessions and crash-free rate per release and environment."""
    rows = await core.storage.release_health(project.id)
    context = {"project": project, "rows": rows, "active": "ui_releases"}
    return render(request, "releases.html", context)
