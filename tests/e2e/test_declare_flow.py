"""Declare, page, acknowledge and escalate, as Slack delivers them: signed HTTP -> bot -> RQ -> emulator."""

from __future__ import annotations

import re
import time
from typing import Any

import redis

from bot.sandbox.wire import Tamper
from tests.e2e.support import Stack, wait_for
from tests.reliability.slack_helpers import click

ALICE = "U0ALICE01"
BOB = "U0BOB0001"


def incident_channel(stack: Stack) -> dict[str, Any]:
    chans = [c for c in stack.emulator.channels() if c["name"].startswith("inc-")]
    return chans[0] if chans else {}


def texts(stack: Stack, channel: str) -> list[str]:
    return [m["text"] for m in stack.emulator.transcript(channel)]


def dm_texts(stack: Stack, user: str) -> list[str]:
    return [m["text"] for m in stack.emulator.dms(user).get(user, [])]


def declare(
    stack: Stack, text: str = "declare sev2 Checkout errors", user: str = "U0ERIN001"
) -> str:
    result = stack.driver().slash(user, text)
    assert result.status == 200, result.text
    cid = str(wait_for(lambda: incident_channel(stack))["id"])
    wait_for(lambda: stack.emulator.pins(cid))  # the header is pinned once the channel is linked
    return cid


class TestDeclare:
    def test_declare_opens_channel_pins_header_and_pages_step_one(self, stack: Stack) -> None:
        """The channel gets a topic, a pinned header, a bookmarked runbook; step 1 gets a page DM."""
        result = stack.driver().slash("U0ERIN001", "declare sev2 Checkout errors <!channel>")
        assert result.status == 200
        assert "Declared SEV2" in result.text
        cid = str(wait_for(lambda: incident_channel(stack))["id"])
        channel = incident_channel(stack)
        assert channel["name"].startswith("inc-")
        assert channel["name"].endswith("-checkout-errors-channel")
        pins = wait_for(lambda: stack.emulator.pins(cid))
        assert "Checkout errors" in str(pins[0])
        bookmarks = wait_for(lambda: stack.emulator.bookmarks(cid))
        assert bookmarks[0]["title"].startswith("Runbook: ")
        topic = wait_for(lambda: stack.emulator.channel(cid)["topic"])
        assert topic.startswith("SEV2 · triggered · IC <@U0ERIN001>")
        page = wait_for(lambda: dm_texts(stack, "U0ALICE01"))[0]
        assert "You are paged" in page
        assert "&lt;!channel&gt;" in page  # escaped: the title pings nobody
        assert "<!channel>" not in page
        status = wait_for(lambda: texts(stack, "C0STATUS"))
        assert "Checkout errors" in status[-1]
        members = stack.emulator.channel(cid)["members"]
        assert {"U0ERIN001", "U0ALICE01"} <= set(members)  # declarer and the paged person

    def test_a_declaration_is_announced_where_it_was_typed(self, stack: Stack) -> None:
        """Typed in #incidents (the command, then the form): #incidents hears of each with its
        channel, severity, service and commander. Typed in a DM with the bot: only the
        declarer's answer and the stakeholder channel say it."""
        cid = declare(stack)

        def announced() -> list[str]:
            return [t for t in texts(stack, "C0INCIDENTS") if "declared by" in t]

        said = wait_for(announced)[0]
        assert said.startswith(":large_orange_circle: SEV2 *Checkout errors* (Significant")
        assert "on *checkout* declared by <@U0ERIN001>, commander <@U0ERIN001>" in said
        assert said.endswith(f"follow it in <#{cid}>")
        driver = stack.driver()
        typed = driver.slash("U0ERIN001", "declare sev3 Payments-api slow", channel_id="D0ERIN")
        assert "Declared SEV3" in typed.text
        driver.slash("U0ERIN001", "", channel_id="C0INCIDENTS")
        view = wait_for(lambda: stack.emulator.views("U0ERIN001"))[-1]
        form = {"title": "Search down", "service": "checkout", "users_affected": "none"}
        driver.submit_view(
            "U0ERIN001", {**view["view"], "id": view["id"]}, form | {"severity": "sev3"}
        )
        wait_for(lambda: len(announced()) == 2 and "Search down" in announced()[1])
        wait_for(
            lambda: len([c for c in stack.emulator.channels() if c["name"].startswith("inc-")]) == 3
        )
        assert not [t for t in texts(stack, "C0INCIDENTS") if "Payments-api slow" in t]

    def test_no_ack_walks_the_policy_and_announces_exhaustion(self, stack: Stack) -> None:
        """Unacknowledged, bob is paged after 3 s, the managers after 6 s, then the fallback hears."""
        cid = declare(stack)
        wait_for(lambda: dm_texts(stack, "U0BOB0001"), timeout=10)
        wait_for(lambda: dm_texts(stack, "U0GRACE01") and dm_texts(stack, "U0LEAD1"), timeout=10)
        fallback = wait_for(
            lambda: [t for t in texts(stack, "C0INCIDENTS") if "exhausted" in t], timeout=10
        )
        assert "nobody has acknowledged" in fallback[0]
        assert any("exhausted" in t for t in texts(stack, cid))


