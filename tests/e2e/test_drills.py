"""Drills over the real stack: signed /incident drill -> bot -> rq workers -> the emulator."""

from __future__ import annotations

from typing import Any

import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.support import Stack, wait_for
from tests.e2e.test_declare_flow import dm_texts, texts
from tests.e2e.test_learning import _scrape, _tocsin

ERIN, ALICE = "U0ERIN001", "U0ALICE01"
MARK = ":test_tube: *DRILL*"


def drill_channel(stack: Stack) -> dict[str, Any]:
    chans = [c for c in stack.emulator.channels() if c["name"].startswith("drill-")]
    return chans[0] if chans else {}


def scrape(stack: Stack) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(_scrape(stack))}


def run_drill(stack: Stack, text: str = "drill checkout sev2 db-failover") -> str:
    """Start a drill from #incidents, Alice acknowledges, Erin updates and resolves it."""
    driver = stack.driver()
    answer = driver.slash(ERIN, text)
    assert answer.status == 200, answer.text
    assert answer.text.startswith(MARK)
    cid = str(wait_for(lambda: drill_channel(stack))["id"])
    wait_for(lambda: stack.emulator.pins(cid))
    wait_for(lambda: dm_texts(stack, ALICE))
    assert driver.slash(ALICE, "ack", channel_id=cid).text == ""
    driver.slash(ERIN, "update rolled the canary back", channel_id=cid)
    assert driver.slash(ERIN, "resolve practised", channel_id=cid).text == ""
    wait_for(lambda: any("Drill report" in t for t in texts(stack, cid)))
    return cid


class TestDrill:
    def test_a_drill_pages_for_real_says_drill_and_reaches_no_one_else(self, stack: Stack) -> None:
        """Alice's page, the header and every post in the drill channel say DRILL; the
        stakeholder channel and #incidents (where it was typed) hear nothing of it."""
        cid = run_drill(stack)
        name = drill_channel(stack)["name"]
        assert name.startswith("drill-")
        assert name.endswith("-drill-the-checkout-database-fails-over")  # the scenario's title
        page = dm_texts(stack, ALICE)[0]
        assert page.startswith(MARK)
        assert "You are paged" in page
        assert "DRILL · SEV2" in str(stack.emulator.pins(cid)[0])
        said = texts(stack, cid)
        assert len(said) >= 5  # the header, runbook, ack, update, resolve and report at least
        assert all("DRILL" in t for t in said), said
        assert stack.emulator.channel(cid)["topic"].startswith("DRILL · SEV2")
        assert not [t for t in texts(stack, "C0STATUS") if "rill" in t]
        assert not [t for t in texts(stack, "C0INCIDENTS") if "rill" in t]
        # No post-incident review is owed: the window opens (or not) as the resolve commits.
        r = redis.Redis.from_url(stack.env["REDIS_URL"], decode_responses=True)
        assert r.keys("tocsin:inc:*:review*") == []
        assert not [t for t in said if "post-incident review" in t]

    def test_a_drill_counts_in_no_metric_and_no_report_figure(self, stack: Stack) -> None:
        """/metrics has no incident, page or acknowledgement of it; `tocsin report` leaves it out."""
        run_drill(stack)
        families = scrape(stack)
        assert families["tocsin_incidents"].samples == []
        assert families["tocsin_pages_sent"].samples[0].value == 0
        assert families["tocsin_acknowledgements"].samples[0].value == 0
        hist = families["tocsin_time_to_acknowledge_seconds"]
        assert [s for s in hist.samples if s.name.endswith("_count")] == []
        out = stack.log_dir / "report.html"
        printed = _tocsin(stack, "report", "--since", "7d", "--out", str(out))
        assert "0 incidents, 0 pages, 1 drill/excluded left out" in printed
