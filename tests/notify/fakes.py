"""Stand-ins for the services outside the machine, all real servers on 127.0.0.1.

- :class:`FakeTelegram`: the Bot API's ``sendMessage`` over HTTP. It checks the path's token,
  parses the HTML as Telegram does (:func:`telegram_text`: supported tags only, balanced,
  known entities, at most 4,096 characters after parsing) and can be told to answer 429 with
  ``retry_after``, 403 (bot blocked) or 400 (chat not found).
- :class:`WebhookReceiver`: records every POST and whether its signature verifies; can answer
  scripted statuses, stall, or be stopped and restarted on the same port.
- :class:`SmtpServer`: aiosmtpd on its own thread, optionally with STARTTLS or implicit TLS
  (a trustme CA) and a login.

Each is a context manager; use them from fixtures.
"""

import contextlib
import json
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self, cast

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from resentry_core import verify_webhook

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Received:
    """One HTTP request a fake server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Reply:
    """What a fake server answers."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @classmethod
    def json(cls, status: int, value: object, **headers: str) -> "Reply":
        """A JSON answer."""
        return cls(
            status, json.dumps(value).encode(), {"Content-Type": "application/json", **headers}
        )


class FakeHttpServer:
    """A threaded HTTP server on 127.0.0.1 that records requests and answers with
    :meth:`answer` (override it). ``stop()``/``start()`` keep the port."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{LOOPBACK}:{self.port}"

    def answer(self, request: Received) -> Reply:
        """The reply to ``request`` (called on the server's thread)."""
        raise NotImplementedError

    def start(self) -> None:
        """Listen (again, on the same port once it had one)."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Received(
                    "POST",
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                fake.requests.append(request)
                reply = fake.answer(request)
                time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                # A client that timed out during ``delay`` is gone: that is the point.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.end_headers()
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer((LOOPBACK, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until :meth:`start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# Telegram's HTML parse mode (https://core.telegram.org/bots/api#html-style).
TELEGRAM_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "span",
        "blockquote",
        "tg-emoji",
    }
)
TELEGRAM_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class _TelegramHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            raise ValueError(f'Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            raise ValueError(f'Unexpected end tag "{tag}"')

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            raise ValueError("unescaped < or >")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in TELEGRAM_ENTITIES:
            raise ValueError(f"Unsupported entity &{name};")
        self.text.append(TELEGRAM_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        self.text.append(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))


def telegram_text(markup: str) -> str:
    """The text Telegram shows for HTML ``markup``; ValueError where Telegram answers
    "can't parse entities" (unknown or unbalanced tag, unknown entity, stray ``&`` or ``<``)."""
    for index, char in enumerate(markup):
        if (
            char == "&"
            and not any(markup.startswith(f"&{name};", index) for name in TELEGRAM_ENTITIES)
            and not markup.startswith("&#", index)
        ):
            raise ValueError(f"stray & at {index}")
    parser = _TelegramHtml()
    parser.feed(markup)
    parser.close()
    if parser.open:
        raise ValueError(f"unclosed tags {parser.open}")
    if parser.rawdata:
        raise ValueError(f"unparsed {parser.rawdata!r}")
    return "".join(parser.text)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (how Telegram counts)."""
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram(FakeHttpServer):
    """The Bot API's ``sendMessage`` for one bot token and a set of known chats.

    ``replies`` is a queue of scripted answers used before the normal behaviour;
    ``messages`` holds the ``sendMessage`` bodies it accepted.
    """

    def __init__(self, token: str, chats: set[str]) -> None:
        super().__init__()
        self.token = token
        self.chats = chats
        self.replies: deque[Reply] = deque()
        self.messages: list[dict[str, Any]] = []

    @staticmethod
    def error(status: int, description: str, **parameters: int) -> Reply:
        """A Bot API error answer, as Telegram shapes it."""
        body: dict[str, object] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return Reply.json(status, body)

    def answer(self, request: Received) -> Reply:
        if self.replies:
            return self.replies.popleft()
        prefix, _, method = request.path.rpartition("/")
        if prefix != f"/bot{self.token}":
            return self.error(401, "Unauthorized")
        if method != "sendMessage":
            return self.error(404, "Not Found")
        body = request.json()
        if str(body.get("chat_id")) not in self.chats:
            return self.error(400, "Bad Request: chat not found")
        try:
            text = telegram_text(body["text"]) if body.get("parse_mode") == "HTML" else body["text"]
        except ValueError as exc:
            return self.error(400, f"Bad Request: can't parse entities: {exc}")
        if not 1 <= utf16_len(text) <= 4096:
            return self.error(400, "Bad Request: message is too long")
        self.messages.append(body)
        return Reply.json(200, {"ok": True, "result": {"message_id": len(self.messages)}})


class WebhookReceiver(FakeHttpServer):
    """Receives webhooks signed with ``secret``; ``verified`` says, per request, whether
    the signature and timestamp verified. ``replies`` scripts answers (default 200)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.replies: deque[Reply] = deque()
        self.verified: list[bool] = []

    def answer(self, request: Received) -> Reply:
        self.verified.append(
            verify_webhook(
                self.secret,
                request.headers.get("x-resentry-timestamp", ""),
                request.body,
                request.headers.get("x-resentry-signature", ""),
                now=datetime.now(UTC),
            )
        )
        return self.replies.popleft() if self.replies else Reply(200, b"ok")


class _Mailbox:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def message_parts(message: Message) -> dict[str, str]:
    """The decoded text of each part of an e-mail, by content type."""
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()  # type: ignore[union-attr]
        for part in message.walk()
        if not part.is_multipart()
    }


class _LocalController(Controller):
    """aiosmtpd's Controller on a port the OS picks."""

    def _trigger_server(self) -> None:
        self.port = cast(Any, self.server).sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@dataclass
class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1.

    Args:
        security: ``none``, ``starttls`` (required before MAIL) or ``tls`` (implicit).
        login: ``(username, password)`` to require AUTH, or ``None``.
        ca: the trustme CA that signs the server's certificate (needed for TLS).
        refuse: addresses the server refuses at RCPT with ``550``.
        defer: addresses the server defers at RCPT with ``451`` (greylisting).
    """

    security: str = "none"
    login: tuple[str, str] | None = None
    ca: trustme.CA | None = None
    refuse: frozenset[str] = frozenset()
    defer: frozenset[str] = frozenset()
    mailbox: _Mailbox = field(default_factory=_Mailbox)
    port: int = 0
    _controller: Controller | None = None

    def messages(self) -> list[Message]:
        """Every message received, parsed."""
        return [
            message_from_bytes(envelope.original_content or b"")
            for envelope in self.mailbox.envelopes
        ]

    def recipients(self) -> list[list[str]]:
        """The RCPT TO addresses of each message received."""
        return [list(envelope.rcpt_tos) for envelope in self.mailbox.envelopes]

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.login is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.login
        )
        return AuthResult(success=ok, handled=False)

    def __enter__(self) -> Self:
        server_context = None
        if self.security != "none":
            assert self.ca is not None
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert(LOOPBACK).configure_cert(server_context)
        refuse, defer = self.refuse, self.defer

        class Handler(_Mailbox):
            async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
                self,
                server: SMTP,
                session: Session,
                envelope: Envelope,
                address: str,
                rcpt_options: list[str],
            ) -> str:
                if address in refuse:
                    return "550 No such user here"
                if address in defer:
                    return "451 Greylisted, try again later"
                envelope.rcpt_tos.append(address)
                return "250 OK"

        handler = Handler()
        handler.envelopes = self.mailbox.envelopes
        kwargs: dict[str, Any] = {"hostname": LOOPBACK, "port": 0}
        if self.security == "tls":
            kwargs["ssl_context"] = server_context
        elif self.security == "starttls":
            kwargs.update(tls_context=server_context, require_starttls=True)
        if self.login is not None:
            kwargs.update(
                authenticator=self._authenticate,
                auth_required=True,
                auth_require_tls=self.security != "none",
            )
        self._controller = _LocalController(handler, **kwargs)
        self._controller.start()
        self.port = self._controller.port
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def write_ca_bundle(ca: trustme.CA, directory: Path) -> str:
    """The CA's certificate as a PEM file (for ``SmtpConfig.ca_file``)."""
    path = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)
