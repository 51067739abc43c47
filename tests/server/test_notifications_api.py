"""The notification routes: channels, rules, test messages, the delivery log, and members'
own settings; who may do what, and bad input answered clearly without changing anything.

The worker is off here (its own tests send for real): queued test messages stay pending.
"""

from dataclasses import replace

import httpx
import pytest

from resentry_core import CoreConfig, Project, Resentry
from tests.server.api_helpers import Headers, add_user

PUBLIC_HOOK = "https://93.184.216.34/hooks/resentry"  # an address literal: no DNS lookup


@pytest.fixture
def core_config(core_config: CoreConfig) -> CoreConfig:
    """No worker: nothing is sent from these tests."""
    return replace(core_config, worker=False)


def url(project: Project, path: str) -> str:
    """A path under the project."""
    return f"/api/v1/projects/{project.id}/{path}"


async def test_admin_manages_channels_and_sees_a_webhook_secret_once(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project
) -> None:
    """Create (secret in the answer), read and list (no secret), rename, delete."""
    body = {"name": "ops", "kind": "webhook", "target": PUBLIC_HOOK, "flavor": "slack"}
    created = await client.post(url(project, "channels/"), json=body, headers=auth_headers)
    assert created.status_code == 201, created.text
    channel = created.json()
    assert len(channel["secret"]) == 64
    assert (channel["kind"], channel["flavor"], channel["target"]) == (
        "webhook",
        "slack",
        PUBLIC_HOOK,
    )
    path = url(project, f"channels/{channel['id']}")
    read = (await client.get(path, headers=auth_headers)).json()
    assert "secret" not in read
    listed = (await client.get(url(project, "channels/"), headers=auth_headers)).json()
    assert [item["id"] for item in listed["items"]] == [channel["id"]]
    assert all("secret" not in item for item in listed["items"])
    renamed = await client.patch(path, json={"name": "alerts"}, headers=auth_headers)
    assert renamed.json()["name"] == "alerts"
    assert (await client.delete(path, headers=auth_headers)).status_code == 204
    assert (await client.get(path, headers=auth_headers)).status_code == 404


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"kind": "webhook", "target": "http://127.0.0.1:9/hook"}, "loopback"),
        ({"kind": "webhook", "target": "http://10.1.2.3/hook"}, "private"),
        ({"kind": "webhook", "target": "ftp://93.184.216.34/x"}, "http"),
        ({"kind": "email", "target": "ops@example.com, not-an-address"}, "e-mail address"),
        ({"kind": "telegram", "target": "  "}, "blank"),
        ({"kind": "telegram", "target": "-100123", "flavor": "slack"}, "webhook"),
    ],
)
async def test_bad_channels_are_refused_and_nothing_is_created(
    client: httpx.AsyncClient,
    auth_headers: Headers,
    project: Project,
    body: dict[str, str],
    fragment: str,
) -> None:
    """Private webhook targets (unless allowed), bad addresses, a flavor on a non-webhook:
    422 saying what was wrong, and no channel."""
    response = await client.post(
        url(project, "channels/"), json={"name": "x", **body}, headers=auth_headers
    )
    assert response.status_code == 422, response.text
    assert fragment in str(response.json()["detail"])
    listed = await client.get(url(project, "channels/"), headers=auth_headers)
    assert listed.json()["items"] == []


async def test_rules_and_test_messages_land_in_the_delivery_log(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project, core: Resentry
) -> None:
    """Rules are created, listed and deleted; a test message is queued as a pending delivery."""
    channel = (
        await client.post(
            url(project, "channels/"),
            json={"name": "team", "kind": "email", "target": "a@example.com,b@example.com"},
            headers=auth_headers,
        )
    ).json()
    assert channel["secret"] is None
    rule_body = {
        "channel_id": channel["id"],
        "trigger": "level",
        "min_level": "warning",
        "environment": "production",
    }
    rule = await client.post(url(project, "rules/"), json=rule_body, headers=auth_headers)
    assert rule.status_code == 201, rule.text
    assert {k: rule.json()[k] for k in rule_body} == rule_body
    bad = await client.post(
        url(project, "rules/"), json={**rule_body, "trigger": "sometimes"}, headers=auth_headers
    )
    assert bad.status_code == 422
    other = await core.projects.create_project("Other")
    foreign = await client.post(url(other, "rules/"), json=rule_body, headers=auth_headers)
    assert foreign.status_code == 404
    rules = (await client.get(url(project, "rules/"), headers=auth_headers)).json()["items"]
    assert [item["id"] for item in rules] == [rule.json()["id"]]
    queued = await client.post(url(project, f"channels/{channel['id']}/test"), headers=auth_headers)
    assert queued.status_code == 202
    assert (queued.json()["reason"], queued.json()["status"]) == ("test", "pending")
    log = (await client.get(url(project, "deliveries/"), headers=auth_headers)).json()
    assert [item["id"] for item in log["items"]] == [queued.json()["id"]]
    assert log["items"][0]["destination"] == f"channel:{channel['id']}"
    deleted = await client.delete(url(project, f"rules/{rule.json()['id']}"), headers=auth_headers)
    assert deleted.status_code == 204
    assert (await client.get(url(project, "rules/"), headers=auth_headers)).json()["items"] == []


