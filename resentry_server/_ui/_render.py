"""Templates (Jinja2, autoescaped), the filters they use, and the UI's answers.

Everything an event carries is hostile text: templates only ever print it escaped, and links
made from it go through :func:`safe_href`, which lets only ``http``/``https`` through.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from resentry_server._ui._session import csrf_token

HERE: Final = Path(__file__).parent

# Answers of every UI page: no script, no framing, no plugins, forms only to this origin.
SECURITY_HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def relative_time(moment: datetime | None, now: datetime | None = None) -> str:
    """``moment`` as "5 minutes ago" (or "in 5 minutes")."""
    if moment is None:
        return "never"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    ahead, seconds = seconds < 0, abs(seconds)
    for size, unit in ((86400 * 365, "year"), (86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            break
    else:
        return "just now"
    return f"in {text}" if ahead else f"{text} ago"


def sparkline(counts: Sequence[int], *, width: int = 120, height: int = 24) -> Markup:
    """An inline SVG bar chart of ``counts`` (numbers only: nothing to escape)."""
    if not counts:
        return Markup()
    peak = max(counts) or 1
    bar = width / len(counts)
    bars = "".join(
        f'<rect x="{index * bar:.1f}" y="{height - max(1.0, value / peak * height):.1f}" '
        f'width="{max(bar - 1, 1):.1f}" height="{max(1.0, value / peak * height):.1f}"'
        f"{'' if value else ' class=zero'}><title>{int(value)}</title></rect>"
        for index, value in enumerate(counts)
    )
    label = f"{sum(counts)} events"
    # Only numbers and fixed text go into this markup.
    return Markup(  # noqa: S704
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{label}">{bars}</svg>'
    )


def safe_href(value: object) -> str | None:
    """``value`` when it is an ``http(s)`` URL, else ``None`` (no ``javascript:``/``data:``)."""
    if not isinstance(value, str):
        return None
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        return None
    return value if scheme in ("http", "https") and not any(c < " " for c in value) else None


def file_size(size: int) -> str:
    """A byte count for people: ``1.5 KB``."""
    amount = float(size)
    for unit in ("B", "KB", "MB"):
        if amount < 1024:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GB"


_environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters.update(
    reltime=relative_time, sparkline=sparkline, safe_href=safe_href, filesize=file_size
)


@cache
def _path_formats() -> dict[str, str]:
    # Starlette's url_path_for walks every route on each call (about 2 ms here); a page has
    # dozens of links, so the UI formats its own routes' paths from a table built once.
    from resentry_server._ui import UI_ROUTERS

    return {
        route.name: route.path_format
        for router in UI_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
    }


def page_url(
    request: Request, name: str, query: Mapping[str, object] | None = None, **params: object
) -> str:
    """The path of the UI route ``name``, with the mount prefix and an optional query."""
    prefix: str = request.scope.get("root_path", "")
    values = {key: quote(str(value), safe="") for key, value in params.items()}
    path = prefix + _path_formats()[name].format(**values)
    kept = {key: value for key, value in (query or {}).items() if value not in (None, "")}
    return path + ("?" + urlencode(kept) if kept else "")


def render(
    request: Request, template: str, context: Mapping[str, Any], *, status: int = 200
) -> HTMLResponse:
    """Render ``template`` with ``context`` plus ``url``, ``csrf_token``, ``viewer``."""
    values = {
        "request": request,
        "url": lambda name, query=None, **params: page_url(request, name, query, **params),
        "csrf_token": csrf_token(request),
        "viewer": getattr(request.state, "viewer", None),
        "now": datetime.now(UTC),
        **context,
    }
    body = _environment.get_template(template).render(values)
    return HTMLResponse(body, status_code=status)
