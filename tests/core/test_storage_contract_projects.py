"""Storage contract: projects, keys and members (every backend via the ``storage`` fixture)."""

import re

import pytest

from resentry_core._errors import ConflictError, InvalidInputError, NotFoundError
from resentry_core._projects import Projects
from resentry_core._storage._protocol import EventFilter, Storage
from resentry_core._storage._values import UNSET
from tests.core.records import (
    at,
    check_in,
    check_in_envelope,
    error_envelope,
    feedback_envelope,
    log_envelope,
    log_record,
    new_id,
    session_envelope,
    session_update,
)

HEX32 = re.compile(r"[0-9a-f]{32}")


async def test_create_project_has_one_active_key(storage: Storage) -> None:
    """A new project gets a slug from its name and exactly one active 32-hex key."""
    project = await Projects(storage).create_project(
        "Café Web-App!", allowed_origins=["https://example.com"], retention_days=30
    )
    assert project.name == "Café Web-App!"
    assert project.slug == "cafe-web-app"
    assert project.allowed_origins == ("https://example.com",)
    assert project.retention_days == 30
    assert project.rate_limit_per_minute is None
    assert project.created_at.utcoffset() is not None
    [key] = project.keys
    assert key.is_active
    assert key.project_id == project.id
    assert key.label == "Default"
    assert HEX32.fullmatch(key.public_key)
    assert await storage.get_project(project.id) == project


async def test_slug_conflicts(storage: Storage) -> None:
    """A taken slug is a ConflictError, whether derived from the name or given explicitly."""
    await Projects(storage).create_project("Backend API")
    with pytest.raises(ConflictError):
        await Projects(storage).create_project("backend api")
    with pytest.raises(ConflictError):
        await Projects(storage).create_project("Other", slug="Backend-API")
    other = await Projects(storage).create_project("Backend API", slug="backend-api-2")
    assert other.slug == "backend-api-2"
    assert [project.slug for project in await storage.list_projects()] == [
        "backend-api",
        "backend-api-2",
    ]


async def test_create_project_rejects_bad_values(storage: Storage) -> None:
    """A blank name, a slug with no letter or digit, or a non-positive limit is rejected."""
    with pytest.raises(InvalidInputError):
        await Projects(storage).create_project("   ")
    with pytest.raises(InvalidInputError):
        await Projects(storage).create_project("Fine", slug="!!!")
    with pytest.raises(InvalidInputError):
        await Projects(storage).create_project("Fine", rate_limit_per_minute=0)
    with pytest.raises(InvalidInputError):
        await Projects(storage).create_project("Fine", retention_days=-1)
    assert await storage.list_projects() == []
    project = await Projects(storage).create_project("日本")
    assert project.slug == "project"


async def test_update_project(storage: Storage) -> None:
    """Only the given fields change; the slug and keys stay."""
    project = await Projects(storage).create_project("Shop")
    updated = await Projects(storage).update_project(
        project.id, name="Shop v2", rate_limit_per_minute=600, allowed_origins=["*"]
    )
    assert updated.name == "Shop v2"
    assert updated.slug == "shop"
    assert updated.rate_limit_per_minute == 600
    assert updated.allowed_origins == ("*",)
    assert updated.retention_days is None
    assert updated.keys == project.keys
    assert await storage.get_project(project.id) == updated
    again = await Projects(storage).update_project(project.id, retention_days=7)
    assert again.name == "Shop v2"
    assert again.rate_limit_per_minute == 600
    assert again.retention_days == 7
    with pytest.raises(InvalidInputError):
        await Projects(storage).update_project(project.id, retention_days=0)
    with pytest.raises(NotFoundError):
        await Projects(storage).update_project(project.id + 1000, name="x")


async def test_update_project_none_clears_the_limits(storage: Storage) -> None:
    """``None`` sets a limit back to "none"; an omitted (``UNSET``) field stays as it is."""
    project = await Projects(storage).create_project(
        "Shop", rate_limit_per_minute=60, retention_days=30
    )
    cleared = await Projects(storage).update_project(project.id, rate_limit_per_minute=None)
    assert (cleared.rate_limit_per_minute, cleared.retention_days) == (None, 30)
    cleared = await Projects(storage).update_project(
        project.id, retention_days=None, rate_limit_per_minute=UNSET
    )
    assert (cleared.rate_limit_per_minute, cleared.retention_days) == (None, None)
    assert cleared.name == "Shop"
    assert await storage.get_project(project.id) == cleared
    assert await Projects(storage).update_project(project.id) == cleared