class TestAcknowledge:
    def test_ack_from_the_page_dm_stops_escalation_and_tells_the_channel(
        self, stack: Stack
    ) -> None:
        """Clicking Acknowledge in the DM acknowledges, says who in the channel, and bob is never paged."""
        cid = declare(stack)
        wait_for(lambda: stack.emulator.dms("U0ALICE01").get("U0ALICE01"))
        page = stack.emulator.dms("U0ALICE01")["U0ALICE01"][0]
        dm_channel = page["channel"]
        result = stack.driver().click("U0ALICE01", page, "incident_ack", channel_id=dm_channel)
        assert result.status == 200
        wait_for(lambda: any("Acknowledged by <@U0ALICE01>" in t for t in texts(stack, cid)))

        def pinned_header() -> str:
            pinned = [m for m in stack.emulator.transcript(cid) if m.get("pinned")]
            return str(pinned[0]["blocks"]) if pinned else ""

        # The pinned header itself is updated in place: status and who acknowledged.
        wait_for(lambda: "*Status*\\nacknowledged" in pinned_header())
        assert "*Acknowledged*\\n<@U0ALICE01>" in pinned_header()
        # A second click is refused in the answer's wake, through the click's response_url
        # (a Driver's, Slack-shaped: the emulator keeps what reaches it).
        again = stack.driver().click("U0ALICE01", page, "incident_ack", channel_id=dm_channel)
        assert again.status == 200
        told = wait_for(lambda: stack.emulator.driver_responses())
        assert told[-1]["kind"] == "actions"
        assert told[-1]["body"]["response_type"] == "ephemeral"
        assert told[-1]["body"]["text"].startswith(
            ":no_entry: already acknowledged by <@U0ALICE01> at "
        )
        # An incident declared now pages bob after its own first wait, which ends later than
        # the acknowledged one's would have: once bob has that page, look at the others.
        canary = stack.driver().slash("U0ERIN001", "declare sev2 Payments-api canary")
        canary_id = re.search(r"`(\d{8}-\d+)`", canary.text)
        assert canary_id, canary.text
        wait_for(lambda: [t for t in dm_texts(stack, "U0BOB0001") if canary_id[1] in t], timeout=15)
        bob = dm_texts(stack, "U0BOB0001")
        assert [t for t in bob if canary_id[1] not in t] == [], bob

    def test_second_ack_is_told_who_was_first(self, stack: Stack) -> None:
        """A second acknowledgement is refused, naming who acknowledged first."""
        cid = declare(stack)
        wait_for(lambda: dm_texts(stack, "U0ALICE01"))
        first = stack.driver().slash("U0ALICE01", "ack", channel_id=cid)
        assert first.text == ""  # the channel's "Acknowledged by" answers it
        second = stack.driver().slash("U0ERIN001", "ack", channel_id=cid)
        assert "already acknowledged by <@U0ALICE01>" in second.text

    def test_ack_by_someone_without_the_right_is_refused_naming_the_rule(
        self, stack: Stack
    ) -> None:
        """sev2 lets only responders acknowledge: frank, never paged, is refused with the rule."""
        cid = declare(stack)
        result = stack.driver().slash("U0FRANK01", "ack", channel_id=cid)
        assert "You may not acknowledge" in result.text
        assert "on sev2 incidents only responders may" in result.text

    def test_every_page_dm_follows_its_incident(self, stack: Stack) -> None:
        """bob acknowledges from his page DM: alice's and bob's DMs say so and lose their
        Acknowledge; once erin resolves, no buttons are left; alice's Acknowledge on the copy
        she still had is told who resolved it, not who acknowledged it."""
        cid = declare(stack)
        bob_page = wait_for(lambda: stack.emulator.dms(BOB).get(BOB), timeout=10)[0]
        alice_page = stack.emulator.dms(ALICE)[ALICE][0]
        assert click(stack, BOB, bob_page, "incident_ack").status == 200

        def dm(user: str) -> str:
            (only,) = stack.emulator.dms(user)[user]  # rewritten in place, never re-posted
            return str(only.get("blocks"))

        for user in (ALICE, BOB):
            wait_for(lambda: "*Acknowledged* by <@U0BOB0001>" in dm(user), timeout=10)  # noqa: B023
            assert "incident_ack" not in dm(user)
            assert "incident_escalate" in dm(user)
        stack.driver().slash("U0ERIN001", "resolve fixed", channel_id=cid)
        for user in (ALICE, BOB):
            wait_for(lambda: "*Resolved* by <@U0ERIN001>" in dm(user), timeout=10)  # noqa: B023
            assert "'actions'" not in dm(user)
        assert click(stack, ALICE, alice_page, "incident_ack").status == 200
        told = wait_for(lambda: [e["text"] for e in stack.emulator.ephemerals(ALICE)])
        assert "already resolved, by <@U0ERIN001>" in told[-1]
        assert "acknowledged" not in told[-1]

    def test_ack_outside_an_incident_channel_says_where_it_works(self, stack: Stack) -> None:
        """In #incidents, `ack` is answered with where it works, not an error trace."""
        declare(stack)
        result = stack.driver().slash("U0ALICE01", "ack", channel_id="C0INCIDENTS")
        assert "this works in an incident channel" in result.text
        assert "Traceback" not in result.text


