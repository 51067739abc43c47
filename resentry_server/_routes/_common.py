"""What the management routes share: path and paging parameters, error docs, and downloads."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, Path, Query, Response

from resentry_core import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, InvalidInputError, Page
from resentry_server._schemas import ErrorOut, ValidationErrorOut

T = TypeVar("T")

MAX_CURSOR_CHARS = 512

_HEX = "[0-9a-fA-F]"
EVENT_ID_PATTERN = (
    rf"^(?:{_HEX}{{32}}|{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}})$"
)


async def _event_id(
    event_id: Annotated[
        str,
        Path(
            pattern=EVENT_ID_PATTERN,
            description="32 hex digits, or a dashed UUID; either case",
        ),
    ],
) -> str:
    return event_id.replace("-", "").lower()


EventIdPath = Annotated[str, Depends(_event_id)]
"""An event id from the path, normalized to 32 lowercase hex."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PageParams:
    """Which page of a list to answer."""

    cursor: str | None
    limit: int


async def _page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page (at most 500)")
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(max_length=MAX_CURSOR_CHARS, description="`next_cursor` of the previous page"),
    ] = None,
) -> PageParams:
    return PageParams(cursor=cursor or None, limit=limit)  # "?cursor=": the first page


PageDep = Annotated[PageParams, Depends(_page_params)]
"""``?limit=`` and ``?cursor=`` of a list."""

_OFFSET_CURSOR = re.compile(r"o([0-9]{1,9})")


def page_of(items: Sequence[T], params: PageParams) -> Page[T]:
    """Page a short list that storage returns whole (users, keys, members, monitors, ...).

    Raises:
        InvalidInputError: the cursor was not made by this function.
    """
    start = 0
    if params.cursor is not None:
        match = _OFFSET_CURSOR.fullmatch(params.cursor)
        if match is None:
            raise InvalidInputError("malformed cursor, or a cursor of another list")
        start = int(match[1])
    end = start + params.limit
    return Page(items=items[start:end], next_cursor=f"o{end}" if end < len(items) else None)


_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Missing, invalid or expired access token (or bad credentials)",
    403: "Authenticated, but this needs an admin",
    404: "No such object, or not visible to the caller",
    409: "Conflicts with existing data (a taken name, or the last admin)",
    422: "Invalid parameters or body",
    429: "Too many failed logins; retry after `Retry-After` seconds",
    503: "Storage unavailable",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route can answer (with 422 and 503)."""
    return {
        code: {
            "model": ValidationErrorOut if code == 422 else ErrorOut,
            "description": _DESCRIPTIONS[code],
        }
        for code in sorted({*codes, 422, 503})
    }


def download_responses(media_type: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a :func:`download` route of a project."""
    content = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    return {200: {"content": content, "description": "The stored bytes"}, **errors(401, 404)}


# A media type we can echo in a header as is: type/subtype with optional parameters.
_TCHARS = r"[A-Za-z0-9!#$&^_.+-]+"
_MEDIA_TYPE = re.compile(
    rf'{_TCHARS}/{_TCHARS}(?:\s*;\s*{_TCHARS}=(?:{_TCHARS}|"[^"\\\x00-\x1f\x7f]*"))*'
)
OCTET_STREAM = "application/octet-stream"
_MAX_FILENAME_CHARS = 200


def download(
    data: bytes, *, media_type: str, filename: str, content_encoding: str | None = None
) -> Response:
    """Answer stored bytes as a file download.

    The bytes go out exactly as stored; an SDK-supplied media type is kept when well formed
    (else ``application/octet-stream``). ``Content-Disposition: attachment``, ``nosniff`` and a
    sandboxing CSP keep a browser from rendering an uploaded HTML file in the API's origin.
    """
    headers = {
        "content-type": media_type if _MEDIA_TYPE.fullmatch(media_type) else OCTET_STREAM,
        "content-disposition": content_disposition(filename),
        "x-content-type-options": "nosniff",
        "content-security-policy": "sandbox",
    }
    if content_encoding is not None:
        headers["content-encoding"] = content_encoding
    return Response(content=data, headers=headers)


def content_disposition(filename: str) -> str:
    """``attachment`` with a safe filename: no directories, quotes or control characters.

    Non-ASCII names go in ``filename*`` (RFC 6266), with an ASCII fallback in ``filename``.
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c != '"').strip(" .")
    name = name[:_MAX_FILENAME_CHARS] or "download"
    fallback = name.encode("ascii", "replace").decode("ascii").replace("?", "_")
    encoded = quote(name.encode("utf-8", "replace"), safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
