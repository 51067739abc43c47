"""Pydantic request and response models of the management API, with ``from_core()`` converters.

Pydantic lives only here, at the HTTP edge; the core hands out frozen dataclasses. Every
timestamp goes out as ISO 8601 with an explicit ``+00:00`` offset. The event-side models are
in ``_schemas_events.py``.
"""

import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, Self, TypedDict, TypeVar, cast

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from resentry_core import (
    MAX_USERNAME_LENGTH,
    Dsn,
    IssueStatus,
    Level,
    Page,
    Project,
    ProjectKey,
)

C = TypeVar("C")
M = TypeVar("M", bound=BaseModel)

MAX_ROW_ID = 2**63 - 1  # ids are 64-bit integers in every backend
MAX_NAME_CHARS = 200
MAX_TEXT_CHARS = 2000
MAX_ORIGINS = 100
MAX_TOKEN_CHARS = 4096


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC equivalent
        raise ValueError("the datetime is out of range in UTC") from None


UtcDatetime = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(datetime.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A datetime read as UTC when naive, converted to UTC, and written with a ``+00:00`` offset."""

_DIGITS = re.compile(r"[0-9]{1,19}")


def _digits_only(value: object) -> object:
    # Pydantic's lax int would take "1.0", "1e0" or " 1 " from a path: ids are digits only.
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError("an id is a positive integer, in digits only")
    return value


RowId = Annotated[int, BeforeValidator(_digits_only), Path(ge=1, le=MAX_ROW_ID)]
"""A numeric id in a path: digits only, 1 to 2**63-1; anything else answers 422."""

Username = Annotated[str, Field(min_length=1, max_length=MAX_USERNAME_LENGTH)]
Password = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
Email = Annotated[str, Field(max_length=MAX_NAME_CHARS)]
"""An e-mail address (checked by the core: ``name@domain.tld``, or ``""`` for none)."""


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _sent(
    model: BaseModel, *, nullable: AbstractSet[str], exclude: AbstractSet[str] = frozenset()
) -> dict[str, Any]:
    # The fields present in the body; a JSON null counts only for fields that may be null.
    return {
        name: value
        for name in model.model_fields_set - exclude
        if (value := getattr(model, name)) is not None or name in nullable
    }


class FromCore(BaseModel):
    """A response model read from the same-named attributes of a core value."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def from_core(cls, value: object) -> Self:
        """Convert a core value."""
        return cls.model_validate(value)


class ErrorOut(BaseModel):
    """The body of every error answer."""

    detail: str


class ValidationErrorOut(BaseModel):
    """A 422 body: FastAPI's list of validation errors, or a core ``InvalidInputError`` text."""

    detail: str | list[dict[str, Any]]


class PageOut(BaseModel, Generic[M]):
    """One page of a list; pass ``next_cursor`` as ``?cursor=`` for the next (``null``: the end)."""

    items: list[M]
    next_cursor: str | None

    @classmethod
    def of(cls, page: Page[C], convert: Callable[[C], M]) -> "PageOut[M]":
        """Convert a core page item by item."""
        return PageOut(items=[convert(item) for item in page.items], next_cursor=page.next_cursor)


# --- auth ---------------------------------------------------------------------------------------


class LoginIn(_In):
    """Credentials for ``POST /api/v1/auth/login`` (as JSON, or as an OAuth2 password form)."""

    username: Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
    password: Annotated[str, Field(max_length=MAX_TEXT_CHARS)]


class RefreshIn(_In):
    """A refresh token to exchange for a new token pair."""

    refresh_token: Annotated[str, Field(max_length=MAX_TOKEN_CHARS)]


class TokenOut(FromCore):
    """An access token (for ``Authorization: Bearer``) and the refresh token that renews it."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type


# --- users --------------------------------------------------------------------------------------


class UserOut(FromCore):
    """A user; the password hash is never part of an answer."""

    id: int
    username: str
    is_admin: bool
    is_active: bool
    telegram_chat_id: str | None
    email: str | None
    created_at: UtcDatetime


class UserCreate(_In):
    """A new user (admins only)."""

    username: Username
    password: Password
    is_admin: bool = False
    telegram_chat_id: Annotated[str | None, Field(max_length=MAX_NAME_CHARS)] = None
    email: Email | None = None


class UserChanges(TypedDict, total=False):
    """The changes of a :class:`UserUpdate`, as keyword arguments of ``Accounts.update_user``."""

    username: str
    password: str
    is_admin: bool
    is_active: bool
    telegram_chat_id: str | None
    email: str | None


class UserUpdate(_In):
    """Fields to change; absent fields stay as they are.

    ``telegram_chat_id`` or ``email`` ``null`` (or ``""``) clears it; ``null`` in the other fields
    changes nothing. Only admins may change ``is_admin`` and ``is_active``. Users changing
    their own ``password`` (admins too) must send their ``current_password``.
    """

    username: Username | None = None
    password: Password | None = None
    current_password: Annotated[str | None, Field(max_length=MAX_TEXT_CHARS)] = None
    is_admin: bool | None = None
    is_active: bool | None = None
    telegram_chat_id: Annotated[str | None, Field(max_length=MAX_NAME_CHARS)] = None
    email: Email | None = None

    def changes(self) -> UserChanges:
        """The fields sent, without ``current_password``."""
        sent = _sent(self, nullable={"telegram_chat_id", "email"}, exclude={"current_password"})
        return cast(UserChanges, sent)


# --- projects, keys, members --------------------------------------------------------------------


class KeyOut(BaseModel):
    """A project key and the DSN an SDK is configured with."""

    id: int
    public_key: str
    label: str
    is_active: bool
    dsn: str
    created_at: UtcDatetime

    @classmethod
    def from_core(cls, key: ProjectKey, base_url: str) -> Self:
        """Convert a core key; ``base_url`` is the server's public URL (mount prefix included)."""
        return cls(
            id=key.id,
            public_key=key.public_key,
            label=key.label,
            is_active=key.is_active,
            dsn=str(Dsn.build(base_url, key.public_key, key.project_id)),
            created_at=key.created_at,
        )


class ProjectOut(BaseModel):
    """A project with its keys and their DSNs."""

    id: int
    name: str
    slug: str
    created_at: UtcDatetime
    keys: list[KeyOut]
    allowed_origins: list[str]
    rate_limit_per_minute: int | None
    retention_days: int | None

    @classmethod
    def from_core(cls, project: Project, base_url: str) -> Self:
        """Convert a core project; ``base_url`` is the server's public URL."""
        return cls(
            id=project.id,
            name=project.name,
            slug=project.slug,
            created_at=project.created_at,
            keys=[KeyOut.from_core(key, base_url) for key in project.keys],
            allowed_origins=list(project.allowed_origins),
            rate_limit_per_minute=project.rate_limit_per_minute,
            retention_days=project.retention_days,
        )


Origins = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]],
    Field(max_length=MAX_ORIGINS),
]
PositiveInt = Annotated[int, Field(ge=1, le=2**31 - 1)]


