"""Web UI sessions: the API's own tokens in a cookie, and signed double-submit CSRF tokens.

The session cookie holds the access and refresh token pair that ``Accounts.login`` issues
(the same codec as the API's bearer tokens), and every request verifies it with
``Accounts.user_for_token``, so whatever ends an API token (logout, password change or reset,
deactivation, a reused refresh token) ends a UI session too. An expired access token is renewed
with ``Accounts.refresh``, which uses the refresh token up; the response stores the new pair.

A browser sends the same cookie with every request it has in flight, so several requests may
try to renew one refresh token at once, at one process or at several. The refresh token is
single-use, and presenting it twice ends every session of the user, so the UI renews with
``Accounts.refresh(..., grace=RENEWAL_GRACE)``: within that grace of the token's first use,
recorded in the database, any process may renew it again (each such request carried the whole
old cookie, access token included, so it learns nothing it did not hold). Later it is a reuse.

CSRF: a random nonce lives in its own cookie; each form carries
``HMAC(secret_key, nonce)``. A cross-site page can neither read the cookie nor compute the
HMAC, and a planted cookie is useless without the secret.
"""

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Final
from urllib.parse import quote

import anyio
from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from resentry_core import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    Project,
    Resentry,
    TokenPair,
    User,
)
from resentry_server._deps import ResentryDep
from resentry_server._paths import route_path
from resentry_server._schemas import RowId

SESSION_COOKIE: Final = "resentry_session"
CSRF_COOKIE: Final = "resentry_csrf"
CSRF_FIELD: Final = "csrf_token"
_SEPARATOR: Final = "~"  # never in a JWT (base64url and dots)
RENEWAL_GRACE: Final = timedelta(seconds=30)  # a used refresh token may renew again so long
_MAX_RENEWALS: Final = 10_000  # renewals remembered at once (oldest forgotten first)


class LoginRequiredError(Exception):
    """No valid session: the UI answers with a redirect to the login page."""


class CsrfError(Exception):
    """A form without the right CSRF token: the UI answers 403."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user of a UI request."""

    user: User


def csrf_token(request: Request) -> str:
    """The CSRF token for this browser's forms (a nonce cookie is made when there is none)."""
    nonce = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_nonce", None)
    if not nonce:
        nonce = secrets.token_urlsafe(24)
        request.state.csrf_nonce = nonce
    return _sign(request, nonce)


def _sign(request: Request, nonce: str) -> str:
    core: Resentry = request.app.state.resentry
    key = core.config.secret_key.encode()
    return hmac.new(key, b"resentry-ui-csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


async def checked_form(request: Request) -> FormData:
    """The request's form, after checking its CSRF token. Raises CsrfError."""
    form = await request.form()
    nonce = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get(CSRF_FIELD)
    if (
        not nonce
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent.encode(), _sign(request, nonce).encode())
    ):
        raise CsrfError("the form's CSRF token is missing or wrong; reload the page and retry")
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def start_session(request: Request, pair: TokenPair) -> None:
    """Remember a new token pair: the response sets it as the session cookie."""
    request.state.session_value = pair.access_token + _SEPARATOR + pair.refresh_token


def end_session(request: Request) -> None:
    """The response clears the session cookie."""
    request.state.session_value = ""


@dataclass
class Renewals:
    """The token pairs that recently replaced refresh tokens, in this process.

    The database's grace already keeps concurrent renewals from counting as a reuse, in every
    process; this cache saves the work of the others in one process (a database write and a
    signed pair each) and gives them the same pair, so a burst of requests leaves the browser
    one live refresh token rather than one per request. Renewal of one refresh token runs once
    at a time; within ``RENEWAL_GRACE`` of it, the same refresh token gets the same new pair.
    """

    _pairs: OrderedDict[bytes, tuple[float, TokenPair]] = field(default_factory=OrderedDict)
    _lock: anyio.Lock = field(default_factory=anyio.Lock)

    async def renew(self, core: Resentry, refresh_token: str) -> TokenPair:
        """The new pair for ``refresh_token``. Raises AuthenticationError."""
        key = hashlib.sha256(refresh_token.encode()).digest()
        async with self._lock:
            now = time.monotonic()
            while self._pairs and next(iter(self._pairs.values()))[0] <= now:
                self._pairs.popitem(last=False)
            known = self._pairs.get(key)
            if known is not None:
                return known[1]
            pair = await core.accounts.refresh(refresh_token, grace=RENEWAL_GRACE)
            self._pairs[key] = (now + RENEWAL_GRACE.total_seconds(), pair)
            if len(self._pairs) > _MAX_RENEWALS:
                self._pairs.popitem(last=False)
            return pair


