"""The checked parser: every field's type, with the place of a wrong one in the message."""

from datetime import UTC, datetime
from typing import Any

import pytest

from resentry_client import Channel, CreatedChannel, Delivery, Project, Rule, User
from resentry_client._models import parse, parse_page

USER: dict[str, Any] = {
    "id": 1,
    "username": "admin",
    "is_admin": True,
    "is_active": True,
    "telegram_chat_id": None,
    "created_at": "2026-11-26T03:00:00+00:00",
}
KEY = {
    "id": 3,
    "public_key": "0" * 32,
    "label": "Default",
    "is_active": True,
    "dsn": "http://key@host/1",
    "created_at": "2026-11-26T03:00:00.5+01:00",
}
PROJECT = {
    "id": 1,
    "name": "Shop",
    "slug": "shop",
    "created_at": "2026-11-26T03:00:00Z",
    "keys": [KEY],
    "allowed_origins": [],
    "rate_limit_per_minute": None,
    "retention_days": 30,
}


def test_a_valid_body_becomes_frozen_models() -> None:
    """Nested models, lists, optional fields, offsets; unknown fields are ignored; fields
    with a default may be absent."""
    project = parse(Project, {**PROJECT, "future_field": 1})
    assert project.keys[0].created_at == datetime(2026, 11, 26, 2, 0, 0, 500000, tzinfo=UTC)
    assert project.created_at.tzinfo is not None
    assert project.dsns == ["http://key@host/1"]
    user = parse(User, USER)
    assert user.email is None
    with pytest.raises(AttributeError):
        user.username = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "body: expected an object, got a list"),
        ({k: v for k, v in PROJECT.items() if k != "slug"}, "body.slug: missing"),
        ({**PROJECT, "id": True}, "body.id: expected int, got bool"),
        ({**PROJECT, "id": 1.0}, "body.id: expected int, got float"),
        ({**PROJECT, "keys": [{**KEY, "is_active": "yes"}]}, r"body.keys\[0\].is_active"),
        ({**PROJECT, "created_at": "2026-11-26T03:00:00"}, "timestamp with an offset"),
        ({**PROJECT, "retention_days": "30"}, "body.retention_days: expected int, got str"),
        ({**PROJECT, "allowed_origins": [1]}, r"body.allowed_origins\[0\]: expected str"),
    ],
)
def test_a_wrong_body_names_the_field(body: object, message: str) -> None:
    """Anything else raises ``ValueError`` naming the place and what was expected."""
    with pytest.raises(ValueError, match=message):
        parse(Project, body)


def test_pages() -> None:
    """A page needs its items and its cursor (null at the end)."""
    page = parse_page(User, {"items": [USER], "next_cursor": None})
    assert (len(page.items), page.next_cursor) == (1, None)
    with pytest.raises(ValueError, match=r"body\.next_cursor: missing"):
        parse_page(User, {"items": []})
    with pytest.raises(ValueError, match="body: expected a page object"):
        parse_page(User, [USER])


CHANNEL: dict[str, Any] = {
    "id": 1,
    "project_id": 1,
    "name": "ops",
    "kind": "webhook",
    "target": "https://93.184.216.34/hook",
    "flavor": "slack",
    "created_at": "2026-12-08T01:00:00+00:00",
}
DELIVERY: dict[str, Any] = {
    "id": 7,
    "project_id": 1,
    "destination": "channel:1",
    "channel_id": 1,
    "user_id": None,
    "reason": "test",
    "issue_id": None,
    "monitor_id": None,
    "event_id": None,
    "count": 1,
    "status": "pending",
    "attempts": 0,
    "last_error": None,
    "created_at": "2026-12-08T01:00:00+00:00",
    "updated_at": "2026-12-08T01:00:00+00:00",
    "next_attempt_at": "2026-12-08T01:00:00+00:00",
    "delivered_at": None,
}


@pytest.mark.parametrize(
    ("model", "body", "message"),
    [
        (CreatedChannel, CHANNEL, "body.secret: missing"),
        (CreatedChannel, {**CHANNEL, "secret": 5}, "body.secret: expected str, got int"),
        (Channel, {**CHANNEL, "flavor": 1}, "body.flavor: expected str, got int"),
        (Rule, {**CHANNEL, "channel_id": 1, "trigger": "level"}, "body.min_level: missing"),
        (Delivery, {**DELIVERY, "attempts": None}, "body.attempts: expected int, got null"),
        (Delivery, {**DELIVERY, "next_attempt_at": None}, "body.next_attempt_at: expected an ISO"),
        (Delivery, {**DELIVERY, "count": "1"}, "body.count: expected int, got str"),
    ],
)
def test_notification_models_are_checked(model: type, body: object, message: str) -> None:
    """Channels, the one-time secret, rules and deliveries are checked field by field."""
    with pytest.raises(ValueError, match=message):
        parse(model, body)


def test_notification_models() -> None:
    """A channel read back is a plain ``Channel``; a created one carries its secret."""
    created = parse(CreatedChannel, {**CHANNEL, "secret": "ab" * 32})
    assert isinstance(created, Channel) and created.secret == "ab" * 32
    delivery = parse(Delivery, DELIVERY)
    assert (delivery.status, delivery.delivered_at, delivery.created_at.tzinfo) == (
        "pending",
        None,
        UTC,
    )
