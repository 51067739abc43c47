"""Frozen models of every management API answer, and the checked parser that builds them.

Each model mirrors a shape of ``docs/routes.md``. :func:`parse` checks every field's type
against the model's annotations, so a body that is not what the API documents raises
:class:`ValueError` (turned into ``APIResponseValidationError``) at once, never an
``AttributeError`` later. Fields the server adds beyond these are ignored, and fields with a
default may be absent (servers from before they were added).
"""

import dataclasses
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar, Union

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    """``GET /health/``: the server is up and its database answers."""

    status: str
    database: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Tokens:
    """An access token (sent as ``Authorization: Bearer``) and the refresh token that renews it."""

    access_token: str
    refresh_token: str
    token_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """A user; passwords are never part of an answer."""

    id: int
    username: str
    is_admin: bool
    is_active: bool
    telegram_chat_id: str | None
    created_at: datetime
    email: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectKey:
    """A project key and the DSN an SDK is configured with."""

    id: int
    public_key: str
    label: str
    is_active: bool
    dsn: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """A project with its keys and their DSNs."""

    id: int
    name: str
    slug: str
    created_at: datetime
    keys: list[ProjectKey]
    allowed_origins: list[str]
    rate_limit_per_minute: int | None
    retention_days: int | None

    @property
    def dsns(self) -> list[str]:
        """The DSNs of the active keys."""
        return [key.dsn for key in self.keys if key.is_active]


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """A user's membership of a project, with their notification settings."""

    project_id: int
    user_id: int
    username: str
    min_level: str
    notify_new_issues: bool
    notify_regressions: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """A stored event, normalized; the transaction fields are set for transactions only."""

    event_id: str
    project_id: int
    issue_id: int | None
    type: str
    level: str
    timestamp: datetime
    received_at: datetime
    title: str
    culprit: str
    message: str
    platform: str
    release: str | None
    environment: str | None
    tags: dict[str, str]
    user: dict[str, Any] | None
    sdk: dict[str, Any] | None
    transaction: str | None = None
    op: str | None = None
    duration_ms: float | None = None
    status: str | None = None
    span_count: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """An attachment of an event's envelope; download it with ``client.attachments.download``."""

    id: int
    filename: str
    content_type: str
    attachment_type: str
    size: int
    download_url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EventDetail(Event):
    """An event with its payload as the SDK sent it, its attachments and its envelope's URL."""

    payload: Any
    attachments: list[Attachment]
    envelope_url: str

    @property
    def envelope_id(self) -> int:
        """The id of the envelope the event came in (the last segment of ``envelope_url``)."""
        return int(self.envelope_url.rstrip("/").rsplit("/", 1)[1])


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """Events grouped under one fingerprint."""

    id: int
    project_id: int
    title: str
    culprit: str
    level: str
    status: str
    first_seen: datetime
    last_seen: datetime
    times_seen: int
    last_event_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseHealth:
    """Session counts of one release and environment."""

    release: str
    environment: str | None
    started: int
    errored: int
    crashed: int
    abnormal: int
    exited: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Monitor:
    """A cron monitor."""

    id: int
    slug: str
    config: dict[str, Any] | None
    created_at: datetime
    last_check_in: datetime | None
    last_status: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckIn:
    """One check-in of a cron monitor."""

    id: int
    check_in_id: str
    status: str
    duration: float | None
    environment: str | None
    release: str | None
    timestamp: datetime
    trace_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRecord:
    """A log record an SDK sent."""

    id: int
    timestamp: datetime
    level: str
    body: str
    attributes: dict[str, Any]
    trace_id: str | None
    span_id: str | None
    severity_number: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Feedback:
    """User feedback, with the event it is about when the SDK said so."""

    id: int
    event_id: str
    associated_event_id: str | None
    name: str | None
    email: str | None
    message: str
    url: str | None
    source: str
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscardCounter:
    """How many items of a category SDKs reported discarding for a reason (client reports)."""

    reason: str
    category: str
    quantity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredItem:
    """A stored envelope item of any type; download its payload with ``client.items.download``."""

    id: int
    envelope_id: int
    position: int
    type: str
    headers: dict[str, Any]
    size: int
    received_at: datetime
    payload_url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    """A project's notification channel: ``kind`` ``telegram`` (``target`` a chat id),
    ``email`` (comma-separated addresses) or ``webhook`` (an ``http(s)`` URL, with a
    ``flavor``: ``resentry``, ``slack`` or ``discord``)."""

    id: int
    project_id: int
    name: str
    kind: str
    target: str
    flavor: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedChannel(Channel):
    """A channel just created: a webhook's ``secret`` (it signs the webhook's requests) is in
    this answer only, never shown again; ``None`` for the other kinds."""

    secret: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """Tell a channel about ``trigger`` (``new_issue``, ``regression``, ``level``,
    ``monitor_missed``, ``monitor_failed``, ``monitor_timeout``) at ``min_level`` or above,
    in ``environment`` only when set."""

    id: int
    project_id: int
    channel_id: int
    trigger: str
    min_level: str
    environment: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One notification to one destination and how its delivery went: ``status``
    ``pending``, ``retrying``, ``delivered`` or ``failed``."""

    id: int
    project_id: int
    destination: str
    channel_id: int | None
    user_id: int | None
    reason: str
    issue_id: int | None
    monitor_id: int | None
    event_id: str | None
    count: int
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    """One page of a list; ``next_cursor`` fetches the next (None: this is the last)."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Download:
    """A finished download: where it went, the server's file name, type and the bytes written."""

    filename: str
    content_type: str
    size: int
    path: str | None


