"""The sandbox's mail server: a real SMTP server whose mail shows in each person's mailbox."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import urlsplit

from bot.sandbox.emulator import Emulator
from tests.sandbox.conftest import Admin

LINK = "http://127.0.0.1:8000/notify/ack/eyJpIjoiMjAyNjExMjctMSJ9.c2ln"


def send(emulator: Emulator, to: str, subject: str, text: str, html: str | None = None) -> None:
    where = urlsplit(emulator.mailbox.url)
    assert where.scheme == "smtp"
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "tocsin@example.com", to, subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    with smtplib.SMTP(where.hostname or "", where.port or 0, timeout=5) as smtp:
        smtp.send_message(message)


def test_a_mail_sent_over_smtp_shows_in_its_persons_mailbox(
    emulator: Emulator, admin: Admin
) -> None:
    """smtplib to the sandbox's SMTP address; alice's mailbox (by her workspace email) has
    the mail with its text and its acknowledge link; bob's stays empty."""
    text = f"You are paged for SEV1 20261127-1 · Checkout errors.\nAcknowledge: {LINK}\n"
    send(
        emulator,
        "alice@example.com",
        "[SEV1] Checkout errors",
        text,
        f"<p>ignored <a href='{LINK}'>x</a></p>",
    )
    alice = admin("/sandbox/mailbox?user=U0ALICE01")
    assert alice["address"] == "alice@example.com"
    [mail] = alice["mails"]
    assert mail["subject"] == "[SEV1] Checkout errors"
    assert mail["text"].strip() == text.strip()  # the text part, not the HTML one
    assert mail["links"] == [LINK]
    assert mail["to"] == ["alice@example.com"]
    assert admin("/sandbox/mailbox?user=U0BOB0001")["mails"] == []
    everything = admin("/sandbox/mailbox")
    assert everything["smtp"] == emulator.mailbox.url
    assert list(everything["mailboxes"]) == ["alice@example.com"]


def test_an_html_only_mail_is_shown_as_its_text(emulator: Emulator, admin: Admin) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "x@example.com", "Bob@Example.com", "hi"
    message.set_content(f"<p>Acknowledge: <a href='{LINK}'>{LINK}</a></p>", subtype="html")
    where = urlsplit(emulator.mailbox.url)
    with smtplib.SMTP(where.hostname or "", where.port or 0, timeout=5) as smtp:
        smtp.send_message(message)
    [mail] = admin("/sandbox/mailbox?address=bob@example.com")["mails"]
    assert mail["text"].strip() == f"Acknowledge: {LINK}"
    assert mail["links"] == [LINK]
