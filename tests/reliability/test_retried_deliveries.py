"""Invariant 1 (no doubling by duplicate deliveries): every command, click and modal
submission delivered twice - as Slack's retry (`X-Slack-Retry-Num`) and as a byte-for-byte
replay within the 5-minute window - takes effect once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import redis

from bot.domain.timeline import Kind
from bot.render.blocks import ACK, ESCALATE, RESOLVE
from bot.sandbox.driver import Driver
from bot.sandbox.wire import Result
from bot.state.store import Store
from tests.e2e.support import Stack, wait_for
from tests.reliability.conftest import MakeStack
from tests.reliability.slack_helpers import click, declare, header
from tests.reliability.support import SOAK, log_events

pytestmark = pytest.mark.integration

# (command text, the timeline kind it records once)
COMMANDS = [
    ("note first responder notes", Kind.NOTE),
    ("ack", Kind.ACKNOWLEDGED),
    ("escalate need the DB owner", Kind.ESCALATED),
    ("page <@U0BOB0001|bob> please look", Kind.PAGE_REQUESTED),
    ("update error rate falling", Kind.STATUS_UPDATE),
    ("sev sev1 checkout fully down", Kind.SEVERITY_CHANGED),
    ("role comms <@U0CAROL01|carol>", Kind.NOTE),  # roles are recorded as notes
    ("mitigate", Kind.MITIGATED),
    ("resolve rolled back", Kind.RESOLVED),
    ("reopen", Kind.REOPENED),
]


def kinds(store: Store, incident_id: str) -> Counter[Kind]:
    return Counter(e.kind for e in store.timeline(incident_id))


def twice(driver: Driver, first: Result, how: str) -> Result:
    return driver.retry(first, num=1) if how == "retry" else driver.replay(first)


def duplicates(stack: Stack) -> int:
    """How many deliveries the web process has logged as duplicates so far."""
    return sum(e.get("event") == "duplicate_delivery" for e in log_events(stack.log_dir))


def open_view(stack: Stack, user: str, callback_id: str) -> dict[str, Any]:
    entries = wait_for(
        lambda: [v for v in stack.emulator.views(user) if v["callback_id"] == callback_id]
    )
    return {**entries[-1]["view"], "id": entries[-1]["id"]}


@pytest.mark.parametrize(
    "how", ["retry", "replay"] if SOAK else ["retry"]
)  # replay: also in security
class TestDuplicateDeliveries:
    def test_every_command_twice_has_one_effect(
        self, make_stack: MakeStack, r: redis.Redis, how: str
    ) -> None:
        """declare, note, ack, escalate, page, sev, role, update, mitigate, resolve, reopen: each sent twice, recorded once."""
        stack = make_stack()
        store = Store(r)
        driver = stack.driver()
        first = driver.slash("U0ERIN001", "declare sev2 Checkout errors")
        again = twice(driver, first, how)
        assert again.status == 200
        incident_id, channel = declare(stack, "declare sev2 Payments-api latency")
        assert r.scard("tocsin:open") == 2  # the duplicated declare made one incident
        for text, kind in COMMANDS:
            before = kinds(store, incident_id)[kind]
            result = driver.slash("U0ERIN001", text, channel_id=channel)
            assert result.status == 200
            assert not result.text.startswith(":no_entry:"), (text, result.text)
            assert kinds(store, incident_id)[kind] == before + 1, (text, result.text)
            again = twice(driver, result, how)
            assert again.status == 200
            # Answered only once the listener has passed its duplicate check (a command's
            # writes precede its answer): nothing said means it was taken for a duplicate.
            assert again.text == "", (text, again.text)
            assert kinds(store, incident_id)[kind] == before + 1, (text, kinds(store, incident_id))
        pages = [i for i in store.outbox(incident_id) if i.key.startswith("page:manual:")]
        assert [p.to for p in pages] == ["U0BOB0001"]
        # Each line a request logs names who sent it (bot.slack.app.PerRequest), unasked.
        told = [e for e in log_events(stack.log_dir) if e.get("event") == "duplicate_delivery"]
        assert len(told) == len(COMMANDS) + 1
        assert {(e.get("user_id"), e.get("team_id")) for e in told} == {("U0ERIN001", "T0SANDBOX")}
        # Deliveries to Slack happened once each too.
        wait_for(lambda: all(i.status == "sent" for i in store.outbox(incident_id)), timeout=30)
        notes = [
            m
            for m in stack.emulator.transcript(channel)
            if "Acknowledged by" in str(m["text"]) or "Escalated by" in str(m["text"])
        ]
        assert len(notes) == 2, [m["text"] for m in notes]

    def test_every_click_and_modal_submission_twice_has_one_effect(
        self, make_stack: MakeStack, r: redis.Redis, how: str
    ) -> None:
        """Acknowledge, Escalate, the declare, update and resolve modals: each delivered twice, applied once."""
        stack = make_stack()
        store = Store(r)
        driver = stack.driver()
        # The declare modal.
        driver.slash("U0ERIN001", "")
        view = open_view(stack, "U0ERIN001", "declare_incident")
        values = {
            "title": "Search is slow",
            "service": "checkout",
            "users_affected": "lt5",
            "severity": "sev2",
            "description": "p99 at 4s",
        }
        submitted = driver.submit_view("U0ERIN001", view, values)
        assert submitted.status == 200
        assert twice(driver, submitted, how).status == 200
        wait_for(lambda: r.scard("tocsin:open") >= 1)
        # The listener acks before it declares: its log of the duplicate comes after both.
        wait_for(lambda: duplicates(stack) >= 1, timeout=10)
        assert r.scard("tocsin:open") == 1
        (incident_id,) = store.open_ids()
        channel = wait_for(lambda: store.get(incident_id).channel_id, timeout=30)
        wait_for(lambda: stack.emulator.pins(channel), timeout=30)
        message = header(stack, channel)
        duplicates_seen = duplicates(stack)
        for action, kind in ((ACK, Kind.ACKNOWLEDGED), (ESCALATE, Kind.ESCALATED)):
            result = click(stack, "U0ERIN001", message, action)
            assert result.status == 200
            assert twice(driver, result, how).status == 200
            wait_for(lambda k=kind: kinds(store, incident_id)[k] >= 1, timeout=10)
            # The listener acks before it works: its log of the duplicate comes after both.
            wait_for(lambda n=duplicates_seen: duplicates(stack) > n, timeout=10)
            duplicates_seen = duplicates(stack)
            assert kinds(store, incident_id)[kind] == 1, action
        # The status update modal.
        driver.slash("U0ERIN001", "update", channel_id=channel)
        view = open_view(stack, "U0ERIN001", "status_update")
        values = {
            "status": "identified",
            "symptoms": "slow queries",
            "actions": "added an index",
            "next_steps": "watch p99",
            "next_in": "1800",
        }
        submitted = driver.submit_view("U0ERIN001", view, values)
        assert twice(driver, submitted, how).status == 200
        # Both answered: the update acks after posting, the duplicate after its refusal.
        wait_for(lambda n=duplicates_seen: duplicates(stack) > n, timeout=10)
        duplicates_seen = duplicates(stack)
        assert kinds(store, incident_id)[Kind.STATUS_UPDATE] == 1
        # The resolve modal, opened from the header's Resolve button.
        click(stack, "U0ERIN001", header(stack, channel), RESOLVE)
        view = open_view(stack, "U0ERIN001", "resolve_incident")
        submitted = driver.submit_view("U0ERIN001", view, {"summary": "index added"})
        assert twice(driver, submitted, how).status == 200
        wait_for(lambda n=duplicates_seen: duplicates(stack) > n, timeout=10)
        assert kinds(store, incident_id)[Kind.RESOLVED] == 1
        wait_for(lambda: all(i.status == "sent" for i in store.outbox(incident_id)), timeout=30)
        updates = [m for m in stack.emulator.transcript("C0STATUS") if "update 1" in m["text"]]
        assert len(updates) == 1
