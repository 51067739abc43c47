"""An existing Python program that stores Sentry envelopes with ``resentry_core`` alone.

No web framework: the program receives envelope bytes from wherever it likes (a queue, a
file, its own HTTP server), hands them to the ingestor, and reads the grouped issues back.

    uv run python examples/embed_core.py [DATABASE_URL]
"""

import secrets
import sys
import tempfile
import uuid

import anyio
import orjson

from resentry_core import CoreConfig, IngestRequest, Resentry


def sample_envelope(public_key: str, project_id: int, *, line: int) -> bytes:
    """An error envelope like the ones sentry-python sends (the DSN header authenticates it)."""
    event = {
        "level": "error",
        "platform": "python",
        "exception": {
            "values": [
                {
                    "type": "ZeroDivisionError",
                    "value": "division by zero",
                    "stacktrace": {
                        "frames": [
                            {
                                "module": "billing",
                                "function": "ratio",
                                "lineno": line,
                                "in_app": True,
                            }
                        ]
                    },
                }
            ]
        },
    }
    payload = orjson.dumps(event)
    header = {"event_id": uuid.uuid4().hex, "dsn": f"http://{public_key}@localhost/{project_id}"}
    item = {"type": "event", "length": len(payload)}
    return b"\n".join([orjson.dumps(header), orjson.dumps(item), payload]) + b"\n"


async def main(database_url: str) -> None:
    """Ingest three envelopes for one project and print the issues they grouped into."""
    config = CoreConfig(database_url=database_url, secret_key=secrets.token_urlsafe(48))
    async with Resentry.open(config) as core:
        project = await core.projects.create_project(f"billing-{uuid.uuid4().hex[:6]}")
        key = project.keys[0].public_key
        for line in (10, 11, 12):  # the same bug seen from three builds
            body = sample_envelope(key, project.id, line=line)
            result = await core.ingestor.ingest(IngestRequest(project_id=project.id, body=body))
            print(f"stored event {result.event_id} in issue {result.issue_id}")
        for issue in (await core.storage.list_issues(project.id)).items:
            print(f"issue {issue.id}: {issue.title} ({issue.culprit}) seen {issue.times_seen}x")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        anyio.run(main, sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as tmp:
            anyio.run(main, f"sqlite:///{tmp}/resentry.db")