async def test_missing_project_is_not_found(storage: Storage) -> None:
    """Reading, deleting or adding keys to a missing project raises NotFoundError."""
    with pytest.raises(NotFoundError):
        await storage.get_project(404)
    with pytest.raises(NotFoundError):
        await storage.delete_project(404)
    with pytest.raises(NotFoundError):
        await storage.create_key(404)
    with pytest.raises(NotFoundError):
        await storage.list_keys(404)
    with pytest.raises(NotFoundError):
        await storage.list_members(404)


async def test_delete_project_removes_everything(storage: Storage) -> None:
    """Deleting a project removes its keys, members, events, issues and all other data."""
    doomed = await Projects(storage).create_project("Doomed")
    kept = await Projects(storage).create_project("Kept")
    user = await storage.create_user("dev", "hash")
    await storage.add_member(doomed.id, user.id)
    await storage.add_member(kept.id, user.id)
    event_id = new_id()
    for project_id in (doomed.id, kept.id):
        await storage.record(
            [
                error_envelope(project_id, event_id=event_id, attachments=[("a.txt", b"A")]),
                session_envelope(project_id, session_update("s1", seq=1, init=True)),
                check_in_envelope(project_id, check_in(new_id())),
                log_envelope(project_id, log_record("hello")),
                feedback_envelope(project_id),
            ]
        )
    [doomed_issue] = (await storage.list_issues(doomed.id)).items
    doomed_event = (await storage.get_event(doomed.id, event_id)).event

    await storage.delete_project(doomed.id)

    with pytest.raises(NotFoundError):
        await storage.get_project(doomed.id)
    assert await storage.project_for_key(doomed.id, doomed.keys[0].public_key) is None
    assert not await storage.is_member(doomed.id, user.id)
    assert [p.id for p in await storage.list_projects(user_id=user.id)] == [kept.id]
    with pytest.raises(NotFoundError):
        await storage.get_event(doomed.id, event_id)
    with pytest.raises(NotFoundError):
        await storage.get_issue(doomed.id, doomed_issue.id)
    with pytest.raises(NotFoundError):
        await storage.get_envelope(doomed.id, doomed_event.envelope_id)
    assert not (await storage.list_issues(doomed.id)).items
    assert not (await storage.list_items(doomed.id)).items
    assert not (await storage.list_logs(doomed.id)).items
    assert not (await storage.list_feedback(doomed.id)).items
    assert await storage.list_monitors(doomed.id) == []
    assert await storage.release_health(doomed.id) == []
    everything = await storage.list_events(EventFilter())
    assert {event.project_id for event in everything.items} == {kept.id}
    assert len(everything.items) == 2  # the error and the feedback event of "kept"
    assert (await storage.get_event(kept.id, event_id)).event.project_id == kept.id
    assert len((await storage.list_issues(kept.id)).items) == 1
    assert len(await storage.list_monitors(kept.id)) == 1


async def test_list_projects_all_or_member(storage: Storage) -> None:
    """``list_projects()`` lists every project by id; with a user, only their projects."""
    first = await Projects(storage).create_project("First")
    second = await Projects(storage).create_project("Second")
    third = await Projects(storage).create_project("Third")
    user = await storage.create_user("member", "hash")
    loner = await storage.create_user("loner", "hash")
    await storage.add_member(third.id, user.id)
    await storage.add_member(first.id, user.id)
    assert [p.id for p in await storage.list_projects()] == [first.id, second.id, third.id]
    listed = await storage.list_projects(user_id=user.id)
    assert [p.id for p in listed] == [first.id, third.id]
    assert listed[0].keys == first.keys
    assert await storage.list_projects(user_id=loner.id) == []
    assert await storage.list_projects(user_id=9999) == []


