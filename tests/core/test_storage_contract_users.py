"""Storage contract: users of the management API (every backend via the ``storage`` fixture)."""

from collections.abc import Sequence

import pytest

from resentry_core._accounts import Accounts
from resentry_core._errors import ConflictError, InvalidInputError, NotFoundError
from resentry_core._projects import Projects
from resentry_core._storage._protocol import Storage
from resentry_core._storage._values import UNSET


async def test_ping(storage: Storage) -> None:
    """A fresh storage answers ``ping``."""
    await storage.ping()


async def test_create_and_get_user(storage: Storage) -> None:
    """A new user is active, readable by id and listed by id."""
    alice = await storage.create_user("alice", "hash-a", is_admin=True, telegram_chat_id="42")
    bob = await storage.create_user("bob", "hash-b")
    assert (alice.username, alice.is_admin, alice.is_active) == ("alice", True, True)
    assert alice.telegram_chat_id == "42"
    assert alice.created_at.utcoffset() is not None
    assert (bob.is_admin, bob.telegram_chat_id) == (False, None)
    assert await storage.get_user(alice.id) == alice
    assert await storage.list_users() == [alice, bob]
    with pytest.raises(NotFoundError):
        await storage.get_user(9999)


async def test_duplicate_username_is_a_conflict(storage: Storage, accounts: Accounts) -> None:
    """A taken username raises ConflictError, at creation and at rename, in any case or
    confusable spelling (Unicode TR 39); the name is kept as given; a blank one is refused (by
    ``Accounts``)."""
    await storage.create_user("alice", "hash")
    bob = await storage.create_user("bob", "hash")
    with pytest.raises(ConflictError):
        await storage.create_user("alice", "other")
    with pytest.raises(ConflictError):
        await storage.update_user(bob.id, username="alice")
    assert (await storage.get_user(bob.id)).username == "bob"
    for lookalike in ("Alice", "ALICE", "\u0430lice", "a1ice"):
        with pytest.raises(ConflictError):
            await storage.create_user(lookalike, "hash")
        with pytest.raises(ConflictError):
            await storage.update_user(bob.id, username=lookalike)
    assert (await storage.update_user(bob.id, username="Bob")).username == "Bob"
    assert (await storage.create_user("Carol", "hash")).username == "Carol"
    with pytest.raises(InvalidInputError):
        await accounts.create_user(" ", "hash")


async def test_get_credentials(storage: Storage) -> None:
    """Credentials are the user and their hash, by username in any case (after NFKC), never
    by a confusable spelling; None when unknown."""
    user = await storage.create_user("alice", "$2b$12$hash")
    assert await storage.get_credentials("alice") == (user, "$2b$12$hash")
    assert await storage.get_credentials("ALICE") == (user, "$2b$12$hash")
    assert await storage.get_credentials("\uff21lice") == (user, "$2b$12$hash")  # full-width
    assert await storage.get_credentials("\u0430lice") is None
    assert await storage.get_credentials("nobody") is None
    await storage.update_user(user.id, password_hash="$2b$12$new")
    credentials = await storage.get_credentials("alice")
    assert credentials is not None
    assert credentials[1] == "$2b$12$new"


async def test_update_user_none_clears_the_chat_id(storage: Storage) -> None:
    """``telegram_chat_id=None`` clears it; omitting it (``UNSET``) keeps it."""
    user = await storage.create_user("dev", "hash", telegram_chat_id="7")
    kept = await storage.update_user(user.id, username="developer", telegram_chat_id=UNSET)
    assert kept.telegram_chat_id == "7"
    cleared = await storage.update_user(user.id, telegram_chat_id=None)
    assert (cleared.username, cleared.telegram_chat_id) == ("developer", None)
    assert await storage.get_user(user.id) == cleared
    assert await storage.get_credentials("developer") == (cleared, "hash")


