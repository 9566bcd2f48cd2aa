"""Load under Slack's rate limits (`Emulator(rate_limits=True)`): incidents declared in a
burst; every channel is created, every page sent, and the bot paces itself (few 429s).

Bounded: 24 incidents in ~8 s, with the emulator's Tier 2 limits (20/min: create, topic,
pins, bookmarks) raised to 60/min so the run fits in a minute; chat.postMessage keeps
Slack's 1/s per channel (every page goes to the same on-call person's DM, every
declaration to the same stakeholder channel). Soak: 200 incidents in 60 s at Slack's real
limits (channel creation alone then takes ten minutes).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from bot.sandbox import faults
from bot.sandbox.emulator import Emulator
from bot.state.store import Store
from tests.e2e.support import wait_for
from tests.reliability.conftest import MakeStack
from tests.reliability.support import SOAK, knob, metadata_key

pytestmark = pytest.mark.integration

INCIDENTS = int(knob("TOCSIN_LOAD_INCIDENTS", 24, 200))
OVER_S = knob("TOCSIN_LOAD_SECONDS", 8, 60)
DEFAULT = """\
name: default
services: ["*"]
steps:
  - notify: [user:U0CAROL01]
    wait: 1h
repeat: 0
fallback_channel: C0INCIDENTS
"""


def long_wait(config: Path) -> None:
    (config / "default.yaml").write_text(DEFAULT)


class TestLoad:
    def test_a_burst_of_incidents_under_rate_limits(
        self, make_stack: MakeStack, r: redis.Redis, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Every channel created and every page sent once, with a bounded number of 429s."""
        if not SOAK:
            for method, limit in list(faults.TIERS.items()):
                if limit == faults.TIER_2:
                    monkeypatch.setitem(faults.TIERS, method, 3 * faults.TIER_2)
        emu = Emulator(rate_limits=True)
        stack = make_stack(emulator=emu, config=long_wait)
        driver = stack.driver()
        started = time.monotonic()
        for n in range(INCIDENTS):
            result = driver.slash("U0ERIN001", f"declare sev2 Load test {n}")
            assert result.status == 200, result.text
            # the load under test: the declarations spread evenly over OVER_S seconds
            time.sleep(max(0.0, started + (n + 1) * OVER_S / INCIDENTS - time.monotonic()))
        store = Store(r)
        incidents = wait_for(
            lambda: store.open_ids() if len(store.open_ids()) == INCIDENTS else None
        )

        def settled() -> bool:
            return all(
                store.get(i).header_ts and all(o.status == "sent" for o in store.outbox(i))
                for i in incidents
            )

        wait_for(settled, timeout=900 if SOAK else 150, every=1.0)
        took = time.monotonic() - started
        channels = [c for c in emu.channels() if c["name"].startswith("inc-")]
        assert len(channels) == INCIDENTS
        pages = Counter(
            metadata_key(m) for m in emu.dms("U0CAROL01").get("U0CAROL01", []) if metadata_key(m)
        )
        assert len(pages) == INCIDENTS
        assert set(pages.values()) == {1}
        calls = emu.calls()
        limited = Counter(c["method"] for c in calls if c["fault"] == "rate_limit")
        bound = max(6, INCIDENTS // 10)
        assert sum(limited.values()) <= bound, limited
        print(
            f"\nload: {INCIDENTS} incidents in {OVER_S:.0f}s, settled after {took:.0f}s, "
            f"{len(calls)} calls, 429s {dict(limited)}"
        )
