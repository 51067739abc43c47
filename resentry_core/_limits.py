"""Size and count limits applied to incoming data.

The defaults follow Relay's (``relay-config/src/config.rs``), except where Resentry chooses its
own value (request body, envelope, attachments; ``docs/ingest_routes.md``, Limits).
"""

from dataclasses import dataclass
from typing import Final

KiB: Final = 1024
MiB: Final = 1024 * KiB

# Resentry: request body as received (compressed).
MAX_REQUEST_BYTES: Final = 40 * MiB
# Resentry: envelope after decompression (Relay: max_envelope_size, 200 MiB today).
MAX_ENVELOPE_BYTES: Final = 100 * MiB
# Relay max_event_size: one event, transaction, feedback, security, replay_event item; store body.
MAX_EVENT_BYTES: Final = 1 * MiB
# Relay max_attachment_size (100 MiB in 2020 Relay; Resentry keeps 100 MiB).
MAX_ATTACHMENT_BYTES: Final = 100 * MiB
# Resentry: attachments per envelope, summed (Relay max_attachments_size).
MAX_ATTACHMENTS_BYTES: Final = 100 * MiB
# Relay max_attachment_count.
MAX_ATTACHMENT_COUNT: Final = 30
# Relay max_session_count / max_sessions_size (session + sessions items).
MAX_SESSION_COUNT: Final = 100
MAX_SESSIONS_BYTES: Final = 10 * MiB
# Relay max_client_reports_count / max_client_reports_size.
MAX_CLIENT_REPORT_COUNT: Final = 100
MAX_CLIENT_REPORT_BYTES: Final = 100 * KiB
# Relay max_check_in_size (one check_in per envelope).
MAX_CHECK_IN_BYTES: Final = 100 * KiB
# Relay max_container_size: log, span, trace_metric containers (and max_log_size per log).
MAX_CONTAINER_BYTES: Final = 12 * MiB
MAX_LOG_BYTES: Final = 2 * MiB
# Relay max_profile_size (profile, profile_chunk).
MAX_PROFILE_BYTES: Final = 50 * MiB
# Relay max_replay_compressed_size (replay_recording, replay_video).
MAX_REPLAY_BYTES: Final = 10 * MiB
# Resentry's own: one JSON header line (envelope or item). SDK headers are a few KiB at most
# (the JS SDK puts its integrations list in the envelope header).
MAX_HEADER_BYTES: Final = 64 * KiB
# Resentry's own: how deeply JSON may nest. Headers nested deeper are refused (400); event
# data nested deeper is trimmed at ingest, as Relay's normalization trims databags past a
# maximum depth. Well below the 255 levels that pydantic and orjson can serialize.
MAX_JSON_DEPTH: Final = 128
# Resentry's own: items in one envelope (Relay bounds each type; this bounds the total).
MAX_ITEMS: Final = 1000
# Resentry's own: any other (unknown) item type; Relay forwards them bounded by the envelope.
MAX_OTHER_ITEM_BYTES: Final = 100 * MiB


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds on what one request may contain. Pass tighter values to be stricter.

    Every field is in bytes (``*_bytes``) or a count (``*_count``, ``max_items``).
    """

    max_request_bytes: int = MAX_REQUEST_BYTES
    max_envelope_bytes: int = MAX_ENVELOPE_BYTES
    max_event_bytes: int = MAX_EVENT_BYTES
    max_attachment_bytes: int = MAX_ATTACHMENT_BYTES
    max_attachments_bytes: int = MAX_ATTACHMENTS_BYTES
    max_attachment_count: int = MAX_ATTACHMENT_COUNT
    max_session_count: int = MAX_SESSION_COUNT
    max_sessions_bytes: int = MAX_SESSIONS_BYTES
    max_client_report_count: int = MAX_CLIENT_REPORT_COUNT
    max_client_report_bytes: int = MAX_CLIENT_REPORT_BYTES
    max_check_in_bytes: int = MAX_CHECK_IN_BYTES
    max_container_bytes: int = MAX_CONTAINER_BYTES
    max_log_bytes: int = MAX_LOG_BYTES
    max_profile_bytes: int = MAX_PROFILE_BYTES
    max_replay_bytes: int = MAX_REPLAY_BYTES
    max_header_bytes: int = MAX_HEADER_BYTES
    max_items: int = MAX_ITEMS
    max_other_item_bytes: int = MAX_OTHER_ITEM_BYTES


DEFAULT_LIMITS: Final = Limits()
