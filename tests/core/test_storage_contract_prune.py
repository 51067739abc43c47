"""Storage contract: pruning old envelopes with all their data, keeping issue counters exact."""

import pytest

from resentry_core._errors import InvalidInputError, NotFoundError
from resentry_core._projects import Projects
from resentry_core._storage._protocol import EventFilter, Storage
from tests.core.records import (
    at,
    attachment_envelope,
    check_in,
    check_in_envelope,
    client_report_envelope,
    error_envelope,
    feedback_envelope,
    log_envelope,
    log_record,
    new_id,
    raw_item_envelope,
    session_envelope,
    session_update,
)


async def test_prune_removes_old_envelopes_and_their_data(storage: Storage) -> None:
    """Envelopes received before the cutoff go with their events, items and other records."""
    project_id = (await Projects(storage).create_project("App")).id
    old_event = error_envelope(project_id, received_at=at(1), attachments=[("old.txt", b"old")])
    new_event = error_envelope(project_id, received_at=at(100), attachments=[("new.txt", b"new")])
    old_check_in, new_check_in = new_id(), new_id()
    recorded = await storage.record(
        [
            old_event,
            new_event,
            raw_item_envelope(project_id, "profile", b"p-old", received_at=at(2)),
            raw_item_envelope(project_id, "profile", b"p-new", received_at=at(101)),
            log_envelope(project_id, log_record("old log", timestamp=at(3)), received_at=at(3)),
            log_envelope(project_id, log_record("new log", timestamp=at(102)), received_at=at(102)),
            feedback_envelope(project_id, message="old", received_at=at(4)),
            feedback_envelope(project_id, message="new", received_at=at(103)),
            check_in_envelope(project_id, check_in(old_check_in, timestamp=at(5))),
            check_in_envelope(project_id, check_in(new_check_in, timestamp=at(104))),
            client_report_envelope(project_id, ("sample_rate", "span", 4), received_at=at(6)),
            client_report_envelope(project_id, ("sample_rate", "span", 1), received_at=at(105)),
            session_envelope(project_id, session_update("old", seq=1), received_at=at(7)),
            session_envelope(project_id, session_update("new", seq=1), received_at=at(106)),
        ]
    )
    old_envelope_id = recorded[0].envelope_id
    assert old_envelope_id is not None
    assert old_event.event_id is not None
    [old_attachment] = (await storage.get_event(project_id, old_event.event_id)).attachments

    assert await storage.prune(project_id, at(50)) == 7

    events = (await storage.list_events(EventFilter())).items
    assert {event.event_id for event in events} == {
        new_event.event_id,
        recorded[7].event_id,  # the new feedback event
    }
    with pytest.raises(NotFoundError):
        await storage.get_event(project_id, old_event.event_id)
    with pytest.raises(NotFoundError):
        await storage.get_envelope(project_id, old_envelope_id)
    with pytest.raises(NotFoundError):
        await storage.get_attachment(project_id, old_attachment.id)
    payloads = [
        (await storage.get_item_payload(project_id, item.id))[1]
        for item in (await storage.list_items(project_id, type="profile")).items
    ]
    assert payloads == [b"p-new"]
    assert [log.body for log in (await storage.list_logs(project_id)).items] == ["new log"]
    assert [f.message for f in (await storage.list_feedback(project_id)).items] == ["new"]
    check_ins = (await storage.list_check_ins(project_id, "nightly-job")).items
    assert [c.check_in_id for c in check_ins] == [new_check_in]
    assert [m.slug for m in await storage.list_monitors(project_id)] == ["nightly-job"]
    assert [c.quantity for c in await storage.discard_counters(project_id)] == [1]
    assert [h.started for h in await storage.release_health(project_id)] == [1]
    assert await storage.prune(project_id, at(50)) == 0


async def test_prune_recomputes_issue_counters(storage: Storage) -> None:
    """After a prune, an issue's counters are exactly those of its remaining events."""
    project_id = (await Projects(storage).create_project("App")).id
    envelopes = [error_envelope(project_id, received_at=at(i * 10)) for i in range(5)]
    [first, *_] = await storage.record(envelopes)
    assert first.issue_id is not None
    await storage.prune(project_id, at(25))
    issue = await storage.get_issue(project_id, first.issue_id)
    assert (issue.times_seen, issue.first_seen, issue.last_seen) == (2, at(30), at(40))
    assert issue.last_event_id == envelopes[4].event_id
    assert issue.status == "unresolved"
    # The counters keep counting from the recomputed values.
    await storage.record([error_envelope(project_id, received_at=at(45))])
    assert (await storage.get_issue(project_id, first.issue_id)).times_seen == 3


async def test_prune_deletes_issues_left_without_events(storage: Storage) -> None:
    """An issue whose events are all pruned is deleted; its fingerprint starts a new issue."""
    project_id = (await Projects(storage).create_project("App")).id
    [gone, kept] = await storage.record(
        [
            error_envelope(project_id, fingerprint="gone", received_at=at(1)),
            error_envelope(project_id, fingerprint="kept", received_at=at(60)),
        ]
    )
    assert await storage.prune(project_id, at(30)) == 1
    [issue] = (await storage.list_issues(project_id)).items
    assert issue.id == kept.issue_id
    [again] = await storage.record(
        [error_envelope(project_id, fingerprint="gone", received_at=at(70))]
    )
    assert again.new_issue
    assert again.issue_id not in (gone.issue_id, kept.issue_id)


async def test_prune_leaves_other_projects_untouched(storage: Storage) -> None:
    """Pruning one project never touches another project's old data."""
    app = (await Projects(storage).create_project("App")).id
    other = (await Projects(storage).create_project("Other")).id
    envelopes = [error_envelope(project_id, received_at=at(1)) for project_id in (app, other)]
    await storage.record(envelopes)
    assert await storage.prune(app, at(10)) == 1
    page = await storage.list_events(EventFilter())
    assert [event.project_id for event in page.items] == [other]
    [issue] = (await storage.list_issues(other)).items
    assert issue.times_seen == 1
    assert await storage.prune(9999, at(10)) == 0


async def test_prune_cutoff_is_exclusive_and_keeps_later_attachments(storage: Storage) -> None:
    """An envelope received exactly at the cutoff stays, and so do later envelopes' data."""
    project_id = (await Projects(storage).create_project("App")).id
    event = error_envelope(project_id, received_at=at(10))
    await storage.record([event])
    assert event.event_id is not None
    await storage.record(
        [attachment_envelope(project_id, event.event_id, "late.dmp", b"x", received_at=at(20))]
    )
    assert await storage.prune(project_id, at(10)) == 0
    assert len((await storage.get_event(project_id, event.event_id)).attachments) == 1
    assert await storage.prune(project_id, at(11)) == 1
    [item] = (await storage.list_items(project_id)).items
    assert item.type == "attachment"
    with pytest.raises(InvalidInputError):
        await storage.prune(project_id, at(11).replace(tzinfo=None))
