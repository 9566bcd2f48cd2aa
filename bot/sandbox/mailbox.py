"""The sandbox's mail server: a real SMTP server (aiosmtpd) that keeps each recipient's mail.

The bot's email method sends to it as to any SMTP relay (`TOCSIN_SMTP_URL=smtp://host:port`,
set by bot.sandbox.stack); the sandbox page shows the acting person's mailbox (mailbox.js),
the acknowledge link of an email page clickable.

GET /sandbox/mailbox?user=U…     that person's mail (by their workspace email address)
GET /sandbox/mailbox?address=…   one address's mail
GET /sandbox/mailbox             every mailbox

No authentication and no TLS: it listens on loopback for the local stack only, and accepts
mail for any address (a real relay would refuse unknown ones; the sandbox keeps them all).
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.sandbox.ports import free_port
from bot.sandbox.server import Request, Response, Router

KEEP = 50  # mails remembered per address
MAX_MAIL = 1024 * 1024  # bytes: a page is a few KB
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_TAG = re.compile(r"<[^>]+>")


def readable(message: EmailMessage) -> str:
    """The mail's text (its lines as \n): its text/plain part, else its HTML part without
    the tags."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = str(part.get_content()).replace("\r\n", "\n")
    return _TAG.sub("", content) if part.get_content_type() == "text/html" else content


class Mailbox:
    """`start()` it; `url` is what TOCSIN_SMTP_URL is set to."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.lock = threading.Lock()
        self.boxes: defaultdict[str, deque[dict[str, Any]]] = defaultdict(
            lambda: deque(maxlen=KEEP)
        )
        self.count = 0
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> Mailbox:
        # aiosmtpd logs every connection at INFO ("mail.log"), its own start-up self-test's
        # too: noise for the sandbox, and printed as a logging error wherever an earlier
        # handler's stream has been closed (seen in a test run); its warnings still show
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        if self._controller is None:
            self.port = self.port or free_port(self.host)
            self._controller = Controller(
                self, hostname=self.host, port=self.port, data_size_limit=MAX_MAIL
            )
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Each accepted mail, from aiosmtpd (whose hook this is, by name): kept once per
        recipient."""
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = readable(message)
        with self.lock:
            self.count += 1
            mail = {
                "id": self.count,
                "at": time.time(),
                "from": str(message.get("From", envelope.mail_from or "")),
                "to": [str(r) for r in envelope.rcpt_tos],
                "subject": str(message.get("Subject", "")),
                "text": body,
                "links": _URL.findall(body),
            }
            for recipient in envelope.rcpt_tos:
                self.boxes[recipient.lower()].append(mail)
        return "250 Message accepted for delivery"

    def mails(self, address: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.boxes.get(address.lower(), ()))

    def register(self, router: Router, address_of: Callable[[str], str]) -> None:
        """`GET /sandbox/mailbox`; `address_of(user_id)`: a person's address ("" if none)."""

        def answer(request: Request) -> Response:
            user = request.query.get("user", "")
            address = address_of(user) if user else request.query.get("address", "")
            if address:
                return Response.of_json(
                    {"ok": True, "address": address, "mails": self.mails(address)}
                )
            with self.lock:
                every = {a: list(box) for a, box in self.boxes.items()}
            return Response.of_json({"ok": True, "smtp": self.url, "mailboxes": every})

        router.add("GET", r"/sandbox/mailbox", answer)
