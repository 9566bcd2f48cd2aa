"""The outbox drain with pages by several methods, in-process: the recording pager for the
Slack DMs, email through a real SMTP server (aiosmtpd), a real Valkey. What a crash mid-send
means for an email, how a bounce moves the person on, and that one method failing holds
up none of the others."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis

from bot.config.settings import Settings
from bot.domain.outbox import OutboxKind, OutboxStatus
from bot.incident.delivery import Delivery
from bot.notify.email import EmailMethod
from bot.notify.pager import NotifyPager
from bot.notify.registry import Methods
from bot.paging.recording import RecordingPager, delivery_counts
from bot.runtime import Runtime
from bot.sandbox.stack import free_port
from bot.state.replies import ReplyBook
from bot.state.store import OutboxItem
from tests.integration.test_outbox_drain import incident_owing, items
from tests.mailbox import Mailbox, smtp_server

pytestmark = pytest.mark.integration
SENDER = "tocsin@example.com"
KEY = "page:0:0:U0ALICE01"


@pytest.fixture
def rt(worker_env: dict[str, str]) -> Runtime:
    return Runtime.build(Settings.from_env(worker_env), owner="w1", inline_delivery=False)


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, str]]:
    yield from smtp_server(free_port())


def delivery(rt: Runtime, r: redis.Redis, smtp_url: str) -> Delivery:
    methods = Methods([EmailMethod(smtp_url, SENDER)])
    pager = NotifyPager(RecordingPager(r), methods, ReplyBook(rt.store))
    return Delivery(rt.store, pager, rt.escalation.timers, "w1", 5.0)


def by(method: str, address: str, *, at: float = 1.0, not_before: float = 0.0) -> OutboxItem:
    key = KEY if method == "slack" else f"{KEY}|{method}"
    return OutboxItem(
        key,
        OutboxKind.PAGE,
        "U0ALICE01",
        "Checkout errors",
        via="user:U0ALICE01",
        created_at=at,
        method=method,
        address=None if method == "slack" else address,
        not_before=not_before,
    )


def test_an_email_attempted_before_a_crash_is_sent_again_with_the_same_message_id(
    rt: Runtime, r: redis.Redis, mail: tuple[Mailbox, str]
) -> None:
    """SMTP cannot be asked whether the first attempt landed: the retry re-sends it, and the
    copy carries the first one's Message-ID, so mail clients show one page."""
    mailbox, url = mail
    email = by("email", "alice@example.com")
    incident_id = incident_owing(rt, email)
    pager = delivery(rt, r, url).pager
    first = pager.deliver(email, rt.store.get(incident_id))  # the send, then the crash
    email.attempts = 1
    rt.store.save_outbox_item(incident_id, email)
    assert delivery(rt, r, url).drain_many([incident_id]).sent == 1
    copies = mailbox.to("alice@example.com")
    assert [m["Message-ID"] for m in copies] == [first, first]
    assert items(rt.store, incident_id)[email.key].ref == first


def test_a_bounce_starts_the_next_method_at_once(
    rt: Runtime, r: redis.Redis, mail: tuple[Mailbox, str]
) -> None:
    """alice's address bounces: her DM, due an hour later, is due now and a drain is owed."""
    email = by("email", "bounce@example.com")
    dm = by("slack", "", not_before=10**10)
    incident_id = incident_owing(rt, email, dm)
    drained = delivery(rt, r, mail[1]).drain_many([incident_id])
    assert drained.notices == [incident_id]  # the drain that sends the DM now
    after = items(rt.store, incident_id)
    assert after[email.key].status is OutboxStatus.FAILED
    assert after[KEY].status is OutboxStatus.PENDING
    assert after[KEY].not_before < 10**10
    assert delivery(rt, r, mail[1]).drain_many([incident_id]).sent == 1
    assert delivery_counts(r) == {f"{incident_id}:{KEY}": 1}
    assert not any(i.key.startswith("announce:unreached") for i in after.values())


def test_the_mail_server_down_holds_up_no_other_method(rt: Runtime, r: redis.Redis) -> None:
    """Every email fails now (wide): the DMs after it in the drain still go; the email is
    retried, and nobody is said to be unreachable."""
    down = f"smtp://127.0.0.1:{free_port()}"
    bob = replace(by("slack", ""), key="page:0:0:U0BOB0001", to="U0BOB0001", created_at=2.0)
    bob_mail = replace(
        by("email", "bob@example.com", at=0.5), key="page:0:0:U0BOB0001|email", to="U0BOB0001"
    )
    incident_id = incident_owing(rt, by("email", "alice@example.com", at=0.5), bob_mail, bob)
    drained = delivery(rt, r, down).drain_many([incident_id])
    assert drained.sent == 1
    assert any("not attempted (email failing)" in f for f in drained.failures[incident_id])
    after = items(rt.store, incident_id)
    assert after["page:0:0:U0BOB0001"].status is OutboxStatus.SENT
    assert after[f"{KEY}|email"].status is OutboxStatus.PENDING
    assert after[f"{KEY}|email"].last_error is not None


def test_an_ack_skips_the_later_rules_and_the_pages_owed_before_it(
    rt: Runtime, r: redis.Redis, mail: tuple[Mailbox, str]
) -> None:
    """Acknowledged before the drain: the pending email rule and the DM owed since before the
    acknowledgement are both skipped, never sent (nobody is woken after an ack)."""
    email = by("email", "alice@example.com")
    incident_id = incident_owing(rt, email, by("slack", "", at=1.0))
    rt.engine.acknowledge(incident_id, "U0ERIN001")
    delivery(rt, r, mail[1]).drain_many([incident_id])  # the ack's own notices may go
    after = items(rt.store, incident_id)
    assert after[email.key].status is OutboxStatus.SKIPPED
    assert after[KEY].status is OutboxStatus.SKIPPED
    assert mail[0].to("alice@example.com") == []
