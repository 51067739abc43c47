"""Sign-in, sign-out, the projects page and the stylesheet."""

from datetime import UTC, datetime
from typing import Annotated, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from resentry_core import AuthenticationError, Dsn, EventFilter, RateLimitedError
from resentry_server._deps import ClientAddressDep, PublicUrlDep, ResentryDep
from resentry_server._errors import retry_after
from resentry_server._ui._render import HERE, page_url, render
from resentry_server._ui._route import UiRoute
from resentry_server._ui._session import (
    CheckedForm,
    SignedIn,
    end_tokens,
    safe_next,
    start_session,
)
from resentry_server._ui._stores import insights

router = APIRouter(route_class=UiRoute, include_in_schema=False)

_STYLESHEET: Final = (HERE / "static" / "style.css").read_bytes()
SPARKLINE_HOURS: Final = 24


@router.get("/static/style.css", name="ui_stylesheet")
async def stylesheet() -> Response:
    """The UI's one stylesheet."""
    return Response(
        _STYLESHEET, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/login", name="ui_login")
async def login_page(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    """The sign-in form."""
    context = {"next": safe_next(request, next), "error": None, "username": ""}
    return render(request, "login.html", context)


@router.post("/login", name="ui_login_post")
async def login(
    request: Request,
    form: CheckedForm,
    core: ResentryDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    address: ClientAddressDep,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Check the credentials with the API's login (same throttling, per username and per
    client address) and start a session."""
    target = safe_next(request, next)
    try:
        pair = await core.accounts.login(username, password, client_address=address)
    except (AuthenticationError, RateLimitedError) as exc:
        status = 429 if isinstance(exc, RateLimitedError) else 401
        context = {"next": target, "error": str(exc), "username": username}
        response = render(request, "login.html", context, status=status)
        if isinstance(exc, RateLimitedError):  # as the API's error handler answers
            response.headers["Retry-After"] = retry_after(exc)
        return response
    start_session(request, pair)
    return RedirectResponse(target, status_code=303)


@router.post("/logout", name="ui_logout")
async def logout(request: Request, form: CheckedForm, core: ResentryDep) -> Response:
    """Sign out: end every token of the user (as the API's logout does) and the cookie."""
    await end_tokens(request, core)
    return RedirectResponse(page_url(request, "ui_login"), status_code=303)


@router.get("/", name="ui_projects")
async def projects(
    request: Request, viewer: SignedIn, core: ResentryDep, base_url: PublicUrlDep
) -> Response:
    """The projects the viewer may see, with unresolved counts and a 24-hour sparkline."""
    user = viewer.user
    visible = await core.storage.list_projects(user_id=None if user.is_admin else user.id)
    ids = [project.id for project in visible]
    store = insights(core)
    counts = await store.unresolved_counts(ids)
    hourly = await store.project_histograms(
        ids, until=datetime.now(UTC), unit="hour", buckets=SPARKLINE_HOURS
    )
    empty = set()
    for project_id in ids:
        if not counts[project_id] and not any(hourly[project_id]):
            page = await core.storage.list_events(EventFilter(project_ids=(project_id,)), limit=1)
            if not page.items:
                empty.add(project_id)
    dsns = {
        project.id: [
            str(Dsn.build(base_url, key.public_key, project.id))
            for key in project.keys
            if key.is_active
        ]
        for project in visible
    }
    return render(
        request,
        "projects.html",
        {"projects": visible, "counts": counts, "hourly": hourly, "empty": empty, "dsns": dsns},
    )
