"""Web UI issue pages: the list with filters, sorts, pages and bulk actions; the issue page
with its event; downloads; security headers; hostile event data."""

import re
import uuid
from typing import Any

import httpx

from resentry_core._models import Project, User
from resentry_core._resentry import Resentry
from tests import factories as f
from tests.server.api_helpers import ingest, send_error
from tests.server.conftest import ADMIN_PASSWORD
from tests.server.ui.helpers import post_form, sign_in


async def _issue_id(core: Resentry, project: Project, title_part: str) -> int:
    page = await core.storage.list_issues(project.id, limit=100)
    return next(issue.id for issue in page.items if title_part in issue.title)


async def test_list_filters_sorts_and_searches(
    browser: httpx.AsyncClient, project: Project
) -> None:
    """Search, level, environment and release filters narrow the list; sorts are offered."""
    await send_error(browser, project, exc_type="KeyError", value="'cart'")
    await send_error(browser, project, exc_type="ValueError", level="warning", environment="dev")
    await send_error(browser, project, exc_type="TypeError", release="shop@2.0.0")
    base = f"/projects/{project.id}/"
    every = (await browser.get(base)).text
    assert all(name in every for name in ("KeyError", "ValueError", "TypeError"))
    assert 'class="spark"' in every

    async def titles(**params: str) -> set[str]:
        html = (await browser.get(base, params=params)).text
        return {name for name in ("KeyError", "ValueError", "TypeError") if name in html}

    assert await titles(q="keyerr") == {"KeyError"}
    assert await titles(level="warning") == {"ValueError"}
    assert await titles(environment="dev") == {"ValueError"}
    assert await titles(release="shop@2.0.0") == {"TypeError"}
    assert await titles(sort="times_seen") == {"KeyError", "ValueError", "TypeError"}
    assert await titles(status="resolved") == set()
    bad = await browser.get(base, params={"sort": "title"})
    assert bad.status_code == 422
    assert "sort" in bad.text


async def test_cursor_pages_walk_every_issue(
    browser: httpx.AsyncClient, project: Project, core: Resentry
) -> None:
    """Next-page links walk all issues, 50 a page, each once."""
    for n in range(55):
        await send_error(browser, project, exc_type=f"Error{n:02d}")
    first = (await browser.get(f"/projects/{project.id}/")).text
    assert first.count('name="issue"') == 50
    match = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert match is not None
    second = (await browser.get(match.group(1).replace("&amp;", "&"))).text
    assert second.count('name="issue"') == 5
    assert 'rel="next"' not in second
    assert "First page" in second


async def test_bulk_resolve_and_reopen(
    browser: httpx.AsyncClient, project: Project, core: Resentry
) -> None:
    """Checked issues are resolved in one action and then listed under "resolved"."""
    await send_error(browser, project, exc_type="KeyError")
    await send_error(browser, project, exc_type="TypeError")
    keep = await _issue_id(core, project, "TypeError")
    done = await _issue_id(core, project, "KeyError")
    base = f"/projects/{project.id}/"
    response = await post_form(
        browser,
        base,
        f"/projects/{project.id}/issues/bulk",
        {"status": "resolved", "issue": [str(done)], "back": base},
    )
    assert response.status_code == 303
    assert response.headers["location"] == base
    assert (await core.storage.get_issue(project.id, done)).status == "resolved"
    assert (await core.storage.get_issue(project.id, keep)).status == "unresolved"
    resolved = (await browser.get(base, params={"status": "resolved"})).text
    assert "KeyError" in resolved
    assert "TypeError" not in resolved
    bad = await post_form(
        browser, base, f"/projects/{project.id}/issues/bulk", {"status": "closed", "issue": []}
    )
    assert bad.status_code == 422


async def test_issue_page_shows_the_event(
    browser: httpx.AsyncClient, project: Project, core: Resentry
) -> None:
    """The issue page shows counts, tags, the exception with the in-app frame open on its
    context line and variables, breadcrumbs, masked request headers, user, contexts, SDK,
    and the attachment with a download link."""
    event_id = uuid.uuid4().hex
    event = f.error_event(
        local_vars={"code": "'SPRING24'"},
        extra={
            "request": {
                "method": "POST",
                "url": "https://shop.example.com/cart",
                "headers": {"Cookie": "session=secret1", "Authorization": "Bearer secret2"},
            },
            "contexts": {"os": {"name": "Linux", "version": "6.1"}},
        },
    )
    body = f.envelope(
        [
            f.item("event", event),
            f.item("attachment", b"hello log", filename="app.log", content_type="text/plain"),
        ],
        event_id=event_id,
    )
    await ingest(browser, project, body)
    issue_id = await _issue_id(core, project, "ValueError")
    page = await browser.get(f"/projects/{project.id}/issues/{issue_id}/")
    assert page.status_code == 200
    html = page.text
    assert "invalid literal for int() with base 10: &#39;abc&#39;" in html
    assert '<tr class="current"><th scope="row">42</th><td><pre>    total = int(code)</pre>' in html
    assert "&#39;SPRING24&#39;" in html
    assert '<li class="frame in-app">\n    <details open>' in html
    assert "library" in html  # the Django frame is folded
    assert "GET /cart/4" in html
    assert "secret1" not in html and "secret2" not in html
    assert html.count("[masked]") == 2
    assert "jane@example.com" in html
    assert "Linux" in html and "6.1" in html
    assert "sentry.python" in html
    assert "web-1" in html  # server_name, promoted to a tag
    assert "shop@1.0.0" in html
    link = re.search(r'href="(/projects/\d+/attachments/\d+)" download>app.log', html)
    assert link is not None
    download = await browser.get(link.group(1))
    assert download.content == b"hello log"
    assert download.headers["content-disposition"].startswith('attachment; filename="app.log"')
    assert download.headers["content-type"] == "application/octet-stream"
    raw = await browser.get(f"/projects/{project.id}/events/{event_id}.json")
    assert raw.json()["server_name"] == "web-1"
    envelope = re.search(r'href="(/projects/\d+/envelopes/\d+)"', html)
    assert envelope is not None
    assert (await browser.get(envelope.group(1))).content == body


