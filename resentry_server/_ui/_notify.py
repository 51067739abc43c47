"""Notification pages: a project's channels, rules and delivery log (admins), and each
member's own notification settings."""

from collections.abc import Mapping, Sequence
from typing import Annotated, Final, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from resentry_core import (
    CHANNEL_KINDS,
    LEVELS,
    WEBHOOK_FLAVORS,
    Channel,
    ChannelKind,
    Delivery,
    InvalidInputError,
    Level,
    Project,
    Resentry,
    Rule,
    Trigger,
    WebhookFlavor,
)
from resentry_core.storage import UNSET
from resentry_server._deps import ResentryDep
from resentry_server._schemas import MAX_ROW_ID, RowId
from resentry_server._ui._data import PAGE_SIZE
from resentry_server._ui._render import render
from resentry_server._ui._route import UiRoute
from resentry_server._ui._session import AdminViewer, CheckedForm, SignedIn, VisibleProject
from resentry_server._ui._settings import form_text, redirect_to

router = APIRouter(route_class=UiRoute, include_in_schema=False)

KIND_LABELS: Final[Mapping[str, str]] = {
    "telegram": "Telegram",
    "email": "E-mail",
    "webhook": "Webhook",
}
TARGET_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    "telegram": ("Chat id", "The group chat's id (the bot must be in the group)."),
    "email": ("Addresses", "One or more e-mail addresses, separated by commas."),
    "webhook": ("URL", "An http(s) URL; requests are signed with a secret shown once."),
}
TRIGGER_LABELS: Final[Mapping[str, str]] = {
    "new_issue": "New issue",
    "regression": "Regression",
    "level": "Every event at or above the level",
    "monitor_missed": "Cron monitor missed",
    "monitor_failed": "Cron monitor failed",
    "monitor_timeout": "Cron monitor timed out",
}
REASON_LABELS: Final = {
    **TRIGGER_LABELS,
    "level": "Event at or above a level",
    "digest": "Digest",
    "test": "Test message",
}


def _form_values(form: FormData) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _context(project: Project, **values: object) -> dict[str, object]:
    """What every notification page's template needs besides its own data."""
    return {
        "project": project,
        "active": "ui_project_settings",
        "kind_labels": KIND_LABELS,
        "trigger_labels": TRIGGER_LABELS,
        "levels": LEVELS,
        "flavors": WEBHOOK_FLAVORS,
        **values,
    }


async def _notifications_page(
    request: Request,
    core: Resentry,
    project: Project,
    *,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
    status: int = 200,
) -> Response:
    notifications = core.notifications
    channels = await notifications.list_channels(project.id)
    context = _context(
        project,
        channels=channels,
        channel_names={channel.id: channel.name for channel in channels},
        rules=await notifications.list_rules(project.id),
        channel_forms=[(kind, *TARGET_LABELS[kind]) for kind in CHANNEL_KINDS],
        errors=errors or {},
        values=values or {},
    )
    return render(request, "notifications.html", context, status=status)


@router.get("/projects/{project_id}/settings/notifications/", name="ui_notifications")
async def notifications(
    request: Request, project: VisibleProject, viewer: AdminViewer, core: ResentryDep
) -> Response:
    """The project's channels and rules, with forms to add them."""
    return await _notifications_page(request, core, project)


@router.post("/projects/{project_id}/settings/notifications/channels", name="ui_channel_create")
async def create_channel(
    request: Request,
    form: CheckedForm,
    project: VisibleProject,
    viewer: AdminViewer,
    core: ResentryDep,
) -> Response:
    """Add a channel. A webhook's signing secret is on this answer only; a bad target shows
    the form again with the reason (422) and adds nothing."""
    kind = form_text(form, "kind") or ""
    flavor = form_text(form, "flavor")
    try:
        channel, secret = await core.notifications.create_channel(
            project.id,
            name=form_text(form, "name") or "",
            kind=cast("ChannelKind", kind),  # checked by the service
            target=form_text(form, "target") or "",
            flavor=cast("WebhookFlavor | None", flavor or None),
        )
    except InvalidInputError as exc:
        if kind not in CHANNEL_KINDS:
            raise
        form_name = f"channel-{kind}"
        return await _notifications_page(
            request,
            core,
            project,
            errors={form_name: str(exc)},
            values={form_name: _form_values(form)},
            status=422,
        )
    if secret is None:
        return redirect_to(request, "ui_notifications", project_id=project.id)
    return _channel_page(request, project, channel, secret=secret, status=201)


