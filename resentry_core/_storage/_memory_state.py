"""The state of a :class:`~resentry_core._storage._memory.MemoryStorage`: tables and an undo log.

Tables are plain dicts of frozen rows. Every change a write makes goes through a
:class:`Journal`, which remembers how to undo it, so a write that raises half-way is rolled
back to exactly the state it started from.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from resentry_core._models import (
    Attachment,
    CheckIn,
    Event,
    Feedback,
    Issue,
    Level,
    LogEntry,
    Monitor,
    Project,
    ProjectKey,
    StoredEnvelope,
    StoredItem,
    User,
)
from resentry_core._records import DiscardedCount, SessionAggregate, SessionStatus

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRow:
    """A user and their password hash."""

    user: User
    password_hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberRow:
    """A membership; the username is joined in when it is read."""

    project_id: int
    user_id: int
    min_level: Level
    notify_new_issues: bool
    notify_regressions: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemRow:
    """An envelope item and its payload."""

    item: StoredItem
    payload: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRow:
    """An event; ``seq`` orders events recorded at the same ``received_at``."""

    event: Event
    seq: int
    item_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentRow:
    """An attachment; its bytes are the payload of item ``item_id``."""

    attachment: Attachment
    item_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRow:
    """The state of one session, as its winning update left it."""

    project_id: int
    envelope_id: int  # the envelope that last wrote this row
    seq: int
    release: str
    environment: str | None
    status: SessionStatus
    errored: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class AggregateRow:
    """One bucket of a ``sessions`` item."""

    project_id: int
    envelope_id: int
    aggregate: SessionAggregate


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckInRow:
    """A check-in and the envelope that last wrote it."""

    project_id: int
    envelope_id: int
    check_in: CheckIn


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRow:
    """A log record and its envelope."""

    envelope_id: int
    entry: LogEntry


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackRow:
    """A feedback and its envelope."""

    envelope_id: int
    feedback: Feedback


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscardRow:
    """One ``discarded_events`` entry of a client report."""

    project_id: int
    envelope_id: int
    count: DiscardedCount


@dataclass(slots=True)
class State:
    """Every table. Ids come from per-table counters that, like SQL sequences, never go back."""

    projects: dict[int, Project] = field(default_factory=dict)  # stored with keys=()
    keys: dict[int, ProjectKey] = field(default_factory=dict)
    users: dict[int, UserRow] = field(default_factory=dict)
    members: dict[tuple[int, int], MemberRow] = field(default_factory=dict)
    envelopes: dict[int, StoredEnvelope] = field(default_factory=dict)
    items: dict[int, ItemRow] = field(default_factory=dict)
    events: dict[tuple[int, str], EventRow] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    fingerprints: dict[tuple[int, str], int] = field(default_factory=dict)
    attachments: dict[int, AttachmentRow] = field(default_factory=dict)
    sessions: dict[tuple[int, str], SessionRow] = field(default_factory=dict)
    aggregates: dict[int, AggregateRow] = field(default_factory=dict)
    monitors: dict[tuple[int, str], Monitor] = field(default_factory=dict)
    check_ins: dict[int, CheckInRow] = field(default_factory=dict)
    check_in_ids: dict[tuple[int, str], int] = field(default_factory=dict)  # (monitor, id) -> id
    logs: dict[int, LogRow] = field(default_factory=dict)
    feedback: dict[int, FeedbackRow] = field(default_factory=dict)
    discards: dict[int, DiscardRow] = field(default_factory=dict)
    _last_ids: dict[str, int] = field(default_factory=dict)

    def new_id(self, table: str) -> int:
        """The next id of ``table`` (starting at 1)."""
        value = self._last_ids.get(table, 0) + 1
        self._last_ids[table] = value
        return value


class Journal:
    """The undo log of one write."""

    __slots__ = ("_undo",)

    def __init__(self) -> None:
        self._undo: list[Callable[[], object]] = []

    def put(self, table: dict[K, V], key: K, value: V) -> None:
        """Insert or replace ``table[key]``."""
        if key in table:
            self._undo.append(partial(table.__setitem__, key, table[key]))
        else:
            self._undo.append(partial(table.pop, key))
        table[key] = value

    def delete(self, table: dict[K, V], key: K) -> V:
        """Remove ``table[key]`` and return it."""
        value = table.pop(key)
        self._undo.append(partial(table.__setitem__, key, value))
        return value

    def delete_where(self, table: dict[K, V], keep: Callable[[V], bool]) -> list[V]:
        """Remove every row for which ``keep`` is false; return the removed rows."""
        doomed = [key for key, value in table.items() if not keep(value)]
        return [self.delete(table, key) for key in doomed]

    def rollback(self) -> None:
        """Undo every change, newest first."""
        while self._undo:
            self._undo.pop()()


def copy_json(value: object) -> object:
    """A deep copy of a JSON-like value: mappings become dicts, sequences lists."""
    if isinstance(value, Mapping):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [copy_json(item) for item in value]
    return value


def copy_object(value: Mapping[str, object]) -> dict[str, object]:
    """A deep copy of a JSON object."""
    return {key: copy_json(item) for key, item in value.items()}


def copy_optional(value: Mapping[str, object] | None) -> dict[str, object] | None:
    """A deep copy of a JSON object, or None."""
    return None if value is None else copy_object(value)