async def test_older_and_newer_events(
    browser: httpx.AsyncClient, project: Project, core: Resentry
) -> None:
    """The issue page walks the issue's events: latest first, then older and back."""
    ids = [await send_error(browser, project, local_vars={"n": str(n)}) for n in range(3)]
    issue_id = await _issue_id(core, project, "ValueError")
    base = f"/projects/{project.id}/issues/{issue_id}/"
    latest = (await browser.get(base)).text
    assert ids[2] in latest
    assert f"?event={ids[1]}" in latest
    middle = (await browser.get(base, params={"event": ids[1]})).text
    assert f"?event={ids[0]}" in middle and f"?event={ids[2]}" in middle
    other = await send_error(browser, project, exc_type="KeyError")
    assert (await browser.get(base, params={"event": other})).status_code == 404


async def test_issue_status_actions(
    browser: httpx.AsyncClient, project: Project, core: Resentry
) -> None:
    """Resolve, ignore and reopen from the issue page."""
    await send_error(browser, project)
    issue_id = await _issue_id(core, project, "ValueError")
    page = f"/projects/{project.id}/issues/{issue_id}/"
    action = f"/projects/{project.id}/issues/{issue_id}/status"
    for status in ("resolved", "ignored", "unresolved"):
        response = await post_form(browser, page, action, {"status": status})
        assert response.status_code == 303
        assert (await core.storage.get_issue(project.id, issue_id)).status == status


async def test_pages_carry_security_headers(browser: httpx.AsyncClient, project: Project) -> None:
    """Every page forbids scripts, framing and sniffing."""
    for path in ("/", f"/projects/{project.id}/", "/login", "/projects/999/"):
        headers = (await browser.get(path)).headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp  # falls back to default-src 'none': no script at all
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


HOSTILE: dict[str, Any] = {
    "message": "<script>alert('message')</script>",
    "exception": {
        "values": [
            {
                "type": "<img src=x onerror=alert('type')>",
                "value": "<script>alert('value')</script>",
                "stacktrace": {
                    "frames": [
                        {
                            "filename": "<b>file</b>.py",
                            "function": "<svg onload=alert(1)>",
                            "lineno": 3,
                            "context_line": "<script>alert('line')</script>",
                            "vars": {"<x>": "<script>alert('var')</script>"},
                            "in_app": True,
                        }
                    ]
                },
            }
        ]
    },
    "request": {"url": "javascript:alert('url')", "headers": {"Referer": "data:text/html,x"}},
    "tags": {"evil": "<script>alert('tag')</script>"},
    "user": {"email": "<img src=x onerror=alert('user')>"},
    "breadcrumbs": [{"message": "<script>alert('crumb')</script>", "category": "<i>"}],
}


async def test_hostile_event_is_shown_as_text(
    browser: httpx.AsyncClient, project: Project, core: Resentry
) -> None:
    """Markup in every field comes out escaped, and no javascript: URL becomes a link."""
    await ingest(
        browser, project, f.envelope([f.item("event", HOSTILE)], event_id=uuid.uuid4().hex)
    )
    issue_id = (await core.storage.list_issues(project.id)).items[0].id
    listing = (await browser.get(f"/projects/{project.id}/")).text
    detail = (await browser.get(f"/projects/{project.id}/issues/{issue_id}/")).text
    for html in (listing, detail):
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<svg onload" not in html
    assert "&lt;script&gt;alert(&#39;value&#39;)&lt;/script&gt;" in detail
    assert "&lt;img src=x onerror=alert(&#39;type&#39;)&gt;" in detail
    assert "javascript:alert(&#39;url&#39;)" in detail  # shown as text...
    assert 'href="javascript:' not in detail  # ...never as a link
    assert "<script" not in detail.replace("&lt;script", "")


async def test_mounted_under_a_prefix(core: Resentry, tmp_path: Any, admin: User) -> None:
    """Under a mount prefix every link, form action, redirect and asset carries the prefix."""
    from fastapi import FastAPI

    from resentry_server._app import create_app
    from tests.server.conftest import settings_for

    project = await core.projects.create_project("Mounted")
    resentry = create_app(settings_for(tmp_path), core=core)
    host = FastAPI()
    host.mount("/errors", resentry)
    async with (
        resentry.router.lifespan_context(resentry),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=host), base_url="http://host") as http,
    ):
        redirect = await http.get("/errors/")
        assert redirect.headers["location"] == "/errors/login?next=/errors/"
        signed = await sign_in(http, "admin", ADMIN_PASSWORD, prefix="/errors")
        assert signed.headers["location"] == "/errors/"
        assert "Path=/errors" in signed.headers["set-cookie"]
        page = (await http.get("/errors/")).text
        links = re.findall(r'(?:href|action)="([^"]+)"', page)
        assert links
        assert all(link.startswith("/errors/") for link in links), links
        assert (await http.get("/errors/static/style.css")).status_code == 200
        issues = (await http.get(f"/errors/projects/{project.id}/")).text
        links = re.findall(r'(?:href|action)="([^"]+)"', issues)
        assert all(link.startswith("/errors/") for link in links), links
        assert f"http://{project.keys[0].public_key}@host/errors/{project.id}" in page
