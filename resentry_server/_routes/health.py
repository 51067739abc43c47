"""``GET /health/``: liveness plus a database round trip."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from resentry_server._deps import ResentryDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The server is up and its database answers."""

    status: Literal["ok"] = "ok"
    database: Literal["ok"] = "ok"


@router.get(
    "/health/",
    summary="Liveness and database check",
    responses={503: {"description": "The database does not answer."}},
)
async def health(resentry: ResentryDep) -> Health:
    """Answer 200 when the database answers a ping, 503 (``{"detail": ...}``) when it does not."""
    await resentry.storage.ping()
    return Health()
