"""The client's errors: one root, one class per HTTP status family, transport failures.

::

    ResentryClientError                 misuse or missing configuration (no URL, no token)
     └─ APIError                        .method, .url: a request went wrong
         ├─ APIStatusError              .status_code, .detail, .response: the server said no
         │   ├─ BadRequestError         400
         │   │   └─ UnprocessableEntityError  422; .errors: the server's validation list
         │   ├─ AuthenticationError     401
         │   ├─ PermissionDeniedError   403
         │   ├─ NotFoundError           404
         │   ├─ ConflictError           409
         │   ├─ RateLimitError          429; .retry_after seconds (None when not given)
         │   └─ InternalServerError     5xx
         ├─ APIConnectionError          no answer: refused, reset, DNS, TLS
         │   └─ APITimeoutError         no answer in time
         └─ APIResponseValidationError  an answer that does not have the documented shape

Other 4xx statuses raise :class:`APIStatusError` itself.
"""

from typing import Any

import httpx


class ResentryClientError(Exception):
    """The root of every error the client raises."""


class APIError(ResentryClientError):
    """A request failed; ``method`` and ``url`` say which."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url


class APIStatusError(APIError):
    """The server answered with an error status.

    Attributes:
        status_code: the HTTP status.
        detail: the server's ``detail`` (a string, or a list of validation errors for 422).
        response: the response (its body already read).
    """

    def __init__(self, response: httpx.Response, detail: Any) -> None:
        text = detail if isinstance(detail, str) else _summarize(detail)
        request = response.request
        super().__init__(
            f"{response.status_code} {text}", method=request.method, url=str(request.url)
        )
        self.status_code = response.status_code
        self.detail = detail
        self.response = response


class BadRequestError(APIStatusError):
    """400: the request was malformed."""


class UnprocessableEntityError(BadRequestError):
    """422: a parameter or a body field was invalid; ``errors`` is the server's list."""

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The validation errors (``loc``, ``msg``, ``type``), empty when ``detail`` is text."""
        if isinstance(self.detail, list):
            return [e for e in self.detail if isinstance(e, dict)]
        return []


class AuthenticationError(APIStatusError):
    """401: no token, a wrong password, or an expired or invalid token."""


class PermissionDeniedError(APIStatusError):
    """403: authenticated, but not allowed to do this."""


class NotFoundError(APIStatusError):
    """404: no such object, or one the caller may not see."""


class ConflictError(APIStatusError):
    """409: a name is taken, or the change would leave no active admin."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is how many seconds to wait, when the server
    said."""

    def __init__(self, response: httpx.Response, detail: Any) -> None:
        super().__init__(response, detail)
        self.retry_after = parse_retry_after(response.headers.get("retry-after"))


class InternalServerError(APIStatusError):
    """5xx: the server failed or is unavailable."""


class APIConnectionError(APIError):
    """The server could not be reached or dropped the connection."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout."""


class APIResponseValidationError(APIError):
    """The server's answer does not have the shape the API documents."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_for_response(response: httpx.Response) -> APIStatusError:
    """The error for an error response whose body has been read."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail: Any = body.get("detail") if isinstance(body, dict) else None
    if detail is None:
        detail = response.text.strip()[:200] or response.reason_phrase
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = InternalServerError if response.status_code >= 500 else APIStatusError
    return cls(response, detail)


def error_for_transport(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    """The error for a request that got no answer."""
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    reason = str(exc) or type(exc).__name__
    what = "timed out" if cls is APITimeoutError else "failed"
    return cls(
        f"{request.method} {request.url} {what}: {reason}",
        method=request.method,
        url=str(request.url),
    )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds; None when absent or a date."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(seconds, 0.0) if seconds == seconds else None  # NaN is no answer


def _summarize(detail: Any) -> str:
    # "body.name: String should have at least 1 character; query.limit: ..."
    if isinstance(detail, list):
        parts = []
        for error in detail:
            if isinstance(error, dict):
                loc = ".".join(str(p) for p in error.get("loc", ()))
                parts.append(f"{loc}: {error.get('msg', '')}" if loc else str(error.get("msg")))
        if parts:
            return "; ".join(parts)
    return str(detail)
