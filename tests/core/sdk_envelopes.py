"""Real envelopes from the installed ``sentry_sdk``, captured in-process.

``sentry_sdk_envelopes()`` initializes the SDK with a transport that keeps every envelope it is
given (serialized to wire bytes, exactly what the SDK would POST) instead of sending it, and
restores a client-less SDK afterwards so no other test sees it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sentry_sdk
from sentry_sdk.transport import Transport

DSN = "http://" + "a" * 32 + "@127.0.0.1:1/1"


@contextmanager
def sentry_sdk_envelopes(**options: Any) -> Iterator[list[bytes]]:
    """Run the body with ``sentry_sdk`` initialized; the yielded list receives, once the body
    has finished and the SDK has flushed, every envelope the SDK emitted, in order.

    Default integrations are off (they patch the interpreter globally); pass ``integrations``
    to enable some.
    """
    captured: list[bytes] = []

    class CapturingTransport(Transport):
        def capture_envelope(self, envelope: Any) -> None:
            captured.append(envelope.serialize())

    options.setdefault("default_integrations", False)
    sentry_sdk.init(dsn=DSN, transport=CapturingTransport, **options)
    try:
        with sentry_sdk.isolation_scope():
            yield captured
        sentry_sdk.flush()
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
