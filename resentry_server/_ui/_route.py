"""The route class of every UI page: HTML errors, login redirects, cookies, security headers."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.responses import Response

from resentry_core import RateLimitedError, ResentryError
from resentry_server._errors import status_for
from resentry_server._settings import Settings
from resentry_server._ui._render import SECURITY_HEADERS, render
from resentry_server._ui._session import CsrfError, LoginRequiredError, apply_cookies, login_url


class UiRoute(APIRoute):
    """An ``APIRoute`` whose errors are HTML pages and whose answers carry the UI's headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler: map errors, set cookies, add the security headers."""
        handle = super().get_route_handler()

        async def ui_handler(request: Request) -> Response:
            try:
                response = await handle(request)
            except LoginRequiredError:
                response = RedirectResponse(login_url(request), status_code=303)
            except CsrfError as exc:
                response = _error(request, 403, str(exc))
            except RequestValidationError as exc:
                detail = "; ".join(
                    f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                    for error in exc.errors()
                )
                response = _error(request, 422, detail)
            except ResentryError as exc:
                response = _error(request, status_for(exc), str(exc))
                if isinstance(exc, RateLimitedError):
                    response.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
            settings: Settings = request.app.state.settings
            secure = (settings.public_url or str(request.base_url)).startswith("https:")
            apply_cookies(request, response, secure=secure)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return ui_handler


def _error(request: Request, status: int, detail: str) -> Response:
    return render(request, "error.html", {"status": status, "detail": detail}, status=status)
