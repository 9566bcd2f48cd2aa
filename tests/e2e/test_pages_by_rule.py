"""Pages that wake people: each person's notification rules (people.yaml) send a page by
Slack and by email (a real SMTP server), later rules wait for their time and stop on an
ack, a bounced address moves on to the next method, and Slack failing does not hold up
the email. The real stack: `tocsin web`, an rq worker process, the Slack emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.domain.outbox import OutboxKind
from bot.sandbox.stack import free_port
from bot.sandbox.workspace import UserSpec, WorkspaceSpec, load_workspace
from bot.state.server import connect
from bot.state.store import OutboxItem, Store
from tests.e2e.support import Stack, wait_for
from tests.e2e.test_declare_flow import declare, dm_texts, incident_channel, texts
from tests.mailbox import Mailbox, smtp_server

ALICE = "U0ALICE01"
GONE = "U0GONE001"
SENDER = "tocsin@example.com"


def policy(*users: str) -> str:
    return f"""\
name: checkout
services: [checkout]
steps:
  - notify: [{", ".join(f"user:{u}" for u in users)}]
    wait: 5m
repeat: 0
fallback_channel: C0INCIDENTS
"""


@pytest.fixture
def mail() -> Iterator[tuple[Mailbox, str]]:
    yield from smtp_server(free_port())


@pytest.fixture
def mailbox(mail: tuple[Mailbox, str]) -> Mailbox:
    return mail[0]


@pytest.fixture
def stack_settings(mail: tuple[Mailbox, str]) -> dict[str, str]:
    return {"TOCSIN_SMTP_URL": mail[1], "TOCSIN_SMTP_FROM": SENDER}


def people_yaml(*people: tuple[str, str, list[tuple[str, str]]]) -> str:
    """people.yaml: each (user, email, [(after, via), ...])."""
    lines = ["people:"]
    for user, address, rules in people:
        lines += [f"  {user}:", f"    email: {address}", "    notify:"]
        lines += [f"      - {{after: {after}, via: {via}}}" for after, via in rules]
    return "\n".join(lines) + "\n"


def pages(stack: Stack, user: str) -> dict[str, OutboxItem]:
    """The pages to `user` of the one incident, by key."""
    store = Store(connect(stack.env["REDIS_URL"]))
    (incident_id,) = store.open_ids()
    return {
        i.key: i for i in store.outbox(incident_id) if i.kind is OutboxKind.PAGE and i.to == user
    }


def timeline(stack: Stack) -> list[str]:
    store = Store(connect(stack.env["REDIS_URL"]))
    (incident_id,) = store.open_ids()
    return [e.text for e in store.timeline(incident_id)]


class TestLaterRules:
    @pytest.fixture
    def stack_policies(self) -> dict[str, str]:
        people = people_yaml((ALICE, "alice@example.com", [("0m", "slack"), ("4s", "email")]))
        return {"checkout.yaml": policy(ALICE), "people.yaml": people}

    def test_slack_goes_at_once_and_the_email_only_after_its_delay(
        self, stack: Stack, mailbox: Mailbox
    ) -> None:
        """alice's DM goes when she is paged; her email, 4 s later, by its own outbox item."""
        declare(stack, "declare sev2 Checkout errors")
        wait_for(lambda: dm_texts(stack, ALICE))
        (message,) = wait_for(lambda: mailbox.to("alice@example.com"))
        assert "Checkout errors" in str(message["Subject"])
        assert "Acknowledge in Slack" in message.get_payload(decode=True).decode()
        # the mail server has the mail a moment before the worker records it as sent
        found = wait_for(
            lambda: (f := pages(stack, ALICE))[f"page:0:0:{ALICE}|email"].sent_at and f
        )
        dm, mail = found[f"page:0:0:{ALICE}"], found[f"page:0:0:{ALICE}|email"]
        assert dm.method == "slack"
        assert mail.method == "email"
        assert mail.not_before == mail.created_at + 4
        assert dm.sent_at is not None
        assert dm.sent_at < mail.not_before
        assert mail.sent_at is not None
        assert mail.sent_at >= mail.not_before
        assert message["Message-ID"] == mail.ref
        assert f"paged <@{ALICE}> by email (step 1, via <@{ALICE}> directly)" in timeline(stack)

    def test_a_page_by_hand_follows_the_rules_too(self, stack: Stack, mailbox: Mailbox) -> None:
        """`/incident page @alice` owes her DM and, 4 s later, her email, like a policy page."""
        cid = declare(stack, "declare sev2 Checkout errors")
        wait_for(lambda: dm_texts(stack, ALICE))  # the policy's page; its email is due later
        reply = stack.driver().slash("U0ERIN001", f"page <@{ALICE}> still failing", channel_id=cid)
        assert reply.status == 200
        wait_for(lambda: len(mailbox.to("alice@example.com")) == 2)
        manual = [k for k in pages(stack, ALICE) if k.startswith("page:manual:")]
        assert len(manual) == 2
        assert sum(k.endswith("|email") for k in manual) == 1
        assert {pages(stack, ALICE)[k].status for k in manual} == {"sent"}

    def test_an_ack_before_the_delay_means_no_email(self, stack: Stack, mailbox: Mailbox) -> None:
        """alice acknowledges at once: her email rule is skipped, said nowhere, and never sent."""
        cid = declare(stack, "declare sev2 Checkout errors")
        wait_for(lambda: dm_texts(stack, ALICE))
        assert stack.driver().slash(ALICE, "ack", channel_id=cid).status == 200
        key = f"page:0:0:{ALICE}|email"
        wait_for(lambda: pages(stack, ALICE)[key].status == "skipped", timeout=15)
        assert mailbox.to("alice@example.com") == []
        assert not [t for t in timeline(stack) if "by email" in t]
        assert not [t for t in texts(stack, cid) if "email" in t]