class ProjectCreate(_In):
    """A new project; it gets one active key. The slug defaults to the slugified name."""

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]
    slug: Annotated[str | None, Field(min_length=1, max_length=MAX_NAME_CHARS)] = None
    allowed_origins: Origins = Field(default_factory=list)
    rate_limit_per_minute: PositiveInt | None = None
    retention_days: PositiveInt | None = None


class ProjectChanges(TypedDict, total=False):
    """The changes of a :class:`ProjectUpdate`, as keyword arguments of ``update_project``."""

    name: str
    allowed_origins: list[str]
    rate_limit_per_minute: int | None
    retention_days: int | None


class ProjectUpdate(_In):
    """Fields to change; absent fields stay as they are (the slug never changes).

    ``null`` clears ``rate_limit_per_minute`` (no limit) and ``retention_days`` (keep
    forever); in ``name`` and ``allowed_origins`` it changes nothing.
    """

    name: Annotated[str | None, Field(min_length=1, max_length=MAX_NAME_CHARS)] = None
    allowed_origins: Origins | None = None
    rate_limit_per_minute: PositiveInt | None = None
    retention_days: PositiveInt | None = None

    def changes(self) -> ProjectChanges:
        """The fields sent."""
        sent = _sent(self, nullable={"rate_limit_per_minute", "retention_days"})
        return cast(ProjectChanges, sent)


class KeyCreate(_In):
    """A new key of a project."""

    label: Annotated[str, Field(max_length=MAX_NAME_CHARS)] = ""


class MemberOut(FromCore):
    """A user's membership of a project, with their notification settings."""

    project_id: int
    user_id: int
    username: str
    min_level: Level
    notify_new_issues: bool
    notify_regressions: bool


class MemberAdd(_In):
    """Add (or update) a member, named by exactly one of ``user_id`` and ``username``."""

    user_id: Annotated[int | None, Field(ge=1, le=MAX_ROW_ID)] = None
    username: Username | None = None
    min_level: Level = "error"
    notify_new_issues: bool = True
    notify_regressions: bool = True

    @model_validator(mode="after")
    def _one_user(self) -> Self:
        if (self.user_id is None) == (self.username is None):
            raise ValueError("give exactly one of user_id and username")
        return self


# --- issues -------------------------------------------------------------------------------------


class IssueOut(FromCore):
    """Events grouped under one fingerprint."""

    id: int
    project_id: int
    title: str
    culprit: str
    level: str
    status: IssueStatus
    first_seen: UtcDatetime
    last_seen: UtcDatetime
    times_seen: int
    last_event_id: str | None


class IssueStatusIn(_In):
    """The new status: ``resolved`` (resolve), ``ignored`` (ignore) or ``unresolved`` (reopen)."""

    status: IssueStatus
