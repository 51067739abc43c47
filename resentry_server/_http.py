"""An HTTP/1.1 protocol for uvicorn that caps the request line and headers (431).

uvicorn's httptools parser buffers a request's headers without limit: a 50 MB header was
read whole and answered 200. :class:`HttpProtocol` is uvicorn's httptools protocol that counts
what arrives before the end of the headers and, once that passes
``RESENTRY_MAX_REQUEST_HEADER_BYTES`` (default 32 KiB), answers ``431 Request Header Fields Too
Large`` (RFC 6585 §5) and closes the connection: at most one socket read (64 KiB) past the cap
is ever buffered. ``resentry serve`` uses it; with uvicorn itself, pass
``--http resentry_server:HttpProtocol``.
"""

from functools import cache
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from resentry_server._settings import Settings

_DETAIL: Final = (
    b'{"detail":"the request line and headers are larger than the server accepts '
    b'(RESENTRY_MAX_REQUEST_HEADER_BYTES)"}'
)
_RESPONSE: Final = b"".join(
    [
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        b"content-type: application/json\r\n",
        b"content-length: " + str(len(_DETAIL)).encode() + b"\r\n",
        b"connection: close\r\n\r\n",
        _DETAIL,
    ]
)


@cache
def max_request_header_bytes() -> int:
    """The cap from the settings (``RESENTRY_*`` and ``.env``), read once per process."""
    return Settings().max_request_header_bytes


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering 431 once a request's head passes the cap.

    Bytes are counted from the end of the previous request until the parser has read the
    whole head, so a request's body never counts. A read that also ends a pipelined request
    is not counted.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit = max_request_header_bytes()
        self._in_head = True
        self._head_bytes = 0
        self._completed = False

    def data_received(self, data: bytes) -> None:
        """Feed the parser, then refuse the request if its unfinished head is over the cap."""
        if self._head_bytes > self._limit:
            return  # refused; the connection is closing
        self._completed = False
        super().data_received(data)
        if self._in_head and not self._completed:
            self._head_bytes += len(data)
            if self._head_bytes > self._limit:
                self.logger.warning("Request head over %d bytes: 431", self._limit)
                self.transport.write(_RESPONSE)
                self.transport.close()

    def on_headers_complete(self) -> None:
        """The head is complete: stop counting."""
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The request is complete: count the next one's head from zero."""
        self._in_head, self._head_bytes, self._completed = True, 0, True
        super().on_message_complete()
