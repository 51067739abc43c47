"""Message rendering shared by every channel: what a notification says, then one function per
output format (plain text, Telegram HTML, e-mail HTML, Slack mrkdwn, Discord markdown).

:func:`compose` decides the content once (headline by reason, the issue or monitor, details,
top frames, links) as raw text in a :class:`Message`; each format function only escapes and
lays it out. Event data is attacker-controlled, so every format escapes every value it
interpolates, and each value is clipped to a sane length first.
"""

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from resentry_core._json import clean_text
from resentry_core._notify._notification import Notification

TITLE_CHARS: Final = 500
VALUE_CHARS: Final = 200
MAX_FRAMES: Final = 5
ELLIPSIS: Final = "…"
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """What a notification says, as raw (unescaped) text.

    Attributes:
        headline: one line saying why ("New issue in shop").
        subject: the issue title or the monitor slug.
        details: ``(label, value)`` lines: level, culprit, times seen, release, ...
        frames: the top in-app frames, ``file:line in function``.
        links: ``(label, url)`` pairs.
    """

    headline: str
    subject: str
    details: tuple[tuple[str, str], ...]
    frames: tuple[str, ...]
    links: tuple[tuple[str, str], ...]


def clip(text: str, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (an ellipsis marks a cut), control
    characters as spaces, NULs dropped and lone surrogates (no encoder takes them) as U+FFFD."""
    text = _CONTROL.sub(" ", clean_text(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def _when(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def headline(notification: Notification) -> str:
    """The first line of every message: why it is sent, and in which project."""
    project = clip(notification.project.name, VALUE_CHARS)
    monitor = clip(notification.monitor.slug, VALUE_CHARS) if notification.monitor else "?"
    match notification.reason:
        case "new_issue":
            return f"New issue in {project}"
        case "regression":
            return f"Regression in {project}"
        case "level":
            level = notification.issue.level if notification.issue else "?"
            return f"New {clip(level, 20)} event in {project}"
        case "digest":
            more = (
                "1 more event" if notification.count == 1 else f"{notification.count} more events"
            )
            return f"{more} of this issue in {project}"
        case "monitor_missed":
            return f"Monitor {monitor} missed a check-in in {project}"
        case "monitor_failed":
            return f"Monitor {monitor} failed in {project}"
        case "monitor_timeout":
            return f"Monitor {monitor} timed out in {project}"
        case "test":
            return f"Test notification from Resentry for {project}"


def compose(notification: Notification) -> Message:
    """Decide what ``notification`` says; the format functions lay it out."""
    details: list[tuple[str, str]] = []
    subject = ""
    issue, event, monitor = notification.issue, notification.event, notification.monitor
    if issue is not None:
        subject = clip(issue.title, TITLE_CHARS)
        details.append(("Level", clip(issue.level, 20)))
        if issue.culprit:
            details.append(("Culprit", clip(issue.culprit, VALUE_CHARS)))
        details.append(("Seen", f"{issue.times_seen} times since {_when(issue.first_seen)}"))
    if event is not None:
        if event.release:
            details.append(("Release", clip(event.release, VALUE_CHARS)))
        if event.environment:
            details.append(("Environment", clip(event.environment, VALUE_CHARS)))
    if monitor is not None:
        subject = subject or clip(monitor.slug, TITLE_CHARS)
        details.append(("Status", clip(monitor.status, 20)))
        if monitor.expected_at is not None:
            details.append(("Expected at", _when(monitor.expected_at)))
    if notification.reason == "test":
        subject = subject or "Notifications to this channel work."
    frames = tuple(
        clip(frame, VALUE_CHARS) for frame in (event.frames if event else ())[:MAX_FRAMES]
    )
    links = tuple(
        (label, url)
        for label, url in (("Issue", notification.issue_url), ("Event", notification.event_url))
        if url
    )
    return Message(
        headline=headline(notification),
        subject=subject,
        details=tuple(details),
        frames=frames,
        links=links,
    )


def render_text(message: Message) -> str:
    """Plain text: the e-mail's text part, the webhook's ``text`` field."""
    lines = [message.headline, "", message.subject, ""]
    lines += [f"{label}: {value}" for label, value in message.details]
    if message.frames:
        lines += ["", "Top frames:", *(f"  {frame}" for frame in message.frames)]
    if message.links:
        lines += ["", *(f"{label}: {url}" for label, url in message.links)]
    return "\n".join(lines) + "\n"


def escape_html(text: str) -> str:
    """``&``, ``<``, ``>`` and ``"`` as entities (Telegram accepts exactly these)."""
    return html.escape(text, quote=True).replace("&#x27;", "'")


def render_telegram_html(message: Message) -> str:
    """Telegram's HTML parse mode, before :func:`truncate_html` fits it to the 4,096 limit."""
    lines = [f"<b>{escape_html(message.headline)}</b>", escape_html(message.subject)]
    lines += [
        f"<i>{escape_html(label)}:</i> {escape_html(value)}" for label, value in message.details
    ]
    lines += [f"<code>{escape_html(frame)}</code>" for frame in message.frames]
    if message.links:
        lines.append(" · ".join(_html_link(label, url) for label, url in message.links))
    return "\n".join(lines)


def render_email_html(message: Message) -> str:
    """The e-mail's HTML part: a small self-contained document, everything escaped."""
    rows = "".join(
        f'<tr><th align="left">{escape_html(label)}</th><td>{escape_html(value)}</td></tr>'
        for label, value in message.details
    )
    frames = "".join(f"<li><code>{escape_html(frame)}</code></li>" for frame in message.frames)
    links = " · ".join(_html_link(label, url) for label, url in message.links)
    return (
        "<!DOCTYPE html><html><body>"
        f"<h2>{escape_html(message.headline)}</h2>"
        f"<p><strong>{escape_html(message.subject)}</strong></p>"
        f"<table>{rows}</table>"
        + (f"<p>Top frames:</p><ul>{frames}</ul>" if frames else "")
        + (f"<p>{links}</p>" if links else "")
        + "</body></html>"
    )


def _html_link(label: str, url: str) -> str:
    return f'<a href="{escape_html(url)}">{escape_html(label)}</a>'


# One token of our own HTML: a tag, an entity, a surrogate-free character.
_HTML_TOKEN: Final = re.compile(r"<[^>]*>|&[#\w]+;|.", re.S)


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def truncate_html(markup: str, limit: int) -> str:
    """``markup`` cut to at most ``limit`` UTF-16 code units, never inside a tag or an entity,
    with every open tag closed and an ellipsis marking the cut.

    The limit counts the markup itself, which is never shorter than the text Telegram counts
    after parsing entities, so the result always fits.
    """
    if _utf16_units(markup) <= limit:
        return markup
    budget = limit - _utf16_units(ELLIPSIS)
    kept: list[str] = []
    open_tags: list[str] = []
    used = closers = 0  # units kept so far; units of the closing tags they still need
    for match in _HTML_TOKEN.finditer(markup):
        token = match.group()
        size = _utf16_units(token)
        if token.startswith("</"):
            closer = _utf16_units(f"</{open_tags[-1]}>") if open_tags else 0
            if used + size + closers - closer > budget:
                break
            if open_tags:
                open_tags.pop()
            closers -= closer
        elif token.startswith("<"):
            name = token[1:-1].split()[0]
            closer = _utf16_units(f"</{name}>")
            if used + size + closers + closer > budget:
                break
            open_tags.append(name)
            closers += closer
        elif used + size + closers > budget:
            break
        kept.append(token)
        used += size
    return "".join(kept) + ELLIPSIS + "".join(f"</{name}>" for name in reversed(open_tags))


def _cut(escaped: str, limit: int) -> str:
    """Escaped text cut to ``limit`` characters, never inside an entity or after a lone
    backslash (which would escape the ellipsis)."""
    if len(escaped) <= limit:
        return escaped
    cut = re.sub(r"&[#\w]*$", "", escaped[: limit - 1])
    if (len(cut) - len(cut.rstrip("\\"))) % 2:
        cut = cut[:-1]
    return cut + ELLIPSIS


def escape_slack(text: str) -> str:
    """Slack mrkdwn: ``&``, ``<`` and ``>`` as entities, so no ``<!channel>`` or link sneaks in."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Slack: a section's text holds 3,000 characters, a field 2,000, a message 50 blocks.
_SLACK_TEXT: Final = 3000
_SLACK_FIELD: Final = 2000


def render_slack(message: Message) -> dict[str, Any]:
    """A Slack incoming-webhook payload: ``text`` (the notification fallback) and ``blocks``."""
    top = f"*{escape_slack(message.headline)}*\n{escape_slack(message.subject)}"
    blocks: list[dict[str, object]] = [_slack_section(top)]
    if message.details:
        fields = [
            {
                "type": "mrkdwn",
                "text": _cut(f"*{escape_slack(label)}*\n{escape_slack(value)}", _SLACK_FIELD),
            }
            for label, value in message.details[:10]
        ]
        blocks.append({"type": "section", "fields": fields})
    if message.frames:
        frames = "\n".join(
            f"`{escape_slack(frame.replace('`', chr(39)))}`" for frame in message.frames
        )
        blocks.append(_slack_section(frames))
    if message.links:
        links = " · ".join(
            f"<{escape_slack(url).replace('|', '%7C')}|{escape_slack(label)}>"
            for label, url in message.links
        )
        blocks.append(_slack_section(links))
    fallback = f"{message.headline}: {message.subject}" if message.subject else message.headline
    return {"text": _cut(escape_slack(fallback), _SLACK_TEXT), "blocks": blocks}


def _slack_section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, _SLACK_TEXT)}}


_DISCORD_INLINE: Final = re.compile(r"([\\*_~`|\[\]()<])")
_DISCORD_LINE_START: Final = re.compile(r"^(\s*)([#>+\-])", re.MULTILINE)
_DISCORD_MENTION: Final = re.compile(r"@(everyone|here)")


def escape_discord(text: str) -> str:
    """Discord markdown: formatting characters backslash-escaped (heading, quote and list
    markers at a line's start), ``@everyone`` and ``@here`` broken by a zero-width space (the
    payload's ``allowed_mentions`` also pings no one)."""
    text = _DISCORD_LINE_START.sub(r"\1\\\2", _DISCORD_INLINE.sub(r"\\\1", text))
    return _DISCORD_MENTION.sub("@\u200b\\1", text)


# Discord: content 2,000; embed title 256, description 4,096, field name 256, value 1,024.
_DISCORD_CONTENT: Final = 2000
_DISCORD_TITLE: Final = 256
_DISCORD_DESCRIPTION: Final = 4096
_DISCORD_FIELD_NAME: Final = 256
_DISCORD_FIELD_VALUE: Final = 1024
_DISCORD_RED: Final = 0xE03E2F


def render_discord(message: Message, *, timestamp: datetime, url: str | None) -> dict[str, Any]:
    """A Discord incoming-webhook payload: ``content``, one embed, and no mentions allowed."""
    description = "\n".join(f"• {escape_discord(frame)}" for frame in message.frames)
    if message.links:
        links = " · ".join(
            f"[{escape_discord(label)}](<{_discord_url(link)}>)" for label, link in message.links
        )
        description = f"{description}\n{links}" if description else links
    embed: dict[str, object] = {
        "title": _cut(escape_discord(message.subject or message.headline), _DISCORD_TITLE),
        "color": _DISCORD_RED,
        "timestamp": timestamp.isoformat(),
        "fields": [
            {
                "name": _cut(escape_discord(label), _DISCORD_FIELD_NAME),
                "value": _cut(escape_discord(value), _DISCORD_FIELD_VALUE),
                "inline": True,
            }
            for label, value in message.details
        ],
    }
    if description:
        embed["description"] = _cut(description, _DISCORD_DESCRIPTION)
    if url:
        embed["url"] = url
    return {
        "content": _cut(escape_discord(message.headline), _DISCORD_CONTENT),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }


def _discord_url(url: str) -> str:
    return url.replace(" ", "%20").replace(">", "%3E").replace(")", "%29")
