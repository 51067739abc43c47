"""The management API's routers, in the order ``create_app`` includes them.

``events`` comes before ``projects``: its ``/api/v1/projects/events`` must match before
``/api/v1/projects/{project_id}`` would take ``events`` for a project id.
"""

from fastapi import APIRouter

from resentry_server._routes import auth, data, events, issues, notifications, projects, users

MANAGEMENT_ROUTERS: list[APIRouter] = [
    auth.router,
    users.router,
    events.router,
    projects.router,
    issues.router,
    data.router,
    notifications.router,
]

__all__ = ["MANAGEMENT_ROUTERS"]