class TestEscalate:
    def test_manual_escalate_pages_the_next_step_now(self, stack: Stack) -> None:
        """`/incident escalate` pages bob at once, before step 1's wait ends."""
        cid = declare(stack)
        wait_for(lambda: dm_texts(stack, "U0ALICE01"))
        started = time.monotonic()
        result = stack.driver().slash(
            "U0ALICE01", "escalate need the payments DB owner", channel_id=cid
        )
        assert result.text == ""
        wait_for(lambda: any("Escalated by <@U0ALICE01>" in t for t in texts(stack, cid)))
        wait_for(lambda: dm_texts(stack, "U0BOB0001"), timeout=5)
        assert time.monotonic() - started < 2.5

    def test_an_acknowledged_incident_escalates_from_every_path_and_stays_acknowledged(
        self, stack: Stack
    ) -> None:
        """Alice acknowledges, then pulls in step 2 with the command and step 3 with the
        header's Escalate; her page DM's Escalate, with no step left, is refused pointing to
        `/incident page`. The incident stays acknowledged by alice; no exhaustion is announced."""
        cid = declare(stack)
        wait_for(lambda: dm_texts(stack, "U0ALICE01"))
        driver = stack.driver()
        assert driver.slash(ALICE, "ack", channel_id=cid).text == ""
        escalated = driver.slash(ALICE, "escalate need the DB owner", channel_id=cid)
        assert escalated.text == ""
        bob = wait_for(lambda: dm_texts(stack, "U0BOB0001"), timeout=5)
        assert "<@U0ALICE01> acknowledged it and escalated for more help." in bob[0]
        header = stack.emulator.transcript(cid)[0]
        driver.click(ALICE, header, "incident_escalate", channel_id=cid)
        wait_for(lambda: dm_texts(stack, "U0GRACE01"), timeout=5)
        page = stack.emulator.dms(ALICE)[ALICE][0]
        assert click(stack, ALICE, page, "incident_escalate").status == 200
        told = wait_for(lambda: [e["text"] for e in stack.emulator.ephemerals(ALICE)])
        assert told[-1].startswith(":no_entry: checkout has no step after the last one paged")
        assert "use `/incident page @person`" in told[-1]
        status = driver.slash(ALICE, "status", channel_id=cid).text
        assert "· acknowledged\n" in status
        said = texts(stack, cid) + texts(stack, "C0INCIDENTS")
        assert not [t for t in said if "exhausted" in t or "nobody has acknowledged" in t]


class TestBadInput:
    def test_unknown_subcommand_gets_usage_help_with_the_closest_command(
        self, stack: Stack
    ) -> None:
        """A typo is answered with the closest valid command."""
        result = stack.driver().slash("U0ALICE01", "akc")
        assert result.status == 200
        assert "/incident ack" in result.text

    def test_forged_signature_gets_401_and_writes_nothing(
        self, stack: Stack, r: redis.Redis
    ) -> None:
        """A request signed with another secret is rejected and leaves Redis untouched."""
        before = set(r.keys("tocsin:*"))
        result = stack.driver().slash(
            "U0ALICE01", "declare sev1 Fake outage", tamper=Tamper(forge_signature=True)
        )
        assert result.status == 401
        assert set(r.keys("tocsin:*")) == before
        stale = stack.driver().slash(
            "U0ALICE01", "declare sev1 Old", tamper=Tamper(age_seconds=600)
        )
        assert stale.status == 401
        assert set(r.keys("tocsin:*")) == before

    def test_a_retried_delivery_declares_once(self, stack: Stack, r: redis.Redis) -> None:
        """Slack's retry (X-Slack-Retry-Num) of a declare creates no second incident."""
        driver = stack.driver()
        first = driver.slash("U0ERIN001", "declare sev2 Checkout errors")
        again = driver.retry(first, num=1)
        assert again.status == 200
        # A declaration is answered once it is written; the retry is answered with nothing.
        assert again.text == ""
        assert r.scard("tocsin:open") == 1
        cid = str(wait_for(lambda: incident_channel(stack))["id"])
        wait_for(lambda: stack.emulator.pins(cid))  # the one incident's channel is open
        assert len([c for c in stack.emulator.channels() if c["name"].startswith("inc-")]) == 1
