"""Overrides and swaps from Slack, end to end: the command, its rights, the schedule's
timeline in Redis, `/incident oncall`, and the page going to the person who took the shift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis

from bot.state.oncall import ScheduleChanges
from tests.e2e.support import Stack, wait_for
from tests.e2e.test_declare_flow import declare, dm_texts

ALICE, BOB, DAVE, ERIN = "U0ALICE01", "U0BOB0001", "U0DAVE001", "U0ERIN001"


def today_alice_tomorrow_bob() -> dict[str, str]:
    """Alice is on call today and Bob tomorrow (UTC days); managers may change it too."""
    today = datetime.now(UTC).date().isoformat()
    return {
        "schedules.yaml": f"""\
schedules:
  checkout-primary:
    timezone: UTC
    rotations:
      - {{members: [{ALICE}, {BOB}], start: {today}T00:00, turn: 1d}}
    rights:
      schedules: [member, usergroup:S0ENGMGRS]
"""
    }


@pytest.fixture
def stack_policies() -> dict[str, str]:
    return today_alice_tomorrow_bob()


def shown(stack: Stack, text: str) -> str:
    """The plain text of the `/incident oncall` reply (its blocks say the same)."""
    return str(stack.driver().slash(ERIN, text).json["text"])


def oncall_now(stack: Stack) -> str:
    return shown(stack, "oncall checkout-primary").split("Now: ", 1)[1].split(" ", 1)[0]


def first_page(stack: Stack, user: str) -> str:
    return wait_for(lambda: [t for t in dm_texts(stack, user) if "You are paged" in t])[0]


class TestOverrideFromSlack:
    def test_an_override_pages_the_person_covering_and_its_removal_restores_the_rotation(
        self, stack: Stack, r: redis.Redis
    ) -> None:
        """Alice hands her shift to Dave: oncall shows Dave, a declaration pages Dave, not
        Alice; Erin (no right) cannot undo it, Alice can; the timeline keeps both."""
        driver = stack.driver()
        until = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
        made = driver.slash(ALICE, f"oncall override checkout-primary <@{DAVE}|dave> now {until}")
        assert "Schedule *checkout-primary* changed: `o1` · override: <@U0DAVE001> covers" in (
            made.text
        ), made.text
        assert oncall_now(stack) == f"<@{DAVE}>"
        listed = shown(stack, "oncall")
        assert "Changes made from Slack" in listed
        assert f"*checkout-primary* `o1` · override: <@{DAVE}> covers" in listed
        assert f"(by <@{ALICE}>)" in listed

        declare(stack)
        assert "You are paged" in first_page(stack, DAVE)
        assert not [t for t in dm_texts(stack, ALICE) if "You are paged" in t]

        refused = driver.slash(ERIN, "oncall remove o1").text
        assert "rights.schedules allows only member, usergroup:S0ENGMGRS" in refused
        assert "removed `o1`" in driver.slash(ALICE, "oncall remove o1").text
        assert oncall_now(stack) == f"<@{ALICE}>"

        timeline = ScheduleChanges(r).timeline("checkout-primary")
        assert [(e.what, e.actor, e.change.id) for e in timeline] == [
            ("added", ALICE, "o1"),
            ("removed", ALICE, "o1"),
        ]
        assert timeline[0].change.spans[0].user == DAVE

    def test_a_swap_pages_the_person_swapped_in_and_outsiders_are_refused(
        self, stack: Stack
    ) -> None:
        """Erin may not swap; Lee (an engineering manager) swaps Alice and Bob: Bob covers
        the rest of today and is paged, Alice takes Bob's day tomorrow."""
        driver = stack.driver()
        refused = driver.slash(ERIN, f"oncall swap <@{ALICE}|alice> <@{BOB}|bob>").text
        assert "you may not change this schedule" in refused
        assert oncall_now(stack) == f"<@{ALICE}>"

        made = driver.slash("U0LEAD1", f"oncall swap <@{ALICE}|alice> <@{BOB}|bob>").text
        assert "swap: <@U0BOB0001> covers" in made, made
        assert "; <@U0ALICE01> covers" in made
        assert oncall_now(stack) == f"<@{BOB}>"
        declare(stack)
        assert "You are paged" in first_page(stack, BOB)
        assert not [t for t in dm_texts(stack, ALICE) if "You are paged" in t]

    def test_bad_override_commands_say_what_is_wrong(self, stack: Stack) -> None:
        """An unknown schedule names the known ones; a bad time says how to write one."""
        driver = stack.driver()
        unknown = driver.slash(ALICE, f"oncall override nosuch <@{DAVE}|dave> now 2030-01-01").text
        assert "no schedule 'nosuch' (schedules: checkout-primary)" in unknown
        bad_time = driver.slash(
            ALICE, f"oncall override checkout-primary <@{DAVE}|dave> now tomorrow"
        ).text
        assert "`tomorrow` is not an end time" in bad_time
        assert "YYYY-MM-DD HH:MM" in bad_time
