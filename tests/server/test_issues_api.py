"""``/api/v1/projects/{project_id}/issues`` over HTTP: grouping, sorting, status changes."""

from typing import Any

import httpx
import pytest

from resentry_core._models import Project
from resentry_core._resentry import Resentry
from tests.server.api_helpers import Headers, add_user, get_json, send_error, walk

ISSUE_FIELDS = {
    "id",
    "project_id",
    "title",
    "culprit",
    "level",
    "status",
    "first_seen",
    "last_seen",
    "times_seen",
    "last_event_id",
}


def issues_url(project: Project, rest: str = "") -> str:
    """The project's issue list, or ``rest`` below it."""
    return f"/api/v1/projects/{project.id}/issues/{rest}"


async def issue_of(
    client: httpx.AsyncClient, headers: Headers, project: Project, event_id: str
) -> int:
    """The issue id an event was grouped into."""
    event = await get_json(client, f"/api/v1/projects/{project.id}/events/{event_id}", headers)
    issue_id: int = event["issue_id"]
    return issue_id


async def test_events_with_one_fingerprint_make_one_issue(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """Two events of the same error are one issue seen twice; its detail and events agree."""
    first = await send_error(client, project)
    last = await send_error(client, project, level="fatal")
    page = await get_json(client, issues_url(project), auth_headers)
    [issue] = page["items"]
    assert set(issue) == ISSUE_FIELDS
    assert (issue["project_id"], issue["status"], issue["times_seen"]) == (
        project.id,
        "unresolved",
        2,
    )
    assert issue["title"].startswith("ValueError")
    assert issue["culprit"]
    assert (issue["level"], issue["last_event_id"]) == ("fatal", last)
    assert issue["first_seen"] <= issue["last_seen"]
    assert issue["first_seen"].endswith("+00:00")
    assert await get_json(client, issues_url(project, str(issue["id"])), auth_headers) == issue
    events = await get_json(client, issues_url(project, f"{issue['id']}/events/"), auth_headers)
    assert [e["event_id"] for e in events["items"]] == [last, first]
    assert {e["issue_id"] for e in events["items"]} == {issue["id"]}


async def test_status_changes_resolve_ignore_and_reopen(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """PATCH and PUT set the status; lists filter by it; a new event reopens a resolved issue."""
    issue_id = await issue_of(client, auth_headers, project, await send_error(client, project))
    url = issues_url(project, str(issue_id))
    for method, status in [("PATCH", "resolved"), ("PUT", "ignored"), ("PATCH", "unresolved")]:
        response = await client.request(method, url, json={"status": status}, headers=auth_headers)
        assert response.status_code == 200
        assert response.json()["status"] == status
        assert (await get_json(client, url, auth_headers))["status"] == status
    await client.patch(url, json={"status": "resolved"}, headers=auth_headers)

    async def listed(status: str) -> list[int]:
        page = await get_json(client, issues_url(project), auth_headers, {"status": status})
        return [i["id"] for i in page["items"]]

    assert await listed("resolved") == [issue_id]
    assert await listed("unresolved") == []
    await send_error(client, project)  # a regression
    assert await listed("unresolved") == [issue_id]
    assert (await get_json(client, url, auth_headers))["times_seen"] == 2


@pytest.mark.parametrize("body", [{"status": "closed"}, {}, {"status": "resolved", "x": 1}])
async def test_bad_status_answers_422(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project, body: dict[str, Any]
) -> None:
    """An unknown status, none, or an unknown field answers 422 and changes nothing."""
    issue_id = await issue_of(client, auth_headers, project, await send_error(client, project))
    url = issues_url(project, str(issue_id))
    assert (await client.patch(url, json=body, headers=auth_headers)).status_code == 422
    assert (await get_json(client, url, auth_headers))["status"] == "unresolved"


async def test_sorts(client: httpx.AsyncClient, auth_headers: Headers, project: Project) -> None:
    """``sort`` orders by last_seen (default), first_seen or times_seen, descending."""
    old = await issue_of(
        client, auth_headers, project, await send_error(client, project, exc_type="A")
    )
    busy = await issue_of(
        client, auth_headers, project, await send_error(client, project, exc_type="B")
    )
    for _ in range(2):
        await send_error(client, project, exc_type="B")
    await send_error(client, project, exc_type="A")  # A is now the last seen

    async def order(**params: str) -> list[int]:
        page = await get_json(client, issues_url(project), auth_headers, params)
        return [i["id"] for i in page["items"]]

    assert await order() == [old, busy]
    assert await order(sort="last_seen") == [old, busy]
    assert await order(sort="first_seen") == [busy, old]
    assert await order(sort="times_seen") == [busy, old]
    bad = await client.get(issues_url(project), params={"sort": "title"}, headers=auth_headers)
    assert bad.status_code == 422


async def test_issue_pages_walk_every_issue_once(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """Walking 5 issues 2 at a time in each sort yields each once; a cursor keeps its sort."""
    for number in range(5):
        await send_error(client, project, exc_type=f"Error{number}")
    for sort in ("last_seen", "first_seen", "times_seen"):
        issues, pages = await walk(
            client, issues_url(project), auth_headers, limit=2, params={"sort": sort}
        )
        assert (len({i["id"] for i in issues}), len(issues), pages) == (5, 5, 3)
    first = await get_json(client, issues_url(project), auth_headers, {"limit": 2})
    params = {"cursor": first["next_cursor"], "sort": "times_seen"}
    mixed = await client.get(issues_url(project), params=params, headers=auth_headers)
    assert mixed.status_code == 422


async def test_issue_events_page_through(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """The events of an issue page like every list, and hold only that issue's events."""
    sent = [await send_error(client, project) for _ in range(5)]
    await send_error(client, project, exc_type="Unrelated")
    issue_id = await issue_of(client, auth_headers, project, sent[0])
    events, _ = await walk(
        client, issues_url(project, f"{issue_id}/events/"), auth_headers, limit=2
    )
    assert [e["event_id"] for e in events] == sent[::-1]


async def test_another_projects_issue_answers_404(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers, project: Project
) -> None:
    """An issue id of another project is not found under this one, for reads and changes."""
    other = await core.projects.create_project("Other")
    issue_id = await issue_of(client, auth_headers, other, await send_error(client, other))
    url = issues_url(project, str(issue_id))
    assert (await client.get(url, headers=auth_headers)).status_code == 404
    assert (await client.get(f"{url}/events/", headers=auth_headers)).status_code == 404
    response = await client.patch(url, json={"status": "resolved"}, headers=auth_headers)
    assert response.status_code == 404
    assert (await core.storage.get_issue(other.id, issue_id)).status == "unresolved"


async def test_members_may_triage_and_others_see_nothing(
    client: httpx.AsyncClient, core: Resentry, auth_headers: Headers, project: Project
) -> None:
    """A member (not admin) may change an issue's status; a non-member gets 404 everywhere."""
    issue_id = await issue_of(client, auth_headers, project, await send_error(client, project))
    _, member = await add_user(core, client, "member", projects=[project])
    _, outsider = await add_user(core, client, "outsider")
    url = issues_url(project, str(issue_id))
    response = await client.put(url, json={"status": "ignored"}, headers=member)
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    for response in [
        await client.get(issues_url(project), headers=outsider),
        await client.get(url, headers=outsider),
        await client.patch(url, json={"status": "resolved"}, headers=outsider),
        await client.get(f"{url}/events/", headers=outsider),
    ]:
        assert response.status_code == 404
    assert (await core.storage.get_issue(project.id, issue_id)).status == "ignored"