async def test_create_and_revoke_keys(storage: Storage) -> None:
    """New keys are active, unique 32-hex; a revoked key stays listed but stops working."""
    project = await Projects(storage).create_project("Keys")
    [first] = project.keys
    second = await storage.create_key(project.id, label="CI")
    assert second.label == "CI"
    assert second.is_active
    assert HEX32.fullmatch(second.public_key)
    assert second.public_key != first.public_key
    assert [key.id for key in await storage.list_keys(project.id)] == [first.id, second.id]

    revoked = await storage.revoke_key(project.id, first.id)
    assert not revoked.is_active
    assert revoked.public_key == first.public_key
    assert await storage.project_for_key(project.id, first.public_key) is None
    found = await storage.project_for_key(project.id, second.public_key)
    assert found is not None
    assert found.id == project.id
    assert [key.is_active for key in await storage.list_keys(project.id)] == [False, True]
    assert [key.is_active for key in (await storage.get_project(project.id)).keys] == [
        False,
        True,
    ]
    assert (await storage.revoke_key(project.id, first.id)).is_active is False


async def test_project_for_key_only_own_active_keys(storage: Storage) -> None:
    """A key authenticates only its own project; unknown keys and projects give None."""
    mine = await Projects(storage).create_project("Mine")
    theirs = await Projects(storage).create_project("Theirs")
    my_key = mine.keys[0].public_key
    their_key = theirs.keys[0].public_key
    assert await storage.project_for_key(mine.id, my_key) == mine
    assert await storage.project_for_key(mine.id, their_key) is None
    assert await storage.project_for_key(theirs.id, my_key) is None
    assert await storage.project_for_key(mine.id, "0" * 32) is None
    assert await storage.project_for_key(9999, my_key) is None


async def test_revoke_other_projects_key_is_not_found(storage: Storage) -> None:
    """Revoking another project's key, or a missing key, is NotFoundError and changes nothing."""
    mine = await Projects(storage).create_project("Mine")
    theirs = await Projects(storage).create_project("Theirs")
    with pytest.raises(NotFoundError):
        await storage.revoke_key(mine.id, theirs.keys[0].id)
    with pytest.raises(NotFoundError):
        await storage.revoke_key(mine.id, 9999)
    assert (await storage.get_project(theirs.id)).keys[0].is_active


async def test_members_add_update_remove(storage: Storage) -> None:
    """Members are added with notification settings, updated in place, listed and removed."""
    project = await Projects(storage).create_project("Team")
    alice = await storage.create_user("alice", "hash")
    bob = await storage.create_user("bob", "hash")
    added = await storage.add_member(project.id, bob.id)
    assert (added.username, added.min_level, added.notify_new_issues) == ("bob", "error", True)
    await storage.add_member(project.id, alice.id, min_level="warning", notify_regressions=False)
    members = await storage.list_members(project.id)
    assert [(m.user_id, m.username) for m in members] == [(alice.id, "alice"), (bob.id, "bob")]
    assert members[0].min_level == "warning"
    assert members[0].notify_regressions is False

    updated = await storage.add_member(
        project.id, bob.id, min_level="fatal", notify_new_issues=False
    )
    assert updated.min_level == "fatal"
    assert not updated.notify_new_issues
    assert len(await storage.list_members(project.id)) == 2
    await storage.update_user(bob.id, username="robert")
    assert [m.username for m in await storage.list_members(project.id)] == ["alice", "robert"]

    assert await storage.is_member(project.id, alice.id)
    await storage.remove_member(project.id, alice.id)
    assert not await storage.is_member(project.id, alice.id)
    assert [m.user_id for m in await storage.list_members(project.id)] == [bob.id]
    with pytest.raises(NotFoundError):
        await storage.remove_member(project.id, alice.id)


async def test_members_of_missing_user_or_project(storage: Storage) -> None:
    """Adding a missing user or to a missing project raises NotFoundError; is_member is False."""
    project = await Projects(storage).create_project("Team")
    user = await storage.create_user("carol", "hash")
    with pytest.raises(NotFoundError):
        await storage.add_member(project.id, 9999)
    with pytest.raises(NotFoundError):
        await storage.add_member(9999, user.id)
    with pytest.raises(NotFoundError):
        await storage.remove_member(9999, user.id)
    assert not await storage.is_member(9999, user.id)
    assert not await storage.is_member(project.id, 9999)
    assert await storage.list_members(project.id) == []


async def test_ids_are_not_reused(storage: Storage) -> None:
    """A project created after a delete gets a new id and none of the old data."""
    old = await Projects(storage).create_project("Old")
    await storage.record([error_envelope(old.id, received_at=at(1))])
    await storage.delete_project(old.id)
    new = await Projects(storage).create_project("Old")
    assert new.id != old.id
    assert not (await storage.list_issues(new.id)).items
    assert not (await storage.list_events(EventFilter())).items
