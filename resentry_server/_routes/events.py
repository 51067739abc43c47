"""Events: per project and across projects, their detail, attachments and raw envelopes."""

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from resentry_core import EventFilter, Level
from resentry_server._deps import PublicUrlDep, ResentryDep
from resentry_server._routes._common import (
    EventIdPath,
    PageDep,
    download,
    download_responses,
    errors,
)
from resentry_server._schemas import MAX_ROW_ID, PageOut, RowId, UtcDatetime
from resentry_server._schemas_events import (
    ATTACHMENT_PATH,
    ENVELOPE_PATH,
    EventDetailOut,
    EventOut,
)
from resentry_server._security import VisibleProject, VisibleProjectIds

router = APIRouter(tags=["events"])

ENVELOPE_MEDIA_TYPE = "application/x-sentry-envelope"
_Text = Annotated[str | None, Query(max_length=200)]


async def _event_filter(
    level: Annotated[Level | None, Query()] = None,
    issue_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    release: _Text = None,
    environment: _Text = None,
    since: Annotated[UtcDatetime | None, Query(description="received at or after")] = None,
    until: Annotated[UtcDatetime | None, Query(description="received before")] = None,
    type: _Text = None,
) -> EventFilter:
    return EventFilter(
        issue_id=issue_id,
        level=level,
        release=release,
        environment=environment,
        since=since,
        until=until,
        type=type,
    )


EventFilterDep = Annotated[EventFilter, Depends(_event_filter)]


@router.get("/api/v1/projects/events", responses=errors(401))
@router.get("/api/projects/events", responses=errors(401))
async def list_all_events(
    project_ids: VisibleProjectIds, where: EventFilterDep, page: PageDep, core: ResentryDep
) -> PageOut[EventOut]:
    """Events of every project the caller may see, newest received first (same filters)."""
    events = await core.storage.list_events(
        replace(where, project_ids=project_ids), cursor=page.cursor, limit=page.limit
    )
    return PageOut.of(events, EventOut.from_core)


@router.get("/api/v1/projects/{project_id}/events/", responses=errors(401, 404))
async def list_events(
    project: VisibleProject, where: EventFilterDep, page: PageDep, core: ResentryDep
) -> PageOut[EventOut]:
    """The project's events, newest received first, filtered by the given fields."""
    events = await core.storage.list_events(
        replace(where, project_ids=(project.id,)), cursor=page.cursor, limit=page.limit
    )
    return PageOut.of(events, EventOut.from_core)


@router.get("/api/v1/projects/{project_id}/events/{event_id}", responses=errors(401, 404))
async def get_event(
    project: VisibleProject, event_id: EventIdPath, core: ResentryDep, base_url: PublicUrlDep
) -> EventDetailOut:
    """An event with its payload as sent, its attachments and its raw envelope's URL."""
    detail = await core.storage.get_event(project.id, event_id)
    return EventDetailOut.from_detail(detail, base_url)


@router.get(ATTACHMENT_PATH, response_class=Response, responses=download_responses("*/*"))
async def download_attachment(
    project: VisibleProject, attachment_id: RowId, core: ResentryDep
) -> Response:
    """An attachment's exact bytes, with its content type and filename."""
    attachment, data = await core.storage.get_attachment(project.id, attachment_id)
    return download(data, media_type=attachment.content_type, filename=attachment.filename)


@router.get(
    ENVELOPE_PATH, response_class=Response, responses=download_responses(ENVELOPE_MEDIA_TYPE)
)
async def download_envelope(
    project: VisibleProject, envelope_id: RowId, core: ResentryDep
) -> Response:
    """The envelope's request body exactly as received.

    A body received compressed is sent as stored with its ``Content-Encoding``, so an HTTP
    client that decodes it gets the envelope, and the raw bytes are the ones the SDK sent.
    """
    envelope = await core.storage.get_envelope(project.id, envelope_id)
    return download(
        envelope.raw,
        media_type=ENVELOPE_MEDIA_TYPE,
        filename=f"{envelope.event_id or envelope.id}.envelope",
        content_encoding=envelope.raw_encoding,
    )
