"""``/api/v1/auth``: log in, refresh a token pair, log out, and who am I."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from resentry_server._deps import ClientAddressDep, ResentryDep
from resentry_server._routes._common import errors
from resentry_server._schemas import LoginIn, RefreshIn, TokenOut, UserOut
from resentry_server._security import BearerToken, CurrentUser

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# The OAuth2 password grant form (RFC 6749 §4.3.2), which Swagger UI's "Authorize" sends.
_FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "grant_type": {"type": "string", "enum": ["password"]},
        "username": {"type": "string"},
        "password": {"type": "string"},
        "scope": {"type": "string"},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
    },
    "required": ["username", "password"],
}
_LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginIn.model_json_schema()},
            **{media_type: {"schema": _FORM_SCHEMA} for media_type in _FORM_TYPES},
        },
    }
}


async def _login_credentials(request: Request) -> LoginIn:
    # One path takes JSON and the OAuth2 form, so the body is read by hand, by content type.
    content_type = request.headers.get("content-type", "").lower()
    try:
        if content_type.startswith(_FORM_TYPES):
            form = await request.form()
            fields = {name: form.get(name) for name in ("username", "password")}
            # A file upload in place of a field is as good as a missing field.
            return LoginIn.model_validate({k: v for k, v in fields.items() if isinstance(v, str)})
        return LoginIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


LoginCredentials = Annotated[LoginIn, Depends(_login_credentials)]


@router.post(
    "/login",
    openapi_extra=_LOGIN_BODY,
    responses={
        **errors(400, 401),
        429: {**errors(429)[429], "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
    },
)
async def login(
    credentials: LoginCredentials, core: ResentryDep, address: ClientAddressDep
) -> TokenOut:
    """Exchange a username and password for an access and a refresh token.

    Send JSON ``{"username", "password"}`` or an OAuth2 password form; the username is
    compared case-insensitively. Repeated failures for one username, or from one client
    address, are throttled (429 with ``Retry-After``) in every server process alike.
    """
    pair = await core.accounts.login(
        credentials.username, credentials.password, client_address=address
    )
    return TokenOut.from_core(pair)


@router.post("/refresh_token", responses=errors(400, 401))
async def refresh_token(body: RefreshIn, core: ResentryDep) -> TokenOut:
    """Exchange a refresh token (not an access token) for a new token pair.

    A refresh token is used once. Presenting one that was already used ends every token of
    its user (it may have been stolen): they must log in again.
    """
    return TokenOut.from_core(await core.accounts.refresh(body.refresh_token))


@router.post("/logout", status_code=204, responses=errors(401))
async def logout(token: BearerToken, core: ResentryDep) -> None:
    """End every access and refresh token of the caller (on every device)."""
    await core.accounts.logout(token)


@router.get("/me", responses=errors(401))
async def me(user: CurrentUser) -> UserOut:
    """The user the access token belongs to."""
    return UserOut.from_core(user)
