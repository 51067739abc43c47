"""The notifications service: each project's channels, rules, test messages, delivery log and
members' notification settings, checked here before storage writes them."""

import secrets
from functools import partial
from typing import Final, Protocol, TypeVar

import anyio

from resentry_core._errors import InvalidInputError, NotFoundError, PermissionDeniedError
from resentry_core._models import LEVELS, Level, Member, Page, User
from resentry_core._notify._models import (
    CHANNEL_KINDS,
    TRIGGERS,
    WEBHOOK_FLAVORS,
    Channel,
    ChannelKind,
    Delivery,
    Rule,
    Trigger,
)
from resentry_core._notify._store import NotificationStore
from resentry_core._notify._urlguard import check_webhook_url
from resentry_core._notify._webhook import WebhookFlavor
from resentry_core._rules import check_email, check_text
from resentry_core._storage._protocol import DEFAULT_PAGE_SIZE, ProjectStore
from resentry_core._storage._values import UNSET, Unset

SECRET_BYTES: Final = 32
NO_SQL: Final = "notifications need a SQL database (SQLite or PostgreSQL)"
_Name = TypeVar("_Name", bound=str)


class NotificationServiceStore(NotificationStore, ProjectStore, Protocol):
    """The storage :class:`Notifications` needs (``SqlStorage``)."""


