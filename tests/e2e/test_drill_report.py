"""The drill report over the real stack: in the drill's channel and in `tocsin report`.

The drilled policy pages a user id Slack does not know (nobody: never reached) beside Bob.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.support import Stack, wait_for
from tests.e2e.test_declare_flow import dm_texts, texts
from tests.e2e.test_learning import _tocsin

ERIN, BOB = "U0ERIN001", "U0BOB0001"
NOBODY = "U0NOBODY99"


@pytest.fixture
def stack_policies() -> dict[str, str]:
    return {
        "practice.yaml": f"""\
name: practice
services: [practice]
steps:
  - notify: [user:{NOBODY}, user:{BOB}]
    wait: 5m
repeat: 0
"""
    }


def drill(stack: Stack) -> str:
    """Start a drill of `practice`; Bob acknowledges, Erin resolves: its report as posted."""
    driver = stack.driver()
    pages = len(dm_texts(stack, BOB))
    answer = driver.slash(ERIN, "drill practice sev2")
    found = re.search(r"`([0-9]{8}-[0-9]+)`", answer.text)
    assert found, answer.text
    name = f"drill-{found.group(1)}-"
    chan = wait_for(lambda: [c for c in stack.emulator.channels() if c["name"].startswith(name)])
    cid = str(chan[0]["id"])
    wait_for(lambda: len(dm_texts(stack, BOB)) > pages)
    assert driver.slash(BOB, "ack", channel_id=cid).text == ""
    assert driver.slash(ERIN, "resolve practised", channel_id=cid).text == ""
    return str(wait_for(lambda: [t for t in texts(stack, cid) if "Drill report" in t])[0])


class TestDrillReport:
    def test_the_report_names_who_acked_and_who_was_never_reached_over_the_last_drills(
        self, stack: Stack
    ) -> None:
        """Each report: Bob paged by Slack DM and acknowledged, nobody never reached; the
        second counts both drills per person; `tocsin report` has a drills section."""
        first = drill(stack)
        assert f"<@{NOBODY}> was *never reached* (by Slack DM via <@{NOBODY}> directly)" in first
        assert f"<@{BOB}> paged" in first
        assert "by Slack DM" in first
        assert "acknowledged after" in first
        second = drill(stack)
        over = second.split("*Over the last drills*")[1]
        assert f"<@{NOBODY}>: paged in 2 drills, never reached in 2, acknowledged 0" in over
        assert f"<@{BOB}>: paged in 2 drills, acknowledged 2, median " in over
        out = stack.log_dir / "report.html"
        printed = _tocsin(stack, "report", "--since", "7d", "--out", str(out))
        section = printed.split("drills: 2 drills\n")[1]
        assert "practice: 2 people paged, acknowledged by @bob after" in section
        assert "never reached: @" in section
        assert "paged in 2 drills, never reached in 2" in section
