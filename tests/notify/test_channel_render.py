"""What every channel says (``_render.py``): headlines, escaping per format, Telegram's limit."""

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resentry_core import NotificationReason
from resentry_core._notify._render import (
    compose,
    escape_discord,
    render_discord,
    render_email_html,
    render_slack,
    render_telegram_html,
    render_text,
    truncate_html,
)
from resentry_core._notify._telegram import telegram_message
from tests.notify.fakes import telegram_text, utf16_len
from tests.notify.notifications import WHEN, issue_notification, monitor_notification

SCRIPT = "<script>alert('x')</script> & co"


@pytest.mark.parametrize(
    ("reason", "count", "expected"),
    [
        ("new_issue", 1, "New issue in shop"),
        ("regression", 1, "Regression in shop"),
        ("level", 1, "New error event in shop"),
        ("digest", 1, "1 more event of this issue in shop"),
        ("digest", 41, "41 more events of this issue in shop"),
        ("test", 1, "Test notification from Resentry for shop"),
    ],
)
def test_issue_headlines(reason: NotificationReason, count: int, expected: str) -> None:
    """The first line says why the message is sent."""
    message = compose(issue_notification(reason=reason, count=count))
    assert message.headline == expected
    assert render_text(message).startswith(expected + "\n")


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("monitor_missed", "Monitor nightly-backup missed a check-in in shop"),
        ("monitor_failed", "Monitor nightly-backup failed in shop"),
        ("monitor_timeout", "Monitor nightly-backup timed out in shop"),
    ],
)
def test_monitor_headlines(reason: NotificationReason, expected: str) -> None:
    """Monitor notifications name the monitor, its status and when a check-in was expected."""
    text = render_text(compose(monitor_notification(reason)))
    assert text.startswith(expected + "\n")
    assert "Status: error" in text
    assert "Expected at: 2026-12-07 22:00:00 UTC" in text


def test_text_has_every_detail_and_link() -> None:
    """Project, level, culprit, times seen, release, environment, frames and both links."""
    text = render_text(compose(issue_notification()))
    for part in (
        "ZeroDivisionError: division by zero",
        "Level: error",
        "Culprit: shop.views in checkout",
        "Seen: 3 times since 2026-12-07 22:00:00 UTC",
        "Release: shop@1.2.3",
        "Environment: production",
        "  shop/views.py:42 in checkout",
        "Issue: https://errors.example.com/projects/1/issues/7",
        "Event: https://errors.example.com/projects/1/events/0123456789abcdef0123456789abcdef",
    ):
        assert part in text


def test_values_are_clipped_to_one_line() -> None:
    """A multi-line, 10,000-character title becomes one line of at most 500 characters."""
    message = compose(issue_notification(title="line one\nline two " + "x" * 10_000))
    assert "\n" not in message.subject
    assert len(message.subject) == 500
    assert message.subject.startswith("line one line two x")
    assert message.subject.endswith("…")


def test_control_characters_and_surrogates_are_cleaned() -> None:
    """Control characters become spaces, NULs go and lone surrogates become U+FFFD, so every
    encoder (UTF-8 JSON, e-mail headers) accepts the text."""
    message = compose(issue_notification(title="a\x00b\x1b[31mc\ud800d\u0085e"))
    assert message.subject == "ab [31mc\ufffdd e"
    message.subject.encode()


def test_times_are_shown_in_utc() -> None:
    """An aware time in another zone is converted, not just labelled, UTC."""
    plus_two = timezone(timedelta(hours=2))
    notification = issue_notification()
    assert notification.issue is not None
    moved = replace(
        notification,
        issue=replace(notification.issue, first_seen=datetime(2026, 12, 8, 0, 30, tzinfo=plus_two)),
    )
    assert ("Seen", "3 times since 2026-12-07 22:30:00 UTC") in compose(moved).details


def test_html_formats_escape_a_script_title() -> None:
    """Telegram and e-mail HTML carry ``<script>`` as text, never as a tag."""
    message = compose(issue_notification(title=SCRIPT))
    for markup in (render_telegram_html(message), render_email_html(message)):
        assert "<script>" not in markup
        assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; co" in markup
    assert SCRIPT in telegram_text(telegram_message(issue_notification(title=SCRIPT)))


def test_telegram_message_within_the_limit_is_untouched() -> None:
    """A normal message is not cut and Telegram shows every line of it."""
    markup = telegram_message(issue_notification())
    shown = telegram_text(markup)
    assert shown.splitlines()[0] == "New issue in shop"
    assert not shown.endswith("…")
    assert '<a href="https://errors.example.com/projects/1/issues/7">Issue</a>' in markup


def test_truncate_html_never_splits_an_entity_or_a_tag() -> None:
    """Cut inside a run of entities in a bold tag: whole entities, closed tag, ellipsis."""
    markup = "<b>" + "&amp;" * 100 + "</b>"
    cut = truncate_html(markup, 50)
    assert len(cut) <= 50
    assert re.fullmatch(r"<b>(&amp;)+…</b>", cut)


@given(
    title=st.text(max_size=6000),
    frames=st.lists(st.text(max_size=300), max_size=8),
    culprit=st.text(max_size=3000),
)
def test_telegram_message_always_fits_and_parses(
    title: str, frames: list[str], culprit: str
) -> None:
    """Whatever the event says, the message parses as Telegram HTML, has at most 4,096
    UTF-16 units after parsing, and starts with the headline."""
    notification = issue_notification(title=title, frames=tuple(frames), culprit=culprit)
    markup = telegram_message(notification)
    assert utf16_len(markup) <= 4096
    shown = telegram_text(markup)
    assert 1 <= utf16_len(shown) <= 4096
    assert shown.startswith("New issue in shop")