def _channel_page(
    request: Request,
    project: Project,
    channel: Channel,
    *,
    secret: str | None = None,
    error: str | None = None,
    sent: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = _context(
        project,
        channel=channel,
        secret=secret,
        target_label=TARGET_LABELS[channel.kind][0],
        errors={"channel": error} if error else {},
        values={"channel": sent} if sent else {},
    )
    return render(request, "channel.html", context, status=status)


@router.get(
    "/projects/{project_id}/settings/notifications/channels/{channel_id}", name="ui_channel"
)
async def channel(
    request: Request,
    project: VisibleProject,
    viewer: AdminViewer,
    channel_id: RowId,
    core: ResentryDep,
) -> Response:
    """A channel's settings, with test and delete buttons (its secret is never shown here)."""
    found = await core.notifications.get_channel(project.id, channel_id)
    return _channel_page(request, project, found)


@router.post(
    "/projects/{project_id}/settings/notifications/channels/{channel_id}",
    name="ui_channel_update",
)
async def update_channel(
    request: Request,
    form: CheckedForm,
    project: VisibleProject,
    viewer: AdminViewer,
    channel_id: RowId,
    core: ResentryDep,
) -> Response:
    """Change the fields sent (name, target, flavor); a bad value shows the form again (422)."""
    name, target, flavor = (form_text(form, field) for field in ("name", "target", "flavor"))
    try:
        await core.notifications.update_channel(
            project.id,
            channel_id,
            name=UNSET if name is None else name,
            target=UNSET if target is None else target,
            flavor=UNSET if flavor is None else cast("WebhookFlavor", flavor),
        )
    except InvalidInputError as exc:
        found = await core.notifications.get_channel(project.id, channel_id)
        return _channel_page(
            request, project, found, error=str(exc), sent=_form_values(form), status=422
        )
    return redirect_to(request, "ui_notifications", project_id=project.id)


@router.post(
    "/projects/{project_id}/settings/notifications/channels/{channel_id}/delete",
    name="ui_channel_delete",
)
async def delete_channel(
    request: Request,
    form: CheckedForm,
    project: VisibleProject,
    viewer: AdminViewer,
    channel_id: RowId,
    core: ResentryDep,
) -> Response:
    """Delete a channel with its rules and its delivery log."""
    await core.notifications.delete_channel(project.id, channel_id)
    return redirect_to(request, "ui_notifications", project_id=project.id)


@router.post(
    "/projects/{project_id}/settings/notifications/channels/{channel_id}/test",
    name="ui_channel_test",
)
async def test_channel(
    request: Request,
    form: CheckedForm,
    project: VisibleProject,
    viewer: AdminViewer,
    channel_id: RowId,
    core: ResentryDep,
) -> Response:
    """Queue a test message, then show the channel's delivery log."""
    await core.notifications.test_channel(project.id, channel_id)
    return redirect_to(request, "ui_deliveries", {"channel_id": channel_id}, project_id=project.id)


def _rule_fields(form: FormData) -> tuple[str, str, str, str]:
    """The rule form's channel id, trigger, minimum level and environment, as sent."""
    channel_id, trigger, min_level, environment = (
        form_text(form, field) or ""
        for field in ("channel_id", "trigger", "min_level", "environment")
    )
    return channel_id, trigger, min_level, environment


def _row_id(value: str, what: str) -> int:
    """A row id sent in a form or query. Raises InvalidInputError."""
    if not value.isdigit() or not 1 <= int(value) <= MAX_ROW_ID:
        raise InvalidInputError(f"{what} must be a row id, not {value!r}")
    return int(value)


@router.post("/projects/{project_id}/settings/notifications/rules", name="ui_rule_create")
async def create_rule(
    request: Request,
    form: CheckedForm,
    project: VisibleProject,
    viewer: AdminViewer,
    core: ResentryDep,
) -> Response:
    """Add a rule to a channel; a bad value shows the form again with the reason (422)."""
    channel_id, trigger, min_level, environment = _rule_fields(form)
    try:
        await core.notifications.create_rule(
            project.id,
            channel_id=_row_id(channel_id, "the channel"),
            trigger=cast("Trigger", trigger),  # checked by the service
            min_level=cast("Level", min_level),
            environment=environment,
        )
    except InvalidInputError as exc:
        return await _notifications_page(
            request,
            core,
            project,
            errors={"rule": str(exc)},
            values={"rule": _form_values(form)},
            status=422,
        )
    return redirect_to(request, "ui_notifications", project_id=project.id)


def _rule_page(
    request: Request,
    project: Project,
    rule: Rule,
    channels: Sequence[Channel],
    *,
    error: str | None = None,
    sent: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    shown = sent or {
        "channel_id": str(rule.channel_id),
        "trigger": rule.trigger,
        "min_level": rule.min_level,
        "environment": rule.environment or "",
    }
    context = _context(
        project,
        rule=rule,
        channels=channels,
        rule_form=shown,
        errors={"rule": error} if error else {},
    )
    return render(request, "rule.html", context, status=status)


@router.get("/projects/{project_id}/settings/notifications/rules/{rule_id}", name="ui_rule")
async def rule(
    request: Request,
    project: VisibleProject,
    viewer: AdminViewer,
    rule_id: RowId,
    core: ResentryDep,
) -> Response:
    """A rule's form."""
    found = await core.notifications.get_rule(project.id, rule_id)
    return _rule_page(request, project, found, await core.notifications.list_channels(project.id))


@router.post("/projects/{project_id}/settings/notifications/rules/{rule_id}", name="ui_rule_update")
async def update_rule(
    request: Request,
    form: CheckedForm,
    project: VisibleProject,
    viewer: AdminViewer,
    rule_id: RowId,
    core: ResentryDep,
) -> Response:
    """Change a rule (a blank environment: any); a bad value shows the form again (422)."""
    channel_id, trigger, min_level, environment = _rule_fields(form)
    notifications = core.notifications
    try:
        await notifications.update_rule(
            project.id,
            rule_id,
            channel_id=_row_id(channel_id, "the channel"),
            trigger=cast("Trigger", trigger),  # checked by the service
            min_level=cast("Level", min_level),
            environment=environment or None,
        )
    except InvalidInputError as exc:
        found = await notifications.get_rule(project.id, rule_id)
        channels = await notifications.list_channels(project.id)
        return _rule_page(
            request, project, found, channels, error=str(exc), sent=_form_values(form), status=422
        )
    return redirect_to(request, "ui_notifications", project_id=project.id)


@router.post(
    "/projects/{project_id}/settings/notifications/rules/{rule_id}/delete",
    name="ui_rule_delete",
)
async def delete_rule(
    request: Request,
    form: CheckedForm,
    project: VisibleProject,
    viewer: AdminViewer,
    rule_id: RowId,
    core: ResentryDep,
) -> Response:
    """Delete a rule."""
    await core.notifications.delete_rule(project.id, rule_id)
    return redirect_to(request, "ui_notifications", project_id=project.id)


def _destination_labels(
    deliveries: Sequence[Delivery], channels: Sequence[Channel], usernames: Mapping[int, str]
) -> dict[str, str]:
    """Each delivery's destination in words: a channel's name, a member's name and medium."""
    names = {
        f"channel:{channel.id}": f"{channel.name} ({KIND_LABELS[channel.kind]})"
        for channel in channels
    }
    labels: dict[str, str] = {}
    for delivery in deliveries:
        destination = delivery.destination
        kind, _, rest = destination.partition(":")
        username = usernames.get(delivery.user_id or 0)
        if destination in names:
            labels[destination] = names[destination]
        elif kind == "user" and username is not None:
            medium = KIND_LABELS.get(rest.rpartition(":")[2], rest)
            labels[destination] = f"{username} ({medium})"
        elif kind == "app":
            labels[destination] = f"application notifier {rest}"
        else:
            labels[destination] = destination
    return labels


@router.get("/projects/{project_id}/settings/notifications/deliveries/", name="ui_deliveries")
async def deliveries(
    request: Request,
    project: VisibleProject,
    viewer: AdminViewer,
    core: ResentryDep,
    channel_id: Annotated[str | None, Query()] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> Response:
    """The delivery log, newest first, of every destination or of one channel."""
    notifications = core.notifications
    channel = _row_id(channel_id, "channel_id") if channel_id else None
    page = await notifications.list_deliveries(
        project.id, channel_id=channel, cursor=cursor or None, limit=PAGE_SIZE
    )
    channels = await notifications.list_channels(project.id)
    usernames = {user.id: user.username for user in await core.storage.list_users()}
    context = _context(
        project,
        page=page,
        channels=channels,
        filters={"channel_id": str(channel) if channel else None},
        destinations=_destination_labels(page.items, channels, usernames),
        reason_labels=REASON_LABELS,
    )
    return render(request, "deliveries.html", context)


@router.get("/projects/{project_id}/notifications/", name="ui_my_notifications")
async def my_notifications(
    request: Request, viewer: SignedIn, project: VisibleProject, core: ResentryDep
) -> Response:
    """The signed-in user's own notification settings for the project."""
    members = await core.storage.list_members(project.id)
    member = next((found for found in members if found.user_id == viewer.user.id), None)
    context = {
        "project": project,
        "member": member,
        "levels": LEVELS,
        "active": "ui_my_notifications",
    }
    return render(request, "my_notifications.html", context)


@router.post(
    "/projects/{project_id}/members/{user_id}/notifications", name="ui_member_notifications"
)
async def update_member(
    request: Request,
    form: CheckedForm,
    viewer: SignedIn,
    project: VisibleProject,
    user_id: RowId,
    core: ResentryDep,
) -> Response:
    """Change a member's notification settings: a member their own, an admin anyone's. The
    form sends every setting (an unchecked box is off)."""
    await core.notifications.update_member(
        project.id,
        user_id,
        changed_by=viewer.user,
        min_level=cast("Level", form_text(form, "min_level") or ""),  # checked by the service
        notify_new_issues=form_text(form, "notify_new_issues") == "true",
        notify_regressions=form_text(form, "notify_regressions") == "true",
    )
    if user_id == viewer.user.id:
        return redirect_to(request, "ui_my_notifications", project_id=project.id)
    return redirect_to(request, "ui_project_settings", project_id=project.id)