async def test_only_admins_manage_notifications(
    client: httpx.AsyncClient, core: Resentry, project: Project
) -> None:
    """A member may not see or change channels, rules or deliveries (403); a stranger sees
    a 404, as for the project itself."""
    _, member = await add_user(core, client, "mia", projects=[project])
    _, stranger = await add_user(core, client, "sam")
    for path in ("channels/", "rules/", "deliveries/"):
        assert (await client.get(url(project, path), headers=member)).status_code == 403
        assert (await client.get(url(project, path), headers=stranger)).status_code == 404
    body = {"name": "x", "kind": "webhook", "target": PUBLIC_HOOK}
    response = await client.post(url(project, "channels/"), json=body, headers=member)
    assert response.status_code == 403


async def test_members_change_their_own_notification_settings(
    client: httpx.AsyncClient, core: Resentry, project: Project, auth_headers: Headers
) -> None:
    """A member changes their own settings, not another's (403); an admin changes anyone's;
    a user who is not a member answers 404; an empty change is refused."""
    mia, mia_headers = await add_user(core, client, "mia", projects=[project])
    joe, _ = await add_user(core, client, "joe", projects=[project])
    own = await client.patch(
        url(project, f"members/{mia.id}"),
        json={"min_level": "warning", "notify_regressions": False},
        headers=mia_headers,
    )
    assert own.status_code == 200, own.text
    assert (own.json()["min_level"], own.json()["notify_new_issues"]) == ("warning", True)
    assert own.json()["notify_regressions"] is False
    other = await client.patch(
        url(project, f"members/{joe.id}"), json={"min_level": "debug"}, headers=mia_headers
    )
    assert other.status_code == 403
    by_admin = await client.patch(
        url(project, f"members/{joe.id}"), json={"notify_new_issues": False}, headers=auth_headers
    )
    assert by_admin.json()["notify_new_issues"] is False
    outsider, _ = await add_user(core, client, "sam")
    missing = await client.patch(
        url(project, f"members/{outsider.id}"), json={"min_level": "fatal"}, headers=auth_headers
    )
    assert missing.status_code == 404
    empty = await client.patch(url(project, f"members/{mia.id}"), json={}, headers=mia_headers)
    assert empty.status_code == 422
    members = {m.user_id: m for m in await core.storage.list_members(project.id)}
    assert (members[mia.id].min_level, members[joe.id].min_level) == ("warning", "error")


async def test_users_have_an_email_address(
    client: httpx.AsyncClient, auth_headers: Headers
) -> None:
    """``email`` is set on creation, changed and cleared by an update; a malformed address is
    422 and changes nothing."""
    body = {"username": "eve", "password": "long enough password", "email": "eve@example.com"}
    created = (await client.post("/api/v1/users/", json=body, headers=auth_headers)).json()
    assert created["email"] == "eve@example.com"
    path = f"/api/v1/users/{created['id']}"
    bad = await client.patch(path, json={"email": "eve at example"}, headers=auth_headers)
    assert bad.status_code == 422
    assert (await client.get(path, headers=auth_headers)).json()["email"] == "eve@example.com"
    cleared = await client.patch(path, json={"email": None}, headers=auth_headers)
    assert cleared.json()["email"] is None


async def test_admin_edits_a_rule(
    client: httpx.AsyncClient, auth_headers: Headers, project: Project, core: Resentry
) -> None:
    """``PATCH …/rules/{id}`` changes the fields sent (``environment: null`` clears the
    filter); a channel of another project or an unknown rule is 404, an unknown trigger or
    level and an empty body are 422, a member is 403; refused changes change nothing."""
    channels = [
        (
            await client.post(
                url(project, "channels/"),
                json={"name": name, "kind": "telegram", "target": chat},
                headers=auth_headers,
            )
        ).json()
        for name, chat in (("ops", "-1"), ("team", "-2"))
    ]
    body = {"channel_id": channels[0]["id"], "trigger": "level", "environment": "production"}
    rule = (await client.post(url(project, "rules/"), json=body, headers=auth_headers)).json()
    path = url(project, f"rules/{rule['id']}")
    moved = await client.patch(
        path,
        json={"channel_id": channels[1]["id"], "min_level": "warning", "environment": None},
        headers=auth_headers,
    )
    assert moved.status_code == 200, moved.text
    expected = {
        **rule,
        "channel_id": channels[1]["id"],
        "min_level": "warning",
        "environment": None,
    }
    assert moved.json() == expected
    other = await core.projects.create_project("Other")
    foreign, _ = await core.notifications.create_channel(
        other.id, name="x", kind="telegram", target="-3"
    )
    _, member = await add_user(core, client, "mia", projects=[project])
    refusals = [
        ({"channel_id": foreign.id}, auth_headers, 404),
        ({"trigger": "sometimes"}, auth_headers, 422),
        ({"min_level": "loud"}, auth_headers, 422),
        ({}, auth_headers, 422),
        ({"trigger": None}, auth_headers, 422),
        ({"trigger": "new_issue"}, member, 403),
    ]
    for change, headers, status in refusals:
        response = await client.patch(path, json=change, headers=headers)
        assert response.status_code == status, (change, response.text)
    missing = await client.patch(
        url(project, "rules/999999"), json={"trigger": "new_issue"}, headers=auth_headers
    )
    assert missing.status_code == 404
    rules = (await client.get(url(project, "rules/"), headers=auth_headers)).json()["items"]
    assert rules == [expected]
