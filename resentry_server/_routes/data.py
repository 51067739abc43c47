"""The other kinds of data SDKs send: release health, cron monitors, logs, feedback, client
reports, and every stored envelope item by type."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from resentry_server._deps import PublicUrlDep, ResentryDep
from resentry_server._routes._common import (
    OCTET_STREAM,
    PageDep,
    download,
    download_responses,
    errors,
    page_of,
)
from resentry_server._schemas import PageOut, RowId
from resentry_server._schemas_events import (
    ITEM_PAYLOAD_PATH,
    CheckInOut,
    DiscardCounterOut,
    FeedbackOut,
    ItemOut,
    LogOut,
    MonitorOut,
    ReleaseHealthOut,
)
from resentry_server._security import VisibleProject

router = APIRouter(prefix="/api/v1/projects/{project_id}", tags=["data"])

_Text = Annotated[str | None, Query(max_length=200)]


@router.get("/sessions/", responses=errors(401, 404))
async def release_health(
    project: VisibleProject, page: PageDep, core: ResentryDep
) -> PageOut[ReleaseHealthOut]:
    """Release health: session counts per release and environment."""
    health = page_of(await core.storage.release_health(project.id), page)
    return PageOut.of(health, ReleaseHealthOut.from_core)


@router.get("/monitors/", responses=errors(401, 404))
async def list_monitors(
    project: VisibleProject, page: PageDep, core: ResentryDep
) -> PageOut[MonitorOut]:
    """The project's cron monitors, by slug."""
    monitors = page_of(await core.storage.list_monitors(project.id), page)
    return PageOut.of(monitors, MonitorOut.from_core)


@router.get("/monitors/{monitor_slug}/check-ins/", responses=errors(401, 404))
async def list_check_ins(
    project: VisibleProject,
    monitor_slug: Annotated[str, Path(max_length=200)],
    page: PageDep,
    core: ResentryDep,
) -> PageOut[CheckInOut]:
    """A monitor's check-ins, newest first; 404 for an unknown monitor."""
    check_ins = await core.storage.list_check_ins(
        project.id, monitor_slug, cursor=page.cursor, limit=page.limit
    )
    return PageOut.of(check_ins, CheckInOut.from_core)


@router.get("/logs/", responses=errors(401, 404))
async def list_logs(
    project: VisibleProject,
    page: PageDep,
    core: ResentryDep,
    level: _Text = None,
    trace_id: _Text = None,
) -> PageOut[LogOut]:
    """The project's log records, newest first, optionally of one level or trace."""
    logs = await core.storage.list_logs(
        project.id, level=level, trace_id=trace_id, cursor=page.cursor, limit=page.limit
    )
    return PageOut.of(logs, LogOut.from_core)


@router.get("/feedback/", responses=errors(401, 404))
async def list_feedback(
    project: VisibleProject, page: PageDep, core: ResentryDep
) -> PageOut[FeedbackOut]:
    """User feedback, newest first."""
    feedback = await core.storage.list_feedback(project.id, cursor=page.cursor, limit=page.limit)
    return PageOut.of(feedback, FeedbackOut.from_core)


@router.get("/client-reports/", responses=errors(401, 404))
async def client_reports(
    project: VisibleProject, page: PageDep, core: ResentryDep
) -> PageOut[DiscardCounterOut]:
    """What SDKs reported discarding (client reports), summed per reason and category."""
    counters = page_of(await core.storage.discard_counters(project.id), page)
    return PageOut.of(counters, DiscardCounterOut.from_core)


@router.get("/items/", responses=errors(401, 404))
async def list_items(
    project: VisibleProject,
    page: PageDep,
    core: ResentryDep,
    base_url: PublicUrlDep,
    type: _Text = None,
) -> PageOut[ItemOut]:
    """Every stored envelope item (optionally of one type), newest received first."""
    items = await core.storage.list_items(
        project.id, type=type, cursor=page.cursor, limit=page.limit
    )
    return PageOut.of(items, lambda item: ItemOut.from_core(item, base_url))


@router.get(
    ITEM_PAYLOAD_PATH.removeprefix(router.prefix),
    response_class=Response,
    responses=download_responses("*/*"),
)
async def item_payload(project: VisibleProject, item_id: RowId, core: ResentryDep) -> Response:
    """An item's payload bytes exactly as received, with the item's ``content_type`` if any."""
    item, payload = await core.storage.get_item_payload(project.id, item_id)
    content_type = item.headers.get("content_type")
    return download(
        payload,
        media_type=content_type if isinstance(content_type, str) else OCTET_STREAM,
        filename=f"{item.type}-{item.id}",
    )
