"""Projects: the rules a project's settings follow, applied before storage writes them."""

from collections.abc import Sequence

from resentry_core._models import Project
from resentry_core._rules import check_positive, check_project_name, project_slug
from resentry_core._storage._protocol import ProjectStore
from resentry_core._storage._values import UNSET, Unset


class Projects:
    """Creates and changes projects, checking their settings first.

    A new setting of a project is checked here, stored by the backend
    (``ProjectStore.create_project``/``update_project``), and shown by ``Project``.
    """

    def __init__(self, store: ProjectStore) -> None:
        self._store = store

    async def create_project(
        self,
        name: str,
        *,
        slug: str | None = None,
        allowed_origins: Sequence[str] = (),
        rate_limit_per_minute: int | None = None,
        retention_days: int | None = None,
    ) -> Project:
        """Create a project with one active key labelled ``Default``.

        The slug defaults to the name, and a given slug is normalized the same way: accents
        folded to ASCII, lower-cased, each run of other characters turned into one ``-``,
        ``-`` trimmed at both ends (``"Café Web-App!"`` -> ``"cafe-web-app"``). A name with
        nothing left gets the slug ``project``.

        Raises:
            ConflictError: the slug is taken.
            InvalidInputError: the name is blank, a given slug normalizes to nothing, or a rate
                limit or retention is not positive.
        """
        check_project_name(name)
        _check_limits(rate_limit_per_minute, retention_days)
        return await self._store.create_project(
            name,
            slug=project_slug(name, slug),
            allowed_origins=allowed_origins,
            rate_limit_per_minute=rate_limit_per_minute,
            retention_days=retention_days,
        )

    async def update_project(
        self,
        project_id: int,
        *,
        name: str | Unset = UNSET,
        allowed_origins: Sequence[str] | Unset = UNSET,
        rate_limit_per_minute: int | Unset | None = UNSET,
        retention_days: int | Unset | None = UNSET,
    ) -> Project:
        """Change the fields given (:data:`UNSET`: unchanged); the slug never changes.

        ``None`` clears a limit: no rate limit, or events kept forever.

        Raises:
            NotFoundError: no such project.
            InvalidInputError: as for :meth:`create_project`.
        """
        if name is not UNSET:
            check_project_name(name)
        _check_limits(
            None if rate_limit_per_minute is UNSET else rate_limit_per_minute,
            None if retention_days is UNSET else retention_days,
        )
        return await self._store.update_project(
            project_id,
            name=name,
            allowed_origins=allowed_origins,
            rate_limit_per_minute=rate_limit_per_minute,
            retention_days=retention_days,
        )


def _check_limits(rate_limit_per_minute: int | None, retention_days: int | None) -> None:
    check_positive(rate_limit_per_minute, "rate_limit_per_minute")
    check_positive(retention_days, "retention_days")
