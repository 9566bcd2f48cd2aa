"""A real SMTP server for tests (aiosmtpd on a free local port): it keeps what it accepts
and refuses recipients whose address starts with `bounce` (550, for good) or `later`
(451, for now)."""

from __future__ import annotations

import email
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Mailbox:
    """What the server accepted, in order, and the recipients it refused."""

    messages: list[Message] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.startswith(("bounce", "later")):
            with self.lock:
                self.refused.append(address)
            if address.startswith("later"):
                return "451 4.3.0 try again later"
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        with self.lock:
            self.messages.append(email.message_from_bytes(raw))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


def smtp_server(port: int) -> Iterator[tuple[Mailbox, str]]:
    """Run the server on 127.0.0.1:`port` for the duration: (its mailbox, its smtp:// URL)."""
    mailbox = Mailbox()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # as bot.sandbox.mailbox does
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
