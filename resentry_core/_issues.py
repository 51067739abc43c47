"""Issues: the status changes people make (ingestion's own follow ``_rules.status_after_event``)."""

from resentry_core._errors import InvalidInputError
from resentry_core._models import Issue, IssueStatus
from resentry_core._rules import check_status
from resentry_core._storage._protocol import EventStore


class Issues:
    """Resolves, ignores and reopens issues."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def set_status(self, project_id: int, issue_id: int, status: IssueStatus) -> Issue:
        """Resolve (``resolved``), ignore (``ignored``) or reopen (``unresolved``) an issue.

        Raises:
            NotFoundError: no such issue in the project (reported before a bad status).
            InvalidInputError: an unknown status.
        """
        try:
            check_status(status)
        except InvalidInputError:
            await self._store.get_issue(project_id, issue_id)
            raise
        return await self._store.set_issue_status(project_id, issue_id, status)
