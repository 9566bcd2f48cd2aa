"""Drill scenarios over the real stack: injected events posted in the drill's channel."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.support import ROOT, Stack, wait_for

SCENARIO = """\
---
title: The database fails over
events:
  - {at: 2s, post: "Customers report failed payments <!channel>"}
  - {at: 1s, post: "Grafana: checkout p99 latency 4.2s"}
---
Practise the checkout runbook.
"""


@pytest.fixture
def stack_runbooks(tmp_path: Path) -> Path:
    """The shipped runbooks and a drill scenario whose events fall due within seconds."""
    runbooks = tmp_path / "runbooks"
    shutil.copytree(ROOT / "runbooks", runbooks)
    (runbooks / "drills" / "failover.md").write_text(SCENARIO)
    return runbooks


class TestScenario:
    def test_a_scenarios_events_are_posted_in_order_marked_drill_and_escaped(
        self, stack: Stack
    ) -> None:
        """`/incident drill checkout sev2 failover`: titled by the scenario; its events are
        posted in the drill channel by their offsets, marked DRILL, the mention escaped."""
        answer = stack.driver().slash("U0ERIN001", "drill checkout sev2 failover")
        assert "Drill: The database fails over" in answer.text
        cid = str(
            wait_for(
                lambda: [c for c in stack.emulator.channels() if c["name"].startswith("drill-")]
            )[0]["id"]
        )

        def injected() -> list[str]:
            return [m["text"] for m in stack.emulator.transcript(cid) if "*Scenario*" in m["text"]]

        said = wait_for(lambda: len(injected()) == 2 and injected())
        assert said[0].endswith("*Scenario* · Grafana: checkout p99 latency 4.2s")
        assert said[1].endswith("Customers report failed payments &lt;!channel&gt;")
        assert all(t.startswith(":test_tube: *DRILL*") for t in said)
        runbooks = stack.env["TOCSIN_RUNBOOKS_DIR"]  # a broken scenario is named at its line
        Path(runbooks, "drills", "broken.md").write_text(SCENARIO.replace("2s", "soon"))
        broken = stack.driver().slash("U0ERIN001", "drill checkout sev2 broken")
        assert "scenario `broken` is broken: runbooks/drills/broken.md:4: events[0].at: " in (
            broken.text
        )
        unknown = stack.driver().slash("U0ERIN001", "drill checkout sev2 nosuch")
        assert (
            "no scenario `nosuch` in runbooks/drills/ (known: `broken`, `db-failover`, `failover`)"
            in (unknown.text)
        )
