"""InsightStore on SQLite and PostgreSQL: issue search, histograms, tag counts, neighbours."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from resentry_core import InsightStore, InvalidInputError, IssueFilter, NotFoundError, SqlStorage
from tests.core.conftest import open_sql_storage
from tests.core.records import (
    T0,
    at,
    error_envelope,
    log_envelope,
    log_record,
    new_id,
    transaction_envelope,
)


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStorage]:
    """SqlStorage on each database, empty and migrated."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'insights.db'}"
    else:
        url = request.getfixturevalue("migrated_postgres_url")
    storage = await open_sql_storage(url)
    yield storage
    await storage.aclose()


async def test_sql_storage_is_an_insight_store(store: SqlStorage) -> None:
    """The UI finds the insight reads on the storage by protocol."""
    assert isinstance(store, InsightStore)


async def test_search_filters_by_text_level_environment_and_release(store: SqlStorage) -> None:
    """Every filter narrows the list; text matches title or culprit, ignoring case and
    treating ``%`` and ``_`` literally."""
    project = await store.create_project("shop", slug="shop")
    await store.record(
        [
            error_envelope(project.id, fingerprint="a", title="KeyError: 'cart'", culprit="cart"),
            error_envelope(
                project.id,
                fingerprint="b",
                title="ValueError: 100% bad",
                culprit="app.checkout in pay",
                level="warning",
                environment="staging",
                release="shop@2",
            ),
            error_envelope(project.id, fingerprint="c", title="TypeError", culprit="x_y"),
        ]
    )

    async def titles(where: IssueFilter) -> list[str]:
        page = await store.search_issues(project.id, where)
        return sorted(issue.title for issue in page.items)

    assert len(await titles(IssueFilter())) == 3
    assert await titles(IssueFilter(text="CART")) == ["KeyError: 'cart'"]
    assert await titles(IssueFilter(text="checkout")) == ["ValueError: 100% bad"]
    assert await titles(IssueFilter(text="0%")) == ["ValueError: 100% bad"]
    assert await titles(IssueFilter(text="%")) == ["ValueError: 100% bad"]
    assert await titles(IssueFilter(text="_")) == ["TypeError"]
    assert await titles(IssueFilter(level="warning")) == ["ValueError: 100% bad"]
    assert await titles(IssueFilter(environment="staging")) == ["ValueError: 100% bad"]
    assert await titles(IssueFilter(release="shop@2", level="error")) == []
    assert len(await titles(IssueFilter(status="unresolved"))) == 3
    assert await titles(IssueFilter(status="resolved")) == []


