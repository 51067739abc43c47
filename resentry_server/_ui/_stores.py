"""The core's read models the UI needs beyond ``Storage``."""

from resentry_core import InsightStore, Resentry, StorageError


def insights(core: Resentry) -> InsightStore:
    """The core's storage as an :class:`InsightStore`. Raises StorageError when it is not one."""
    store = core.storage
    if not isinstance(store, InsightStore):
        raise StorageError("the web UI needs SQL storage (SQLite or PostgreSQL)")
    return store
