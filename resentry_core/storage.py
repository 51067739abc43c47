"""The storage extension point: what a storage backend implements and receives.

An application embedding Resentry needs nothing from here: :meth:`Resentry.open
<resentry_core.Resentry.open>` opens the storage that ``CoreConfig.database_url`` names, and
``resentry_core`` exports the values storage returns. A new backend implements :class:`Storage`
(the protocols it combines: :class:`IngestStore`, :class:`ProjectStore`, :class:`UserStore`,
:class:`SessionStore`, :class:`EventStore`; their docstrings are the contract) and is passed
to ``Resentry.open(config, storage=...)``. Its ``record`` method receives batches of
:class:`PreparedEnvelope`, built from the records below, and answers one :class:`Recorded` per
envelope; the ``update_*`` methods take :data:`UNSET` for fields to leave as they are, and
``update_user``/``delete_user`` an :data:`AdminCheck` to call inside their transaction. A
backend stores and reads: the services (``Accounts``, ``Projects``, ``Issues``,
``Notifications``) apply the domain rules before they call it.
:class:`NotificationStore` is what the notification worker and routes need beyond
:class:`Storage` (``SqlStorage`` implements it), and :class:`DeliveryJob` what its claims answer.
"""

from resentry_core._notify._models import DeliveryJob
from resentry_core._notify._store import NotificationStore
from resentry_core._records import (
    AttachmentRecord,
    CheckInRecord,
    DiscardedCount,
    EventRecord,
    FeedbackRecord,
    ItemRecord,
    LogRecord,
    PreparedEnvelope,
    Recorded,
    SessionAggregate,
    SessionUpdate,
)
from resentry_core._storage._protocol import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    AdminCheck,
    EventFilter,
    EventStore,
    IngestStore,
    ProjectStore,
    SessionStore,
    Storage,
    UserStore,
)
from resentry_core._storage._values import UNSET, Unset

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "UNSET",
    "AdminCheck",
    "AttachmentRecord",
    "CheckInRecord",
    "DeliveryJob",
    "DiscardedCount",
    "EventFilter",
    "EventRecord",
    "EventStore",
    "FeedbackRecord",
    "IngestStore",
    "ItemRecord",
    "LogRecord",
    "NotificationStore",
    "PreparedEnvelope",
    "ProjectStore",
    "Recorded",
    "SessionAggregate",
    "SessionStore",
    "SessionUpdate",
    "Storage",
    "Unset",
    "UserStore",
]