class TestFailingMethods:
    @pytest.fixture
    def stack_workspace(self) -> WorkspaceSpec:
        spec = load_workspace()
        gone = UserSpec(id=GONE, name="gone", real_name="Gone Away", deleted=True)
        return spec.model_copy(update={"users": (*spec.users, gone)})

    @pytest.fixture
    def stack_policies(self) -> dict[str, str]:
        # alice's address bounces: her Slack rule (an hour later) starts at once instead;
        # gone's account is deactivated and their address bounces: nothing is left
        people = people_yaml(
            (ALICE, "bounce-alice@example.com", [("0m", "email"), ("1h", "slack")]),
            (GONE, "bounce-gone@example.com", [("0m", "slack"), ("1h", "email")]),
        )
        return {"checkout.yaml": policy(ALICE, GONE), "people.yaml": people}

    def test_a_bounce_moves_on_and_with_nothing_left_says_could_not_reach(
        self, stack: Stack, mailbox: Mailbox
    ) -> None:
        """A 550 moves alice to Slack at once; gone, unreachable by both, is named in the
        incident channel and the fallback channel."""
        cid = declare(stack, "declare sev2 Checkout errors")
        wait_for(lambda: dm_texts(stack, ALICE), timeout=15)
        said = f"Could not reach <@{GONE}> by any method"
        wait_for(lambda: [t for t in texts(stack, cid) if said in t], timeout=15)
        wait_for(lambda: [t for t in texts(stack, "C0INCIDENTS") if said in t])
        assert "bounce-alice@example.com" in mailbox.refused
        assert "bounce-gone@example.com" in mailbox.refused
        mine, theirs = pages(stack, ALICE), pages(stack, GONE)
        assert mine[f"page:0:0:{ALICE}|email"].status == "failed"
        assert mine[f"page:0:0:{ALICE}"].status == "sent"
        assert {i.status for i in theirs.values()} == {"failed"}
        assert not [t for t in texts(stack, cid) if f"Could not reach <@{ALICE}>" in t]


class TestSlackDown:
    @pytest.fixture
    def stack_policies(self) -> dict[str, str]:
        people = people_yaml((ALICE, "alice@example.com", [("0m", "slack"), ("0m", "email")]))
        return {"checkout.yaml": policy(ALICE), "people.yaml": people}

    def test_slack_failing_still_sends_the_email_and_slack_catches_up(
        self, stack: Stack, mailbox: Mailbox
    ) -> None:
        """Every chat.postMessage fails: alice's email goes anyway; her DM once Slack is back."""
        stack.emulator.faults.add("503", method="chat.postMessage", rate=1.0)
        assert stack.driver().slash("U0ERIN001", "declare sev2 Checkout errors").status == 200
        wait_for(lambda: mailbox.to("alice@example.com"), timeout=15)
        dm = wait_for(lambda: pages(stack, ALICE).get(f"page:0:0:{ALICE}"))
        assert dm.status == "pending"
        assert dm.last_error is not None
        assert dm_texts(stack, ALICE) == []
        stack.emulator.faults.clear()
        wait_for(lambda: dm_texts(stack, ALICE), timeout=20)
        wait_for(lambda: incident_channel(stack))
        assert len(mailbox.to("alice@example.com")) == 1


def home(stack: Stack, user: str, shows: str) -> dict[str, Any]:
    """`user`'s App Home once it shows `shows`, with its id (as the driver clicks it)."""

    def published() -> dict[str, Any] | None:
        for entry in stack.emulator.views(user):
            if entry["view"].get("type") == "home" and shows in json.dumps(entry["view"]):
                return {**entry["view"], "id": entry["id"]}
        return None

    return dict(wait_for(published))


def form(stack: Stack, user: str) -> dict[str, Any]:
    entries = wait_for(
        lambda: [v for v in stack.emulator.views(user) if v["callback_id"] == "notify_rules"]
    )
    return {**entries[-1]["view"], "id": entries[-1]["id"]}


class TestOwnRules:
    @pytest.fixture
    def stack_policies(self) -> dict[str, str]:
        people = f"people:\n  {ALICE}:\n    email: alice@example.com\n"
        return {"checkout.yaml": policy(ALICE), "people.yaml": people}

    def test_a_person_sets_their_own_rules_from_the_app_home(
        self, stack: Stack, mailbox: Mailbox
    ) -> None:
        """alice asks for SMS without a phone (refused, named), then for email 2 s after
        Slack: her Home shows it with who set it, and her next page follows it."""
        driver = stack.driver()
        driver.app_home_opened(ALICE, "D0ALICEHOME")
        view = home(stack, ALICE, "My notification rules")
        assert "0m slack" in json.dumps(view)
        assert driver.click_view(ALICE, view, "notify_rules_edit").status == 200
        refused = driver.submit_view(ALICE, form(stack, ALICE), {"rules": "0m slack, 1m sms"})
        assert "sms needs a phone" in refused.text
        saved = driver.submit_view(ALICE, form(stack, ALICE), {"rules": "0m slack, 2s email"})
        assert saved.status == 200
        view = home(stack, ALICE, "set by you")
        assert "0m slack, 2s email" in json.dumps(view)
        assert f"by <@{ALICE}>" in json.dumps(view)
        declare(stack, "declare sev2 Checkout errors")
        wait_for(lambda: mailbox.to("alice@example.com"))
        assert pages(stack, ALICE)[f"page:0:0:{ALICE}|email"].status == "sent"