async def test_search_pages_with_cursors_and_refuses_bad_sorts(store: SqlStorage) -> None:
    """Walking the pages of a sort returns each issue once, in order; a bad sort is refused."""
    project = await store.create_project("shop", slug="shop")
    await store.record(
        [error_envelope(project.id, fingerprint=f"f{n}", received_at=at(n)) for n in range(5)]
    )
    seen: list[int] = []
    cursor = None
    while True:
        page = await store.search_issues(project.id, IssueFilter(), cursor=cursor, limit=2)
        seen.extend(issue.id for issue in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    every = await store.list_issues(project.id, limit=10)
    assert seen == [issue.id for issue in every.items]
    with pytest.raises(InvalidInputError, match="sort"):
        await store.search_issues(project.id, IssueFilter(), sort="title")


async def test_unresolved_counts(store: SqlStorage) -> None:
    """Only unresolved issues count; a project without issues has 0."""
    shop, empty = (
        await store.create_project("shop", slug="shop"),
        await store.create_project("empty", slug="empty"),
    )
    await store.record([error_envelope(shop.id, fingerprint=f"f{n}") for n in range(3)])
    first = (await store.list_issues(shop.id)).items[0]
    await store.set_issue_status(shop.id, first.id, "resolved")
    assert await store.unresolved_counts([shop.id, empty.id]) == {shop.id: 2, empty.id: 0}


async def test_histograms_bucket_by_hour_and_day(store: SqlStorage) -> None:
    """Events land in the bucket of their hour (day); the last bucket holds ``until``;
    events outside the window are not counted."""
    project = await store.create_project("shop", slug="shop")
    other = await store.create_project("other", slug="other")
    await store.record(
        [
            error_envelope(project.id, fingerprint="a", received_at=T0 - timedelta(hours=3)),
            error_envelope(project.id, fingerprint="a", received_at=T0 - timedelta(minutes=1)),
            error_envelope(project.id, fingerprint="b", received_at=T0 + timedelta(minutes=5)),
            error_envelope(project.id, fingerprint="b", received_at=T0 + timedelta(minutes=59)),
            error_envelope(project.id, fingerprint="a", received_at=T0 - timedelta(days=3)),
            error_envelope(project.id, fingerprint="b", received_at=T0 + timedelta(hours=2)),
        ]
    )
    until = T0 + timedelta(minutes=30)
    hourly = await store.project_histograms(
        [project.id, other.id], until=until, unit="hour", buckets=4
    )
    assert hourly == {project.id: (1, 0, 1, 2), other.id: (0, 0, 0, 0)}
    issues = {issue.fingerprint: issue.id for issue in (await store.list_issues(project.id)).items}
    daily = await store.issue_histograms(
        project.id, [issues["a"], issues["b"]], until=until, unit="day", buckets=4
    )
    assert daily == {issues["a"]: (1, 0, 0, 2), issues["b"]: (0, 0, 0, 3)}
    elsewhere = await store.issue_histograms(
        other.id, [issues["a"]], until=until, unit="day", buckets=2
    )
    assert elsewhere == {issues["a"]: (0, 0)}  # not an issue of that project


async def test_tag_distribution_counts_latest_events(store: SqlStorage) -> None:
    """Tags, environment and release are counted over the latest ``sample`` events."""
    project = await store.create_project("shop", slug="shop")
    await store.record(
        [
            error_envelope(project.id, received_at=at(1), tags={"browser": "Firefox 120"}),
            error_envelope(
                project.id, received_at=at(2), tags={"browser": "Chrome 119"}, release="a@2"
            ),
            error_envelope(
                project.id,
                received_at=at(3),
                tags={"browser": "Chrome 119", "environment": "canary"},
            ),
        ]
    )
    issue = (await store.list_issues(project.id)).items[0]
    every = await store.tag_distribution(project.id, issue.id)
    assert every.sampled == 3
    assert every.tags["browser"] == [("Chrome 119", 2), ("Firefox 120", 1)]
    assert every.tags["environment"] == [("canary", 1), ("production", 2)][::-1]
    assert every.tags["release"] == [("app@1.0.0", 2), ("a@2", 1)]
    latest = await store.tag_distribution(project.id, issue.id, sample=1)
    assert latest.sampled == 1
    assert latest.tags["browser"] == [("Chrome 119", 1)]
    assert (await store.tag_distribution(project.id, issue.id + 1)).sampled == 0


async def test_event_neighbors(store: SqlStorage) -> None:
    """Older and newer events of the same issue, by received time; another issue's event or
    an unknown id is refused."""
    project = await store.create_project("shop", slug="shop")
    ids = [new_id() for _ in range(3)]
    await store.record(
        [
            error_envelope(project.id, event_id=event_id, received_at=at(n))
            for n, event_id in enumerate(ids)
        ]
        + [error_envelope(project.id, fingerprint="other", received_at=at(1.5))]
    )
    issue = next(
        issue for issue in (await store.list_issues(project.id)).items if issue.fingerprint == "fp1"
    )
    assert await store.event_neighbors(project.id, issue.id, ids[1]) == (ids[0], ids[2])
    assert await store.event_neighbors(project.id, issue.id, ids[0]) == (None, ids[1])
    assert await store.event_neighbors(project.id, issue.id, ids[2]) == (ids[1], None)
    with pytest.raises(NotFoundError):
        await store.event_neighbors(project.id, issue.id, new_id())


async def test_search_logs_by_level_and_text(store: SqlStorage) -> None:
    """Logs filter by level and by text in the body, ignoring case, ``%`` taken literally."""
    project = await store.create_project("shop", slug="shop")
    await store.record(
        [
            log_envelope(
                project.id,
                log_record(body="Payment FAILED for 5%", level="error"),
                log_record(body="payment ok", level="info"),
                log_record(body="cache warm", level="info"),
            )
        ]
    )

    async def bodies(level: str | None = None, text: str | None = None) -> list[str]:
        page = await store.search_logs(project.id, level=level, text=text)
        return sorted(entry.body for entry in page.items)

    assert len(await bodies()) == 3
    assert await bodies(text="payment") == ["Payment FAILED for 5%", "payment ok"]
    assert await bodies(text="payment", level="info") == ["payment ok"]
    assert await bodies(text="5%") == ["Payment FAILED for 5%"]
    assert await bodies(text="%") == ["Payment FAILED for 5%"]


async def test_histograms_follow_new_events_and_pruning(store: SqlStorage) -> None:
    """New events add to their bucket at once; pruned events leave theirs. Transactions
    count for the project, not for any issue."""
    project = await store.create_project("shop", slug="shop")
    now = datetime.now(UTC)
    two_days_ago = now - timedelta(days=2)
    await store.record(
        [error_envelope(project.id, received_at=two_days_ago) for _ in range(2)]
        + [error_envelope(project.id, received_at=now)]
    )
    issue = (await store.list_issues(project.id)).items[0]

    async def daily() -> tuple[int, ...]:
        counts = await store.issue_histograms(
            project.id, [issue.id], until=now, unit="day", buckets=3
        )
        return counts[issue.id]

    async def hourly() -> tuple[int, ...]:
        counts = await store.project_histograms([project.id], until=now, unit="hour", buckets=1)
        return counts[project.id]

    assert await daily() == (2, 0, 1)
    await store.record([error_envelope(project.id, received_at=now)])
    await store.record([transaction_envelope(project.id, received_at=now)])
    assert await daily() == (2, 0, 2)
    assert await hourly() == (3,)
    assert await store.prune(project.id, now - timedelta(days=1)) == 2
    assert await daily() == (0, 0, 2)