async def test_update_user(storage: Storage) -> None:
    """Only the given fields change; an empty telegram_chat_id clears it."""
    await storage.create_user("root", "hash", is_admin=True)
    user = await storage.create_user("dev", "hash", telegram_chat_id="7")
    renamed = await storage.update_user(user.id, username="developer", is_admin=True)
    assert (renamed.username, renamed.is_admin, renamed.telegram_chat_id) == (
        "developer",
        True,
        "7",
    )
    deactivated = await storage.update_user(user.id, is_active=False, telegram_chat_id="")
    assert (deactivated.is_active, deactivated.telegram_chat_id) == (False, None)
    assert deactivated.username == "developer"
    assert await storage.get_user(user.id) == deactivated
    credentials = await storage.get_credentials("developer")
    assert credentials == (deactivated, "hash")
    with pytest.raises(NotFoundError):
        await storage.update_user(9999, is_admin=True)


async def test_last_active_admin_is_protected(storage: Storage, accounts: Accounts) -> None:
    """The last active admin cannot be demoted, deactivated or deleted; another admin can
    (``Accounts`` decides, in the transaction of the change)."""
    root = await storage.create_user("root", "hash", is_admin=True)
    dev = await storage.create_user("dev", "hash")
    with pytest.raises(ConflictError):
        await accounts.update_user(root.id, is_admin=False)
    with pytest.raises(ConflictError):
        await accounts.update_user(root.id, is_active=False)
    with pytest.raises(ConflictError):
        await accounts.delete_user(root.id)
    assert await storage.get_user(root.id) == root

    await accounts.update_user(dev.id, is_admin=True)
    await accounts.update_user(root.id, is_admin=False)  # dev is still an active admin
    with pytest.raises(ConflictError):
        await accounts.delete_user(dev.id)
    await accounts.update_user(root.id, is_admin=True, is_active=False)  # inactive: no help
    with pytest.raises(ConflictError):
        await accounts.update_user(dev.id, is_active=False)
    await accounts.delete_user(root.id)  # an inactive admin may go
    assert [user.id for user in await storage.list_users()] == [dev.id]


async def test_delete_user_removes_memberships(storage: Storage) -> None:
    """Deleting a user removes them and their memberships; a missing user is NotFoundError."""
    project = await Projects(storage).create_project("Team")
    user = await storage.create_user("dev", "hash")
    await storage.add_member(project.id, user.id)
    await storage.delete_user(user.id)
    with pytest.raises(NotFoundError):
        await storage.get_user(user.id)
    assert await storage.get_credentials("dev") is None
    assert await storage.list_members(project.id) == []
    assert not await storage.is_member(project.id, user.id)
    with pytest.raises(NotFoundError):
        await storage.delete_user(user.id)
    again = await storage.create_user("dev", "hash")
    assert again.id != user.id
    assert not await storage.is_member(project.id, again.id)


async def test_a_failing_check_changes_nothing(storage: Storage) -> None:
    """``update_user``/``delete_user`` pass the active admins' ids, by id, to ``check``; what it
    raises aborts the change."""
    root = await storage.create_user("root", "hash", is_admin=True)
    dev = await storage.create_user("dev", "hash", is_admin=True)
    await storage.update_user(dev.id, is_active=False)
    seen: list[list[int]] = []

    def refuse(active_admin_ids: Sequence[int]) -> None:
        seen.append(list(active_admin_ids))
        raise ConflictError("refused")

    with pytest.raises(ConflictError, match="refused"):
        await storage.update_user(root.id, username="renamed", is_admin=False, check=refuse)
    with pytest.raises(ConflictError, match="refused"):
        await storage.delete_user(dev.id, check=refuse)
    assert seen == [[root.id], [root.id]]
    assert await storage.get_user(root.id) == root
    assert [user.id for user in await storage.list_users()] == [root.id, dev.id]
    await storage.delete_user(dev.id, check=lambda ids: seen.append(list(ids)))
    assert seen[-1] == [root.id]
