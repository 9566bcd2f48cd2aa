"""Pages off Slack, each part against the real thing: email through a real SMTP server
(aiosmtpd), the composite pager's routing and its reply book in a real Valkey."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import redis

from bot.config.settings import Settings, SettingsError
from bot.domain.incident import Incident
from bot.domain.outbox import OutboxKind
from bot.notify import Notice
from bot.notify.email import EmailMethod, message_id
from bot.notify.email import build as email_method
from bot.notify.pager import NotifyPager, notice_for
from bot.notify.registry import Methods, build_methods
from bot.paging import DeliveryError, Undeliverable
from bot.paging.recording import RecordingPager, delivery_counts
from bot.sandbox.stack import free_port
from bot.state.replies import ReplyBook
from bot.state.store import OutboxItem, Store
from tests.mailbox import Mailbox, smtp_server

SENDER = "tocsin@example.com"
DECLARED = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, str]]:
    yield from smtp_server(free_port())


def incident(number: int = 1) -> Incident:
    return Incident(
        f"20261127-{number}", "Checkout errors", "checkout", "sev1", "U0ERIN001", DECLARED
    )


def page(method: str = "email", address: str = "alice@example.com") -> OutboxItem:
    return OutboxItem(
        "page:0:0:U0ALICE01|email",
        OutboxKind.PAGE,
        "U0ALICE01",
        "*mrkdwn* never goes off Slack",
        method=method,
        address=address,
        created_at=DECLARED.timestamp(),
    )


class TestEmail:
    def test_a_page_by_email_is_plain_text_with_its_ack_link_and_a_stable_message_id(
        self, mail: tuple[Mailbox, str]
    ) -> None:
        """The mail server gets the page with the acknowledge link; the Message-ID comes
        from the outbox key alone, so a resend after a crash carries the same one."""
        mailbox, url = mail
        method = EmailMethod(url, SENDER)
        notice = replace(
            notice_for(page(), incident()), ack_url="https://tocsin.example.com/notify/email/x"
        )
        ref = method.send(notice, "alice@example.com")
        again = method.send(notice, "alice@example.com")  # a retry after a crash mid-send
        first, second = mailbox.to("alice@example.com")
        assert ref == again == first["Message-ID"] == second["Message-ID"]
        assert ref == message_id(notice, "example.com")
        text = first.get_payload(decode=True).decode()
        assert "Acknowledge: https://tocsin.example.com/notify/email/x" in text
        assert "*mrkdwn*" not in text
        assert first["Subject"] == "[SEV1] Checkout errors (20261127-1)"
        assert method.find(notice, "alice@example.com", 0.0) is None  # SMTP cannot say

    def test_a_refused_recipient_is_undeliverable_a_4xx_is_retried(
        self, mail: tuple[Mailbox, str]
    ) -> None:
        """550 fails that page for good (the next method starts); 451 is worth a retry."""
        method = EmailMethod(mail[1], SENDER)
        notice = notice_for(page(), incident())
        with pytest.raises(Undeliverable) as never:
            method.send(notice, "bounce@example.com")
        assert never.value.code == "recipient_refused"
        assert "550" in never.value.reason
        with pytest.raises(DeliveryError) as later:
            method.send(notice, "later@example.com")
        assert not later.value.wide

    def test_a_server_that_cannot_be_reached_stops_only_email(self) -> None:
        """No server listening: a wide DeliveryError (every email would fail now)."""
        method = EmailMethod(f"smtp://127.0.0.1:{free_port()}", SENDER)
        with pytest.raises(DeliveryError) as down:
            method.send(notice_for(page(), incident()), "alice@example.com")
        assert down.value.wide

    def test_settings_build_email_only_when_the_smtp_url_is_set(self) -> None:
        """TOCSIN_SMTP_URL and TOCSIN_SMTP_FROM go together; a bad URL is named, masked."""
        only_email = (email_method,)  # the other builders read their own settings
        assert build_methods(Settings.from_env({}), {}, only_email).names == {"slack"}
        env = {
            "TOCSIN_SMTP_URL": "smtps://u:secret@mail.example.com:465",
            "TOCSIN_SMTP_FROM": SENDER,
        }
        assert build_methods(Settings.from_env(env), env, only_email).names == {"slack", "email"}
        with pytest.raises(SettingsError, match="TOCSIN_SMTP_FROM"):
            Settings.from_env({"TOCSIN_SMTP_URL": "smtp://mail.example.com"})
        with pytest.raises(SettingsError) as bad:
            Settings.from_env({"TOCSIN_SMTP_URL": "http://u:secret@x", "TOCSIN_SMTP_FROM": SENDER})
        assert "secret" not in str(bad.value)
        assert "secret" not in repr(Settings.from_env(env))


class TestNotifyPager:
    def test_routes_by_method_and_remembers_each_page_for_replies(
        self, mail: tuple[Mailbox, str], r: redis.Redis
    ) -> None:
        """Slack items go to the Slack pager, an email to the email method; the reply book
        then finds the page by (method, address) and its code, until it is acknowledged."""
        store = Store(r)
        mailbox, url = mail
        book = ReplyBook(store)
        pager = NotifyPager(RecordingPager(r), Methods([EmailMethod(url, SENDER)]), book)
        inc = incident()
        with store.transaction() as pipe:
            store.put(inc, pipe)
        dm = replace(page("slack", ""), key="page:0:0:U0ALICE01")
        pager.deliver(dm, inc)
        pager.deliver(page(), inc)
        assert delivery_counts(r) == {f"{inc.id}:page:0:0:U0ALICE01": 1}
        assert len(mailbox.to("alice@example.com")) == 1
        code = notice_for(page(), inc).reply_code
        assert book.page_for("email", "Alice@Example.com", code) == (inc.id, "U0ALICE01")
        assert (
            book.page_for("email", "alice@example.com", "0000" if code != "0000" else "1") is None
        )
        assert book.page_for("sms", "alice@example.com", None) is None
        acked = replace(inc, status=inc.status.ACKNOWLEDGED)
        with store.transaction() as pipe:
            store.put(acked, pipe)
        assert book.page_for("email", "alice@example.com", None) is None

    def test_a_method_not_set_up_is_undeliverable(self, r: redis.Redis) -> None:
        """A page by a method this process has no settings for fails for good (so the
        person's next method starts), and is never retried."""
        pager = NotifyPager(RecordingPager(r), Methods())
        with pytest.raises(Undeliverable) as never:
            pager.deliver(page("sms", "+4930123456"), incident())
        assert never.value.code == "no_method"


def test_notice_is_plain_text() -> None:
    """A notice names the incident in plain text with a 4-digit reply code."""
    notice: Notice = notice_for(page(), incident())
    assert notice.summary.startswith("SEV1 incident 20261127-1: Checkout errors")
    assert notice.reply_code is not None
    assert len(notice.reply_code) == 4
    assert notice.user == "U0ALICE01"
