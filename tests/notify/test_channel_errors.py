"""DeliveryError: what a notifier raises, and what the server answers when one surfaces."""

from resentry_core import DeliveryError, ResentryError
from resentry_server._errors import status_for


def test_delivery_error_fields() -> None:
    """Retryable with the worker's backoff by default; permanence and a wait are explicit."""
    default = DeliveryError("receiver answered 500")
    assert isinstance(default, ResentryError)
    assert (str(default), default.permanent, default.retry_after) == (
        "receiver answered 500",
        False,
        None,
    )
    blocked = DeliveryError("bot blocked", permanent=True)
    assert (blocked.permanent, blocked.retry_after) == (True, None)
    assert DeliveryError("flood", retry_after=7.5).retry_after == 7.5


def test_server_answers_502_for_a_failed_delivery() -> None:
    """A channel that failed (for instance on a test message) is a bad gateway, not a 500."""
    assert status_for(DeliveryError("Telegram answered 403: Forbidden", permanent=True)) == 502
