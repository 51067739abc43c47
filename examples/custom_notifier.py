"""Call your own code when a new error appears: a notifier is one class with ``send``.

``resentry_core`` alone, no server: register the notifier with ``Resentry.open``, store an
error event, and the background worker hands the new issue to the notifier.

    uv run python examples/custom_notifier.py
"""

import secrets
import tempfile
import uuid

import anyio
import orjson

from resentry_core import CoreConfig, IngestRequest, Notification, Resentry


class PrintNotifier:
    """Prints each notification; a real one would page someone (raise DeliveryError to retry)."""

    def __init__(self) -> None:
        self.received = anyio.Event()

    async def send(self, notification: Notification) -> None:
        issue = notification.issue
        print(f"{notification.reason}: {issue.title if issue else notification.reason}")
        self.received.set()


def error_envelope(public_key: str, project_id: int) -> bytes:
    """One error event, as a Sentry SDK would send it."""
    payload = orjson.dumps(
        {"level": "error", "exception": {"values": [{"type": "KeyError", "value": "'sku'"}]}}
    )
    header = {"event_id": uuid.uuid4().hex, "dsn": f"http://{public_key}@localhost/{project_id}"}
    item = {"type": "event", "length": len(payload)}
    return b"\n".join([orjson.dumps(header), orjson.dumps(item), payload]) + b"\n"


async def main(database_url: str) -> None:
    """Store one error and wait (ten seconds at most) until the notifier has been called."""
    notifier = PrintNotifier()
    config = CoreConfig(database_url=database_url, secret_key=secrets.token_urlsafe(48))
    async with Resentry.open(config, notifiers=[notifier]) as core:
        project = await core.projects.create_project("shop")
        body = error_envelope(project.keys[0].public_key, project.id)
        await core.ingestor.ingest(IngestRequest(project_id=project.id, body=body))
        with anyio.fail_after(10):
            await notifier.received.wait()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        anyio.run(main, f"sqlite:///{tmp}/resentry.db")
