"""Use the Resentry SDK: log in, create a project, send an event to its DSN, read it back,
resolve its issue, tell a mailing list of new issues, and do the same reads with the async
client.

Run it against a server (``resentry serve``) and an admin user::

    python examples/client_usage.py http://127.0.0.1:8000 admin 'the password'
"""

import sys

import anyio

from resentry_client import AsyncClient, Client, ConflictError, send_test_event


def sync_part(url: str, username: str, password: str) -> tuple[int, str]:
    """The blocking client: returns the project id and the access token."""
    with Client(url) as client:
        client.login(username, password)
        try:
            project = client.projects.create("Client example", slug="client-example")
        except ConflictError:  # run before: reuse it
            [project] = [p for p in client.projects.list() if p.slug == "client-example"]
        print(f"project {project.id} ({project.slug}): {project.dsns[0]}")

        event_id = send_test_event(project.dsns[0], message="checkout failed")
        event = client.events.get(project.id, event_id)
        print(f"event {event.event_id}: {event.title}")

        for issue in client.issues.list(project.id, status="unresolved"):
            resolved = client.issues.resolve(project.id, issue.id)
            print(f"issue {resolved.id} is {resolved.status}: seen {resolved.times_seen}x")

        channel = client.channels.create(project.id, "ops", "email", "ops@example.com")
        rule = client.rules.create(project.id, channel.id, "new_issue", min_level="warning")
        print(f"rule {rule.id}: {rule.trigger} at {rule.min_level}+ to {channel.target}")
        return project.id, client.access_token or ""


async def async_part(url: str, token: str, project_id: int) -> None:
    """The async client: the same operations, awaited; lists are async iterators."""
    async with AsyncClient(url, token=token) as client:
        me = await client.me()
        count = 0
        async for _event in client.events.list(project_id, level="error", max_items=100):
            count += 1
        print(f"{me.username} sees {count} error event(s) in project {project_id}")


def main() -> None:
    """Run both parts against the server named on the command line."""
    url, username, password = sys.argv[1:4]
    project_id, token = sync_part(url, username, password)
    anyio.run(async_part, url, token, project_id)


if __name__ == "__main__":
    main()
