"""Pages by email, over SMTP (`TOCSIN_SMTP_URL`, from `TOCSIN_SMTP_FROM`).

What exactly-once means here. SMTP cannot be asked "did you already get this message?",
so `find` always answers None: after a worker died between handing the message to the
server and recording that it did, the retry sends it again. What keeps that honest is
the Message-ID: it is derived from the incident and the outbox key alone, so the resend
carries the same Message-ID as the first. Mail clients and most servers treat two
messages with one Message-ID as one (Gmail and others show it once; clients thread them
together). So a crash in that window can make a second copy reach the server, never a
second distinct page; every other failure (refused before the end of DATA, connection
lost earlier) sent nothing, and the retry is the first copy.

Failures: a recipient or message refused for good (a 5xx reply: no such mailbox, the
message rejected) is `Undeliverable`: the person's next method starts at once. A 4xx reply
(greylisting, a full queue) is a `DeliveryError` retried with backoff, and so is a server
that cannot be reached or refuses our login or sender (`wide`: every email would fail now,
while Slack and the other methods go on).
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from bot import clock
from bot.config.settings import Settings
from bot.notify import Notice
from bot.paging import DeliveryError, Undeliverable

TIMEOUT_S = 15.0


def message_id(notice: Notice, domain: str) -> str:
    """The same on every attempt of one page: from the incident and the outbox key only."""
    digest = hashlib.sha256(f"{notice.incident_id}\0{notice.key}".encode()).hexdigest()
    return f"<tocsin.{digest[:40]}@{domain}>"


def body(notice: Notice) -> str:
    """The email's plain-text body (never mrkdwn)."""
    lines = [notice.summary, "", f"Incident: {notice.incident_id}", f"Title: {notice.title}"]
    lines += [f"Severity: {notice.severity}", f"Service: {notice.service}"]
    if notice.ack_url:
        lines += ["", f"Acknowledge: {notice.ack_url}"]
    lines += ["", "You get this page by email because your notification rules say so."]
    return "\n".join(lines) + "\n"


class EmailMethod:
    """Sends a notice as one email to one address."""

    name = "email"

    def __init__(self, url: str, sender: str) -> None:
        parsed = urlsplit(url)
        self.tls = parsed.scheme == "smtps"
        self.host = parsed.hostname or "localhost"
        self.port = parsed.port or (465 if self.tls else 25)
        self.user = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None
        self.sender = sender
        self.domain = sender.rpartition("@")[2] or "tocsin.invalid"

    def compose(self, notice: Notice, address: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = address
        message["Subject"] = f"[{notice.severity.upper()}] {notice.title} ({notice.incident_id})"
        message["Message-ID"] = message_id(notice, self.domain)
        message["Date"] = formatdate(clock.now_ts())
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to pages
        message.set_content(body(notice))
        return message

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=TIMEOUT_S, context=context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_S)
            smtp.ehlo()
            if smtp.has_extn("starttls"):  # smtp://: encrypted whenever the server offers it
                smtp.starttls(context=context)
                smtp.ehlo()
        if self.user:
            smtp.login(self.user, self.password or "")
        return smtp

    def send(self, notice: Notice, address: str) -> str:
        message = self.compose(notice, address)
        try:
            with self._connect() as smtp:
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()), (550, b"refused"))
            raise _failure(code, reason, "recipient_refused") from exc
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused) as exc:
            raise DeliveryError(f"SMTP server refused us: {exc.smtp_code}", wide=True) from exc
        except smtplib.SMTPResponseException as exc:
            raise _failure(exc.smtp_code, exc.smtp_error, "message_refused") from exc
        except (smtplib.SMTPException, OSError) as exc:  # unreachable, disconnected, TLS
            raise DeliveryError(
                f"SMTP server unreachable: {type(exc).__name__}", wide=True
            ) from exc
        return str(message["Message-ID"])

    def find(self, notice: Notice, address: str, since: float) -> str | None:
        """SMTP cannot say whether it got a message: never found, so a retry re-sends it
        with the same Message-ID (see the module's docstring)."""
        return None


def _failure(code: int, reason: bytes | str, what: str) -> Exception:
    text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
    if 500 <= code < 600:
        return Undeliverable(what, f"the mail server refused it ({code} {text.strip()})")
    return DeliveryError(f"SMTP {code}: {text.strip()}")


def build(settings: Settings, env: Mapping[str, str] | None = None) -> EmailMethod | None:
    """Email, when TOCSIN_SMTP_URL and TOCSIN_SMTP_FROM are set."""
    if not settings.smtp_url or not settings.smtp_from:
        return None
    return EmailMethod(settings.smtp_url, settings.smtp_from)