class Notifications:
    """Manages what each project's notifications go to, checking every change first.

    Channel targets are checked for their kind: a webhook URL by the address guard
    (:func:`~resentry_core.check_webhook_url`; private addresses only with
    ``allow_private``), e-mail addresses for their form, and no target may be blank. A rule
    names a channel of its own project, a known trigger and a known level.

    Args:
        store: where notifications live; ``None`` for a storage that keeps none, on which
            every method raises InvalidInputError.
        allow_private: accept webhook URLs on loopback, link-local and private addresses.
    """

    def __init__(self, store: NotificationServiceStore | None, *, allow_private: bool) -> None:
        self._maybe_store = store
        self._allow_private = allow_private

    @property
    def _store(self) -> NotificationServiceStore:
        if self._maybe_store is None:
            raise InvalidInputError(NO_SQL)
        return self._maybe_store

    async def list_channels(self, project_id: int) -> list[Channel]:
        """The project's channels, by id. Raises NotFoundError."""
        return await self._store.list_channels(project_id)

    async def get_channel(self, project_id: int, channel_id: int) -> Channel:
        """One channel of the project. Raises NotFoundError."""
        return await self._store.get_channel(project_id, channel_id)

    async def create_channel(
        self,
        project_id: int,
        *,
        name: str,
        kind: ChannelKind,
        target: str,
        flavor: WebhookFlavor | None = None,
    ) -> tuple[Channel, str | None]:
        """Create a channel; answer it with its secret (webhooks: 64 hex, which signs their
        requests and is shown only now; ``None`` for the other kinds).

        ``target``: a Telegram chat id, comma-separated e-mail addresses, or a webhook's
        ``http(s)`` URL. ``flavor`` (webhooks only; default ``resentry``): the payload format.

        Raises:
            NotFoundError: no such project.
            InvalidInputError: a blank name or target, an unknown kind or flavor, a flavor on
                a non-webhook, a malformed e-mail address, or a refused webhook URL.
        """
        store = self._store
        await store.get_project(project_id)
        check_text(name, "a channel name")
        kind = _one_of(kind, CHANNEL_KINDS, "channel kind")
        if kind == "webhook":
            flavor = _one_of(flavor or "resentry", WEBHOOK_FLAVORS, "flavor")
        elif flavor is not None:
            raise InvalidInputError("only webhook channels have a flavor")
        secret = secrets.token_hex(SECRET_BYTES) if kind == "webhook" else None
        channel = await store.create_channel(
            project_id,
            name=name.strip(),
            kind=kind,
            target=await self._checked_target(kind, target),
            flavor=flavor,
            secret=secret,
        )
        return channel, secret

    async def update_channel(
        self,
        project_id: int,
        channel_id: int,
        *,
        name: str | Unset = UNSET,
        target: str | Unset = UNSET,
        flavor: WebhookFlavor | Unset = UNSET,
    ) -> Channel:
        """Change the fields given (:data:`UNSET`: unchanged); the kind and secret never change.

        Raises:
            NotFoundError: no such channel in the project.
            InvalidInputError: as for :meth:`create_channel`.
        """
        store = self._store
        channel = await store.get_channel(project_id, channel_id)
        if name is not UNSET:
            check_text(name, "a channel name")
            name = name.strip()
        if target is not UNSET:
            target = await self._checked_target(channel.kind, target)
        if flavor is not UNSET and (channel.kind != "webhook" or flavor not in WEBHOOK_FLAVORS):
            raise InvalidInputError(f"a flavor is one of {WEBHOOK_FLAVORS}, for webhooks only")
        return await store.update_channel(
            project_id, channel_id, name=name, target=target, flavor=flavor
        )

    async def delete_channel(self, project_id: int, channel_id: int) -> None:
        """Delete a channel with its rules and its delivery log. Raises NotFoundError."""
        await self._store.delete_channel(project_id, channel_id)

    async def test_channel(self, project_id: int, channel_id: int) -> Delivery:
        """Queue a test message to the channel; the worker sends it, and its delivery (this
        one, ``pending`` now) says how it went. Raises NotFoundError."""
        return await self._store.enqueue_test(project_id, channel_id)

    async def list_rules(self, project_id: int) -> list[Rule]:
        """The project's rules, by id. Raises NotFoundError."""
        return await self._store.list_rules(project_id)

    async def get_rule(self, project_id: int, rule_id: int) -> Rule:
        """One rule of the project. Raises NotFoundError."""
        return await self._store.get_rule(project_id, rule_id)

    async def create_rule(
        self,
        project_id: int,
        *,
        channel_id: int,
        trigger: Trigger,
        min_level: Level = "error",
        environment: str | None = None,
    ) -> Rule:
        """Tell a channel about ``trigger`` at ``min_level`` or above, in ``environment`` only
        (``None`` or blank: any). A channel with no rule gets new issues, regressions
        (``error`` and above) and monitor alerts; once it has rules, only what they name.

        Raises:
            NotFoundError: no such channel in the project.
            InvalidInputError: an unknown trigger or level.
        """
        store = self._store
        await store.get_channel(project_id, channel_id)
        return await store.create_rule(
            project_id,
            channel_id=channel_id,
            trigger=_checked_trigger(trigger),
            min_level=_checked_level(min_level),
            environment=_environment(environment),
        )

    async def update_rule(
        self,
        project_id: int,
        rule_id: int,
        *,
        channel_id: int | Unset = UNSET,
        trigger: Trigger | Unset = UNSET,
        min_level: Level | Unset = UNSET,
        environment: str | Unset | None = UNSET,
    ) -> Rule:
        """Change the fields given (:data:`UNSET`: unchanged; ``environment=None``: any).

        Raises:
            NotFoundError: no such rule in the project, or no such channel in it.
            InvalidInputError: nothing to change, or as for :meth:`create_rule`.
        """
        store = self._store
        await store.get_rule(project_id, rule_id)
        given = (channel_id, trigger, min_level, environment)
        if all(value is UNSET for value in given):
            raise InvalidInputError(
                "send at least one of channel_id, trigger, min_level, environment"
            )
        if channel_id is not UNSET:
            await store.get_channel(project_id, channel_id)
        return await store.update_rule(
            project_id,
            rule_id,
            channel_id=channel_id,
            trigger=UNSET if trigger is UNSET else _checked_trigger(trigger),
            min_level=UNSET if min_level is UNSET else _checked_level(min_level),
            environment=UNSET if environment is UNSET else _environment(environment),
        )

    async def delete_rule(self, project_id: int, rule_id: int) -> None:
        """Delete a rule. Raises NotFoundError."""
        await self._store.delete_rule(project_id, rule_id)

    async def list_deliveries(
        self,
        project_id: int,
        *,
        channel_id: int | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Delivery]:
        """The delivery log (of one channel, or all), newest first.

        Raises:
            NotFoundError: no such project.
            InvalidInputError: a malformed cursor or limit.
        """
        return await self._store.list_deliveries(
            project_id, channel_id=channel_id, cursor=cursor, limit=limit
        )

    async def update_member(
        self,
        project_id: int,
        user_id: int,
        *,
        changed_by: User,
        min_level: Level | Unset = UNSET,
        notify_new_issues: bool | Unset = UNSET,
        notify_regressions: bool | Unset = UNSET,
    ) -> Member:
        """Change a member's own notification settings (:data:`UNSET`: unchanged): the member
        changes their own, an admin anyone's.

        Raises:
            PermissionDeniedError: ``changed_by`` is neither the member nor an admin.
            NotFoundError: the user is not a member of the project (or no such project).
            InvalidInputError: an unknown level.
        """
        if user_id != changed_by.id and not changed_by.is_admin:
            raise PermissionDeniedError("only an admin may change another member's settings")
        store = self._store
        members = {member.user_id: member for member in await store.list_members(project_id)}
        member = members.get(user_id)
        if member is None:
            raise NotFoundError(f"user {user_id} is not a member of project {project_id}")
        return await store.add_member(
            project_id,
            user_id,
            min_level=member.min_level if min_level is UNSET else _checked_level(min_level),
            notify_new_issues=(
                member.notify_new_issues if notify_new_issues is UNSET else notify_new_issues
            ),
            notify_regressions=(
                member.notify_regressions if notify_regressions is UNSET else notify_regressions
            ),
        )

    async def _checked_target(self, kind: ChannelKind, target: str) -> str:
        """A channel's target, checked and normalized for its kind. Raises InvalidInputError."""
        target = target.strip()
        check_text(target, "a channel target")
        if kind == "webhook":
            check = partial(check_webhook_url, target, allow_private=self._allow_private)
            return await anyio.to_thread.run_sync(check)
        if kind == "email":
            addresses = [check_email(part) for part in target.split(",")]
            target = ",".join(address for address in addresses if address)
            check_text(target, "a channel target")
        return target


def _one_of(value: str, known: tuple[_Name, ...], what: str) -> _Name:
    """``value`` as one of ``known`` (``what`` they are, in words). Raises InvalidInputError."""
    for name in known:
        if value == name:
            return name
    raise InvalidInputError(f"unknown {what} {value!r}; use one of {known}")


def _checked_trigger(trigger: str) -> Trigger:
    return _one_of(trigger, TRIGGERS, "trigger")


def _checked_level(level: str) -> Level:
    return _one_of(level, LEVELS, "level")


def _environment(environment: str | None) -> str | None:
    """An environment filter: stripped, or ``None`` (any) for none or a blank one."""
    stripped = environment.strip() if environment else ""
    return stripped or None