def parse(model: type[T], data: object) -> T:
    """Build ``model`` from decoded JSON, checking every field.

    Raises:
        ValueError: a field is missing or of the wrong type (the message names it).
    """
    return typing.cast(T, _converter(typing.cast(Any, model))(data, "body"))


def parse_page(model: type[T], data: object) -> Page[T]:
    """Build a :class:`Page` of ``model`` from decoded JSON, checking every field."""
    if not isinstance(data, dict):
        raise ValueError(f"body: expected a page object, got {_kind(data)}")
    next_cursor = _converter(str | None)(_field(data, "next_cursor"), ("body", "next_cursor"))
    items_of = _converter(list[model])  # type: ignore[valid-type]
    items = items_of(_field(data, "items"), ("body", "items"))
    return Page(items=items, next_cursor=next_cursor)


# A converter checks a decoded JSON value and converts it. One is built per type, once, from
# the annotations, so parsing does no introspection. ``where`` is the value's place, as nested
# (parent, key) pairs that are only turned into text ("body.items[0].id") for a message.
Where = Any
Converter = typing.Callable[[Any, Where], Any]


def _path(where: Where) -> str:
    if not isinstance(where, tuple):
        return str(where)
    parent, key = where
    return f"{_path(parent)}[{key}]" if isinstance(key, int) else f"{_path(parent)}.{key}"


def _field(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise ValueError(f"body.{name}: missing")
    return data[name]


@cache
def _converter(kind: Any) -> Converter:
    origin = typing.get_origin(kind)
    if kind is Any:
        return lambda value, where: value
    if origin in (Union, types.UnionType):
        return _union(kind)
    if origin is list:
        (item_kind,) = typing.get_args(kind)
        item = _converter(item_kind)

        def convert_list(value: Any, where: Where) -> Any:
            if not isinstance(value, list):
                raise ValueError(f"{_path(where)}: expected a list, got {_kind(value)}")
            return [item(entry, (where, i)) for i, entry in enumerate(value)]

        return convert_list
    if origin is dict:
        value_kind = typing.get_args(kind)[1]
        entry = _converter(value_kind)

        def convert_dict(value: Any, where: Where) -> Any:
            if not isinstance(value, dict):
                raise ValueError(f"{_path(where)}: expected an object, got {_kind(value)}")
            if value_kind is Any:  # JSON objects have string keys: nothing more to check
                return value
            return {k: entry(v, (where, k)) for k, v in value.items()}

        return convert_dict
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _dataclass(kind)
    if kind is datetime:
        return _datetime
    return _scalar(kind)


def _union(kind: Any) -> Converter:
    options = typing.get_args(kind)
    nullable = type(None) in options
    converters = [_converter(option) for option in options if option is not type(None)]
    if nullable and len(converters) == 1:
        (only,) = converters

        def convert_optional(value: Any, where: Where) -> Any:
            return None if value is None else only(value, where)

        return convert_optional

    def convert(value: Any, where: Where) -> Any:
        if value is None and nullable:
            return None
        errors = []
        for option in converters:
            try:
                return option(value, where)
            except ValueError as exc:
                errors.append(str(exc))
        if len(errors) == 1:
            raise ValueError(errors[0])
        raise ValueError(f"{_path(where)}: unexpected {_kind(value)}")

    return convert


def _dataclass(model: type) -> Converter:
    hints = typing.get_type_hints(model)
    fields = [
        (
            field.name,
            _converter(hints[field.name]),
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING,
        )
        for field in dataclasses.fields(model)
    ]

    def convert(value: Any, where: Where) -> Any:
        if not isinstance(value, dict):
            raise ValueError(f"{_path(where)}: expected an object, got {_kind(value)}")
        values = {}
        for name, convert_field, required in fields:
            if name in value:
                values[name] = convert_field(value[name], (where, name))
            elif required:
                raise ValueError(f"{_path((where, name))}: missing")
        return model(**values)

    return convert


def _datetime(value: Any, where: Where) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed
    raise ValueError(
        f"{_path(where)}: expected an ISO 8601 timestamp with an offset, got {value!r}"
    )


def _scalar(kind: type) -> Converter:
    # JSON decodes to exact types: a bool is never accepted as an int, an int is a float.
    accepted = (int, float) if kind is float else (kind,)

    def convert(value: Any, where: Where) -> Any:
        if type(value) in accepted:
            return float(value) if kind is float else value
        raise ValueError(f"{_path(where)}: expected {kind.__name__}, got {_kind(value)}")

    return convert


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", type(None): "null"}.get(
        type(value), type(value).__name__
    )