def test_telegram_worst_case_is_cut_to_the_limit() -> None:
    """Values that escape to five times their size overflow 4,096: the message is cut, closes
    its tags and still parses, keeping the headline and title."""
    notification = issue_notification(title="&" * 600, frames=("<" * 300,) * 8, culprit=">" * 300)
    markup = telegram_message(notification)
    assert utf16_len(markup) <= 4096 < utf16_len(render_telegram_html(compose(notification)))
    shown = telegram_text(markup)
    assert shown.startswith("New issue in shop\n" + "&" * 499 + "…")
    assert shown.endswith("…")


@given(
    body=st.lists(st.sampled_from(["a", "😀", "&amp;", "&lt;", "<b>", "</b>"])).map("".join),
    limit=st.integers(10, 200),
)
def test_truncate_html_property(body: str, limit: int) -> None:
    """Any of our markup (balanced bold tags, entities, astral characters) cut to any limit
    stays within it and parses."""
    opened = 0
    balanced = ""
    for token in re.findall(r"<b>|</b>|&\w+;|.", body):
        if token == "</b>":
            if not opened:
                continue
            opened -= 1
        elif token == "<b>":
            opened += 1
        balanced += token
    balanced += "</b>" * opened
    cut = truncate_html(balanced, limit)
    if utf16_len(balanced) <= limit:
        assert cut == balanced
    else:
        assert utf16_len(cut) <= limit
        assert telegram_text(cut).endswith("…")
    telegram_text(cut)


def test_slack_payload_shape_and_escaping() -> None:
    """``text`` plus ``blocks`` of mrkdwn sections; ``&<>`` escaped so no ``<!channel>`` ping
    or forged link gets through; links in Slack's ``<url|label>`` form."""
    payload = render_slack(compose(issue_notification(title="<!channel> <http://evil|click> & co")))
    assert set(payload) == {"text", "blocks"}
    assert payload["text"] == (
        "New issue in shop: &lt;!channel&gt; &lt;http://evil|click&gt; &amp; co"
    )
    blocks = payload["blocks"]
    assert isinstance(blocks, list)
    assert all(block["type"] == "section" for block in blocks)
    assert blocks[0]["text"] == {
        "type": "mrkdwn",
        "text": "*New issue in shop*\n&lt;!channel&gt; &lt;http://evil|click&gt; &amp; co",
    }
    assert {"type": "mrkdwn", "text": "*Level*\nerror"} in blocks[1]["fields"]
    assert blocks[2]["text"]["text"].startswith("`shop/views.py:42 in checkout`")
    assert blocks[3]["text"]["text"] == (
        "<https://errors.example.com/projects/1/issues/7|Issue> · "
        "<https://errors.example.com/projects/1/events/0123456789abcdef0123456789abcdef|Event>"
    )


def test_slack_sections_stay_within_limits() -> None:
    """Huge escaped values are cut below Slack's 3,000-character section limit, on an entity
    boundary."""
    payload = render_slack(compose(issue_notification(title="&" * 5000)))
    text = payload["blocks"][0]["text"]["text"]
    assert len(text) <= 3000
    assert re.fullmatch(r"\*New issue in shop\*\n(&amp;)+…", text)


def test_discord_payload_shape_and_escaping() -> None:
    """``content`` plus one embed; markdown and ``@everyone`` neutralized; no mention allowed."""
    notification = issue_notification(title="@everyone **bold** [x](http://evil) <@123>")
    payload = render_discord(compose(notification), timestamp=WHEN, url=notification.issue_url)
    assert set(payload) == {"content", "embeds", "allowed_mentions"}
    assert payload["allowed_mentions"] == {"parse": []}
    assert payload["content"] == "New issue in shop"
    (embed,) = payload["embeds"]
    assert embed["title"] == "@\u200beveryone \\*\\*bold\\*\\* \\[x\\]\\(http://evil\\) \\<@123>"
    assert embed["url"] == "https://errors.example.com/projects/1/issues/7"
    assert embed["timestamp"] == "2026-12-07T22:00:00+00:00"
    assert {"name": "Level", "value": "error", "inline": True} in embed["fields"]
    assert "[Issue](<https://errors.example.com/projects/1/issues/7>)" in embed["description"]


def test_discord_limits() -> None:
    """Title at most 256 characters and never ending in a lone backslash."""
    notification = issue_notification(title="*" * 1000)
    payload = render_discord(compose(notification), timestamp=WHEN, url=None)
    (embed,) = payload["embeds"]
    assert len(embed["title"]) <= 256
    assert re.fullmatch(r"(\\\*)+…", embed["title"])
    assert "url" not in embed
    assert escape_discord("@here") == "@\u200bhere"
    assert (
        escape_discord("# not a heading - 2026-12-07 > x") == "\\# not a heading - 2026-12-07 > x"
    )
    assert escape_discord("> quote\n - item") == "\\> quote\n \\- item"


def test_test_notification_without_issue() -> None:
    """A test message has a headline and a subject even without an issue."""
    notification = replace(monitor_notification(), reason="test", monitor=None)
    text = render_text(compose(notification))
    assert text.startswith("Test notification from Resentry for shop\n\nNotifications to this")
