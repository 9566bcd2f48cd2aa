"""The self-test over the real stack (web, an rq worker, the Slack emulator over HTTP): a
drill-marked page to each schedule's on-call person, no incident and no channel, then its
report: who acknowledged, who did not, who was never reached, which schedule had nobody."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from bot.render.drills import SELF_TEST_ACK
from bot.state.drills import DrillResults
from tests.e2e.support import Stack, wait_for
from tests.e2e.test_declare_flow import texts

ALICE, BOB, ERIN = "U0ALICE01", "U0BOB0001", "U0ERIN001"
NOBODY = "U0NOBODY99"  # on call, but Slack does not know them: never reached
REPORTS = "C0INCIDENTS"


@pytest.fixture
def stack_policies() -> dict[str, str]:
    """Three more schedules (Bob's, a stranger's, one whose rotation starts in 2099) and a
    self-test firing at this minute of every hour: its last firing is due at once."""
    minute = datetime.now(UTC).minute
    rotation = "{{members: [{}], start: {}, turn: 1w}}"
    zone = "    timezone: UTC\n"
    return {
        "more-schedules.yaml": f"""\
schedules:
  ops-primary:
{zone}    rotations: [{rotation.format(BOB, "2020-01-06T00:00")}]
  ghost-primary:
{zone}    rotations: [{rotation.format(NOBODY, "2020-01-06T00:00")}]
  later-primary:
{zone}    rotations: [{rotation.format(ALICE, "2099-01-05T00:00")}]
""",
        "drills.yaml": f"""\
self_test:
  cron: "{minute} * * * *"
  answer_within: 6s
  report_channel: {REPORTS}
""",
    }


def self_test_pages(stack: Stack, user: str) -> list[dict[str, Any]]:
    return [m for m in stack.emulator.dms(user).get(user, []) if "*Self-test*" in m["text"]]


def click(stack: Stack, user: str, page: dict[str, Any]) -> None:
    """`user` presses the page's Acknowledge (a signed request to `tocsin web`)."""
    stack.emulator.act_click(user, SELF_TEST_ACK, channel=page["channel"], ts=page["ts"])


def said_to(stack: Stack, user: str, words: str) -> bool:
    return any(words in str(e.get("text")) for e in stack.emulator.ephemerals(user=user))


class TestSelfTest:
    def test_each_on_call_person_is_paged_once_and_the_report_counts_who_answered(
        self, stack: Stack
    ) -> None:
        """Alice (checkout-primary) and Bob (ops-primary) get one DRILL-marked page each;
        Erin cannot answer Alice's; Alice acknowledges. The report: Alice acknowledged, Bob
        did not, the stranger was never reached, later-primary had nobody on call. No
        incident channel is opened, and the result joins the drill results."""
        channels_before = {c["id"] for c in stack.emulator.channels()}
        (alice_page,) = wait_for(lambda: self_test_pages(stack, ALICE), timeout=30)
        wait_for(lambda: self_test_pages(stack, BOB), timeout=30)
        assert alice_page["text"].startswith(":test_tube: *DRILL* · *Self-test*")
        assert "*checkout-primary*" in alice_page["text"]

        click(stack, ERIN, alice_page)
        wait_for(lambda: said_to(stack, ERIN, "only the person paged can answer it"))
        click(stack, ALICE, alice_page)
        wait_for(lambda: said_to(stack, ALICE, "Acknowledged: pages reach you"))

        report = wait_for(
            lambda: [t for t in texts(stack, REPORTS) if "Self-test report" in t], timeout=30
        )[0]
        lines = {
            who: next(line for line in report.splitlines() if line.startswith(f"• {mark} <@{who}>"))
            for who, mark in ((ALICE, ":white_check_mark:"), (BOB, ":warning:"), (NOBODY, ":x:"))
        }
        assert "checkout-primary on-call schedule, acknowledged after" in lines[ALICE]
        assert lines[BOB].endswith("ops-primary on-call schedule, did not acknowledge")
        assert "was *never reached*" in lines[NOBODY]
        assert "• :x: nobody was on call for *later-primary*" in report.splitlines()

        assert len(self_test_pages(stack, ALICE)) == 1
        assert len(self_test_pages(stack, BOB)) == 1
        assert {c["id"] for c in stack.emulator.channels()} == channels_before
        conn = redis.Redis.from_url(stack.env["REDIS_URL"], decode_responses=True)
        (result,) = DrillResults(conn).last(10)
        assert result.policy == "self-test"
        by_user = {p.user: p for p in result.people}
        assert by_user[ALICE].acked_after_s is not None
        assert by_user[BOB].sent_at is not None
        assert by_user[BOB].acked_after_s is None
        assert by_user[NOBODY].sent_at is None
        assert ERIN not in by_user

        (bob_page,) = self_test_pages(stack, BOB)
        click(stack, BOB, bob_page)
        wait_for(lambda: said_to(stack, BOB, "This self-test is over"))
        (result,) = DrillResults(conn).last(10)
        assert {p.user: p for p in result.people}[BOB].acked_after_s is None
