"""Read models for people looking at the data (the web UI): search, histograms, tag counts.

:class:`InsightStore` is a Protocol of its own, next to ``Storage``: ``SqlStorage`` implements
it (``_sql_insights``). Rules shared with ``_protocol``: datetimes passed in must be aware,
lists are keyset pages with opaque cursors, unknown projects and issues give empty answers.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from resentry_core._models import Issue, IssueStatus, LogEntry, Page
from resentry_core._storage._protocol import DEFAULT_PAGE_SIZE

HistogramUnit = Literal["hour", "day"]
"""The width of one histogram bucket."""

TAG_SAMPLE_EVENTS = 1000
"""Tag distributions count the issue's latest events, at most this many."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueFilter:
    """Which issues :meth:`InsightStore.search_issues` returns; ``None`` fields do not filter.

    ``environment`` and ``release`` keep issues with at least one event of that value;
    ``text`` keeps issues whose title or culprit contains it, ignoring case.
    """

    status: IssueStatus | None = None
    level: str | None = None
    environment: str | None = None
    release: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TagDistribution:
    """How often each value of each tag occurs in an issue's latest ``sampled`` events.

    ``tags`` maps a tag name to ``(value, count)`` pairs, most frequent first (ties by value).
    ``environment``, ``release`` and ``server_name`` come from the events' own fields when
    no tag of that name is set; ``browser`` and ``os`` from their ``browser``/``os`` tags or
    contexts as the SDK sent them.
    """

    sampled: int
    tags: Mapping[str, Sequence[tuple[str, int]]]


@runtime_checkable
class InsightStore(Protocol):
    """Reads that summarize stored data for a person, cheap enough to run on every page view."""

    async def search_issues(
        self,
        project_id: int,
        where: IssueFilter,
        *,
        sort: str = "last_seen",
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Issue]:
        """The project's matching issues in ``sort`` order, as ``EventStore.list_issues``.

        Raises InvalidInputError for a bad sort, status or cursor.
        """
        ...

    async def search_logs(
        self,
        project_id: int,
        *,
        level: str | None = None,
        text: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[LogEntry]:
        """The project's logs of ``level`` whose body contains ``text`` (ignoring case),
        newest first, as ``EventStore.list_logs``."""
        ...

    async def unresolved_counts(self, project_ids: Sequence[int]) -> dict[int, int]:
        """The number of unresolved issues of each project (0 for one with none)."""
        ...

    async def project_histograms(
        self, project_ids: Sequence[int], *, until: datetime, unit: HistogramUnit, buckets: int
    ) -> dict[int, tuple[int, ...]]:
        """Events received per ``unit`` by each project, the last bucket ending at ``until``.

        Buckets are aligned to whole hours (days) in UTC; the last one is the one holding
        ``until``. Transactions and feedback count too: every stored event.
        """
        ...

    async def issue_histograms(
        self,
        project_id: int,
        issue_ids: Sequence[int],
        *,
        until: datetime,
        unit: HistogramUnit,
        buckets: int,
    ) -> dict[int, tuple[int, ...]]:
        """Events received per ``unit`` by each of the project's issues, bucketed as
        :meth:`project_histograms` (all zeros for an issue of another project)."""
        ...

    async def tag_distribution(
        self, project_id: int, issue_id: int, *, sample: int = TAG_SAMPLE_EVENTS
    ) -> TagDistribution:
        """Tag value counts over the issue's latest ``sample`` received events."""
        ...

    async def event_neighbors(
        self, project_id: int, issue_id: int, event_id: str
    ) -> tuple[str | None, str | None]:
        """The ids of the issue's events received just before and just after ``event_id``.

        ``(older, newer)``; ``None`` at either end. Raises NotFoundError when the event is
        not one of the issue's.
        """
        ...