def _renewals(request: Request) -> Renewals:
    renewals: Renewals | None = getattr(request.app.state, "ui_renewals", None)
    if renewals is None:
        renewals = request.app.state.ui_renewals = Renewals()
    return renewals


async def _session(request: Request, core: Resentry) -> tuple[str, User]:
    """The session's current access token and its user, renewing the pair when the access
    token has expired. Raises LoginRequiredError (the cookie is then cleared)."""
    access, _, refresh = request.cookies.get(SESSION_COOKIE, "").partition(_SEPARATOR)
    if not access:
        raise LoginRequiredError
    try:
        return access, await core.accounts.user_for_token(access)
    except AuthenticationError:
        pass
    try:
        pair = await _renewals(request).renew(core, refresh)
        user = await core.accounts.user_for_token(pair.access_token)
    except AuthenticationError:
        end_session(request)
        raise LoginRequiredError from None
    start_session(request, pair)
    return pair.access_token, user


async def end_tokens(request: Request, core: Resentry) -> None:
    """Sign out: end every token of the session's user with ``Accounts.logout`` (as
    ``POST /api/v1/auth/logout`` does) and clear the cookie."""
    try:
        access, _ = await _session(request, core)
    except LoginRequiredError:
        pass
    else:
        await core.accounts.logout(access)
    end_session(request)


async def _viewer(request: Request, core: ResentryDep) -> Viewer:
    _, user = await _session(request, core)
    return _seen(request, user)


def _seen(request: Request, user: User) -> Viewer:
    request.state.viewer = viewer = Viewer(user)
    return viewer


SignedIn = Annotated[Viewer, Depends(_viewer)]


async def _admin(viewer: SignedIn) -> Viewer:
    if not viewer.user.is_admin:
        raise PermissionDeniedError("only an admin may see or change this")
    return viewer


AdminViewer = Annotated[Viewer, Depends(_admin)]


async def _project(project_id: RowId, viewer: SignedIn, core: ResentryDep) -> Project:
    user = viewer.user
    if not user.is_admin and not await core.storage.is_member(project_id, user.id):
        raise NotFoundError(f"project {project_id} not found")
    return await core.storage.get_project(project_id)


VisibleProject = Annotated[Project, Depends(_project)]


def apply_cookies(request: Request, response: Response, *, secure: bool) -> None:
    """Set or clear the cookies the request's handling asked for."""
    path = request.scope.get("root_path", "") or "/"
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce:
        response.set_cookie(
            CSRF_COOKIE, nonce, path=path, httponly=True, samesite="strict", secure=secure
        )
    value = getattr(request.state, "session_value", None)
    if value == "":
        response.delete_cookie(SESSION_COOKIE, path=path, httponly=True, samesite="lax")
    elif value is not None:
        response.set_cookie(
            SESSION_COOKIE, value, path=path, httponly=True, samesite="lax", secure=secure
        )


def login_url(request: Request) -> str:
    """The login page, coming back to the current page afterwards."""
    prefix = request.scope.get("root_path", "")
    here = prefix + route_path(request.scope)
    if request.url.query:
        here += "?" + request.url.query
    return f"{prefix}/login?next={quote(here, safe='/')}"


def safe_next(request: Request, target: str | None) -> str:
    """``target`` when it is a path of this app, else the projects page (no open redirect)."""
    prefix: str = request.scope.get("root_path", "")
    if (
        target
        and target.startswith((prefix + "/") if prefix else "/")
        and not target.startswith("//")
        and "\\" not in target
    ):
        return target
    return prefix + "/"
