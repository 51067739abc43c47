"""Reading a request body with a hard cap, so that no request costs much more than its limit."""

from contextlib import aclosing

from fastapi import Request
from starlette.requests import ClientDisconnect

from resentry_core import BadRequestError, PayloadTooLargeError


async def read_body(request: Request, max_bytes: int) -> bytes:
    """Read the whole body, refusing it as soon as it is known to exceed ``max_bytes``.

    A declared ``Content-Length`` over the cap is refused before anything is read; a body
    without one (chunked) is refused as soon as it passes the cap, so at most ``max_bytes``
    plus one received chunk is ever buffered.

    Raises:
        PayloadTooLargeError: the body is (or says it is) larger than ``max_bytes``.
        BadRequestError: ``Content-Length`` is not a number, or the client went away.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise BadRequestError(f"invalid Content-Length header {declared!r}") from None
        if length > max_bytes:
            raise _too_large(max_bytes, f"the request body is {length} bytes")
    buffer = bytearray()
    try:
        async with aclosing(request.stream()) as stream:
            async for chunk in stream:
                buffer += chunk
                if len(buffer) > max_bytes:
                    raise _too_large(max_bytes, "the request body")
    except ClientDisconnect:
        raise BadRequestError("the client disconnected before sending the whole body") from None
    return bytes(buffer)


def _too_large(max_bytes: int, what: str) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"{what} exceeds the limit of {max_bytes} bytes",
        limit_name="max_request_bytes",
        limit=max_bytes,
    )
