"""Admin pages: users, and a project's settings, keys and members (with their notification
settings)."""

from collections.abc import Mapping
from typing import Annotated, Final

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from resentry_core import LEVELS, Dsn, InvalidInputError
from resentry_core.storage import UNSET, Unset
from resentry_server._deps import PublicUrlDep, ResentryDep
from resentry_server._schemas import RowId
from resentry_server._ui._render import page_url, render
from resentry_server._ui._route import UiRoute
from resentry_server._ui._session import AdminViewer, CheckedForm, VisibleProject

router = APIRouter(route_class=UiRoute, include_in_schema=False)

OptionalText = Annotated[str | None, Form()]
_CLEAR: Final = ""


def redirect_to(
    request: Request, name: str, query: Mapping[str, object] | None = None, **params: object
) -> Response:
    """A ``303`` to the UI page ``name`` (what every form answers when it worked)."""
    return RedirectResponse(page_url(request, name, query, **params), status_code=303)


def form_text(form: FormData, name: str) -> str | None:
    """A text field as sent (``""`` when blank), or ``None`` when the form has no such field."""
    value = form.get(name)
    return value if isinstance(value, str) else None


def _optional_int(value: str | None, what: str) -> int | Unset | None:
    """A form number: absent is unchanged, blank clears, else a positive whole number."""
    if value is None:
        return UNSET
    if value.strip() == _CLEAR:
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise InvalidInputError(f"{what} must be a whole number, not {value!r}") from None


@router.get("/settings/users/", name="ui_users")
async def users(request: Request, viewer: AdminViewer, core: ResentryDep) -> Response:
    """Every user, with forms to create, deactivate, reset passwords and set chat ids."""
    return render(request, "users.html", {"users": await core.storage.list_users()})


@router.post("/settings/users/", name="ui_user_create")
async def create_user(
    request: Request,
    form: CheckedForm,
    viewer: AdminViewer,
    core: ResentryDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    is_admin: Annotated[bool, Form()] = False,
    telegram_chat_id: OptionalText = None,
    email: OptionalText = None,
) -> Response:
    """Create a user."""
    await core.accounts.create_user(
        username,
        password,
        is_admin=is_admin,
        telegram_chat_id=telegram_chat_id or None,
        email=email or None,
    )
    return redirect_to(request, "ui_users")


@router.post("/settings/users/{user_id}", name="ui_user_update")
async def update_user(
    request: Request,
    form: CheckedForm,
    viewer: AdminViewer,
    core: ResentryDep,
    user_id: RowId,
    is_active: Annotated[bool | None, Form()] = None,
    password: OptionalText = None,
    current_password: OptionalText = None,
) -> Response:
    """Change the fields the form sent: active flag, password, Telegram chat id and e-mail
    address (blank clears)."""
    telegram_chat_id = form_text(form, "telegram_chat_id")
    email = form_text(form, "email")
    await core.accounts.update_user(
        user_id,
        is_active=UNSET if is_active is None else is_active,
        password=password if password else UNSET,
        telegram_chat_id=UNSET if telegram_chat_id is None else telegram_chat_id or None,
        email=UNSET if email is None else email or None,
        changed_by=viewer.user,
        current_password=current_password or None,
    )
    return redirect_to(request, "ui_users")


@router.post("/projects/", name="ui_project_create")
async def create_project(
    request: Request,
    form: CheckedForm,
    viewer: AdminViewer,
    core: ResentryDep,
    name: Annotated[str, Form()],
) -> Response:
    """Create a project, then open its settings (its DSN is there)."""
    project = await core.projects.create_project(name)
    return redirect_to(request, "ui_project_settings", project_id=project.id)


@router.get("/projects/{project_id}/settings/", name="ui_project_settings")
async def project_settings(
    request: Request,
    project: VisibleProject,
    viewer: AdminViewer,
    core: ResentryDep,
    base_url: PublicUrlDep,
) -> Response:
    """A project's settings, keys with DSNs, and members."""
    keys = [
        (key, str(Dsn.build(base_url, key.public_key, project.id)))
        for key in await core.storage.list_keys(project.id)
    ]
    context = {
        "project": project,
        "keys": keys,
        "members": await core.storage.list_members(project.id),
        "users": await core.storage.list_users(),
        "levels": LEVELS,
        "active": "ui_project_settings",
    }
    return render(request, "project_settings.html", context)


@router.post("/projects/{project_id}/settings/", name="ui_project_update")
async def update_project(
    request: Request,
    form: CheckedForm,
    project: VisibleProject,
    viewer: AdminViewer,
    core: ResentryDep,
) -> Response:
    """Change the fields sent: name, rate limit, retention (blank clears) and allowed origins."""
    origins = form_text(form, "allowed_origins")
    name = form_text(form, "name")
    await core.projects.update_project(
        project.id,
        name=UNSET if name is None else name,
        rate_limit_per_minute=_optional_int(
            form_text(form, "rate_limit_per_minute"), "the rate limit"
        ),
        retention_days=_optional_int(form_text(form, "retention_days"), "the retention"),
        allowed_origins=UNSET
        if origins is None
        else [line.strip() for line in origins.splitlines() if line.strip()],
    )
    return redirect_to(request, "ui_project_settings", project_id=project.id)


@router.post("/projects/{project_id}/settings/keys", name="ui_key_create")
async def create_key(
    request: Request,
    form: CheckedForm,
    project: VisibleProject,
    viewer: AdminViewer,
    core: ResentryDep,
    label: Annotated[str, Form()] = "",
) -> Response:
    """Add a key."""
    await core.storage.create_key(project.id, label=label)
    return redirect_to(request, "ui_project_settings", project_id=project.id)


@router.post("/projects/{project_id}/settings/keys/{key_id}/revoke", name="ui_key_revoke")
async def revoke_key(
    request: Request,
    form: CheckedForm,
    project: VisibleProject,
    viewer: AdminViewer,
    key_id: RowId,
    core: ResentryDep,
) -> Response:
    """Revoke a key: ingestion refuses it from now on."""
    await core.storage.revoke_key(project.id, key_id)
    return redirect_to(request, "ui_project_settings", project_id=project.id)


@router.post("/projects/{project_id}/settings/members", name="ui_member_add")
async def add_member(
    request: Request,
    form: CheckedForm,
    project: VisibleProject,
    viewer: AdminViewer,
    core: ResentryDep,
    username: Annotated[str, Form()],
) -> Response:
    """Add a user to the project by username."""
    user = await core.accounts.user_named(username)
    await core.storage.add_member(project.id, user.id)
    return redirect_to(request, "ui_project_settings", project_id=project.id)


@router.post("/projects/{project_id}/settings/members/{user_id}/remove", name="ui_member_remove")
async def remove_member(
    request: Request,
    form: CheckedForm,
    project: VisibleProject,
    viewer: AdminViewer,
    user_id: RowId,
    core: ResentryDep,
) -> Response:
    """Remove a member."""
    await core.storage.remove_member(project.id, user_id)
    return redirect_to(request, "ui_project_settings", project_id=project.id)
