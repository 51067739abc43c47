"""Reading a request body with a hard cap, so that no request costs much more than its limit."""

from starlette.types import Receive

from resentry_core import BadRequestError, PayloadTooLargeError


async def read_body(receive: Receive, content_length: bytes | None, max_bytes: int) -> bytes:
    """Read the whole body from ASGI ``receive``, refusing it once it is known to exceed the cap.

    A declared ``Content-Length`` over ``max_bytes`` is refused before anything is read; a body
    without one (chunked) is refused as soon as it passes the cap, so at most ``max_bytes``
    plus one received chunk is ever buffered. A body that arrives in one message is returned
    as is, without a copy.

    Args:
        receive: the request's ASGI ``receive``.
        content_length: the raw ``Content-Length`` header, if the request has one.
        max_bytes: the cap.

    Raises:
        PayloadTooLargeError: the body is (or says it is) larger than ``max_bytes``.
        BadRequestError: ``Content-Length`` is not a number, or the client went away.
    """
    if content_length is not None:
        try:
            length = int(content_length)
        except ValueError:
            raise BadRequestError(
                f"invalid Content-Length header {content_length.decode('latin-1')!r}"
            ) from None
        if length > max_bytes:
            raise _too_large(max_bytes, f"the request body is {length} bytes")
    chunks: list[bytes] = []
    size = 0
    more_body = True
    while more_body:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            raise BadRequestError("the client disconnected before sending the whole body")
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes, "the request body")
        chunks.append(chunk)
        more_body = message.get("more_body", False)
    return b"".join(chunks)  # one chunk: that very object, not a copy


def _too_large(max_bytes: int, what: str) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"{what} exceeds the limit of {max_bytes} bytes",
        limit_name="max_request_bytes",
        limit=max_bytes,
    )
