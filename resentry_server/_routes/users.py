"""``/api/v1/users``: user CRUD for admins; every user may read and update themself."""

from fastapi import APIRouter

from resentry_server._deps import ResentryDep
from resentry_server._routes._common import PageDep, errors, page_of
from resentry_server._schemas import PageOut, RowId, UserCreate, UserOut, UserUpdate
from resentry_server._security import AdminUser, CurrentUser, SelfOrAdmin, check_user_change

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("/", responses=errors(401, 403))
async def list_users(_: AdminUser, core: ResentryDep, page: PageDep) -> PageOut[UserOut]:
    """Every user, by id (admins only)."""
    users = page_of(await core.storage.list_users(), page)
    return PageOut.of(users, UserOut.from_core)


@router.post("/", status_code=201, responses=errors(400, 401, 403, 409))
async def create_user(_: AdminUser, body: UserCreate, core: ResentryDep) -> UserOut:
    """Create a user (admins only); 409 when the username is taken."""
    user = await core.accounts.create_user(
        body.username,
        body.password,
        is_admin=body.is_admin,
        telegram_chat_id=body.telegram_chat_id,
        email=body.email,
    )
    return UserOut.from_core(user)


@router.get("/{user_id}", responses=errors(401, 403, 404))
async def get_user(user: SelfOrAdmin) -> UserOut:
    """A user: any user for an admin, only themself for anyone else (403)."""
    return UserOut.from_core(user)


@router.patch("/{user_id}", responses=errors(400, 401, 403, 404, 409))
@router.put("/{user_id}", responses=errors(400, 401, 403, 404, 409))
async def update_user(
    target: SelfOrAdmin, caller: CurrentUser, body: UserUpdate, core: ResentryDep
) -> UserOut:
    """Change the given fields of a user (``PUT`` and ``PATCH`` both change only what is sent).

    Users may update themself except ``is_admin``/``is_active`` (403); changing one's own
    password needs ``current_password`` (403 when missing or wrong, admins too); demoting or
    deactivating the last active admin answers 409.
    """
    check_user_change(caller, target, is_admin=body.is_admin, is_active=body.is_active)
    user = await core.accounts.update_user(
        target.id,
        **body.changes(),
        changed_by=caller,
        current_password=body.current_password,
    )
    return UserOut.from_core(user)


@router.delete("/{user_id}", status_code=204, responses=errors(401, 403, 404, 409))
async def delete_user(user_id: RowId, _: AdminUser, core: ResentryDep) -> None:
    """Delete a user and their memberships (admins only); 409 for the last active admin."""
    await core.accounts.delete_user(user_id)
