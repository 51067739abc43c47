"""The errors raised by ``resentry_core``.

Every error is a :class:`ResentryError`. The tree, with the HTTP status the server maps
each one to (the core itself knows nothing of HTTP)::

    ResentryError
     ├─ BadRequestError              malformed request input                         -> 400
     │   ├─ EnvelopeError            malformed envelope, header line, item or JSON     -> 400
     │   │   ├─ PayloadTooLargeError a size or count limit exceeded                    -> 413
     │   │   └─ JsonDecodeError      a payload that is not JSON (also a ValueError)    -> 400
     │   └─ InvalidAuthError         malformed Sentry key or unsupported sentry_version -> 400
     ├─ UnsupportedEncodingError     unknown Content-Encoding                          -> 415
     ├─ AuthenticationError          missing/multiple Sentry auth, bad password or JWT -> 401
     ├─ PermissionDeniedError        unknown, revoked or other project's key; no right -> 403
     ├─ NotFoundError                missing project, issue, event, user               -> 404
     ├─ ConflictError                duplicate username, slug or key                   -> 409
     ├─ InvalidInputError            bad caller value (password > 72 bytes, bad DSN)   -> 422
     ├─ RateLimitedError             ``retry_after`` seconds                           -> 429
     ├─ StorageError                 backend unavailable or failed                     -> 503
     └─ DeliveryError                a notifier failed; ``permanent``, ``retry_after``  -> 502

``DeliveryError`` lives with the :class:`~resentry_core.Notifier` protocol in ``_notify``.
"""


class ResentryError(Exception):
    """Base class of every error raised by ``resentry_core``."""


class BadRequestError(ResentryError):
    """The caller sent malformed input."""


class EnvelopeError(BadRequestError):
    """A malformed envelope, item, JSON payload or compressed body.

    Attributes:
        offset: byte offset in the (decompressed) body where the problem was found, if known.
        item_index: zero-based index of the item concerned, if any.
    """

    def __init__(
        self, message: str, *, offset: int | None = None, item_index: int | None = None
    ) -> None:
        where = []
        if item_index is not None:
            where.append(f"item {item_index}")
        if offset is not None:
            where.append(f"byte {offset}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)
        self.offset = offset
        self.item_index = item_index


class PayloadTooLargeError(EnvelopeError):
    """A size or count limit was exceeded, before or after decompression.

    Attributes:
        limit_name: name of the :class:`~resentry_core.Limits` field that was exceeded.
        limit: the value of that limit (bytes or a count).
        item_type: the item type concerned, if the limit is per item type.
    """

    def __init__(
        self,
        message: str,
        *,
        limit_name: str,
        limit: int,
        item_type: str | None = None,
        offset: int | None = None,
        item_index: int | None = None,
    ) -> None:
        super().__init__(message, offset=offset, item_index=item_index)
        self.limit_name = limit_name
        self.limit = limit
        self.item_type = item_type


class JsonDecodeError(EnvelopeError, ValueError):
    """The bytes are not a JSON document (``Item.json()``, ``parse_json``).

    Also a :class:`ValueError`, as :class:`json.JSONDecodeError` is.
    """


class InvalidAuthError(BadRequestError):
    """Sentry auth was present but malformed: bad key format or unsupported protocol version."""


class UnsupportedEncodingError(ResentryError):
    """The request declared a Content-Encoding that Resentry cannot decode.

    Attributes:
        encoding: the offending label as received.
    """

    def __init__(self, encoding: str) -> None:
        super().__init__(f"unsupported Content-Encoding {encoding!r}")
        self.encoding = encoding


class AuthenticationError(ResentryError):
    """Credentials are missing, ambiguous or wrong."""


class PermissionDeniedError(ResentryError):
    """The caller is authenticated but not allowed to do this."""


class NotFoundError(ResentryError):
    """The requested object does not exist (or is not visible to the caller)."""


class ConflictError(ResentryError):
    """The object would clash with an existing one."""


class InvalidInputError(ResentryError, ValueError):
    """A value passed by the caller is not acceptable."""


class RateLimitedError(ResentryError):
    """Too many requests.

    Attributes:
        retry_after: seconds until the caller may try again.
        categories: Sentry data categories concerned (empty means all).
    """

    def __init__(
        self, message: str, *, retry_after: float, categories: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.categories = categories


class StorageError(ResentryError):
    """The storage backend is unavailable or failed."""
