"""Invariants 1 and 5 with Slack failing: the real `tocsin web` + workers (TOCSIN_PAGER=slack)
against the emulator with injected faults.

- 20% of calls fail (429 with Retry-After, 500/503, dropped connections), and some
  chat.postMessage calls fail *after* Slack performed them: every page and message is
  delivered exactly once, and no process calls a rate-limited method before Retry-After.
- Slack fully down (bounded 12 s, soak 120 s): escalation keeps its schedule, each failed
  delivery is on the timeline once, everything is delivered once when Slack returns, and
  the gap is noted ("Slack unreachable from … to …").
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis

from bot.domain.policy import EscalationStatus
from bot.domain.timeline import Kind
from bot.sandbox.emulator import Emulator
from bot.slack_api.pacing import PER_CHANNEL
from bot.state.store import Store
from tests.e2e.support import Stack, wait_for
from tests.reliability.conftest import MakeStack
from tests.reliability.support import deliveries, knob

pytestmark = pytest.mark.integration

INCIDENTS = int(knob("TOCSIN_FAULT_INCIDENTS", 5, 20))
OUTAGE_S = knob("TOCSIN_OUTAGE_S", 12, 120)
USER_ONLY = """\
name: checkout
services: [checkout, payments-api]
steps:
  - notify: [schedule:checkout-primary]
    wait: 3s
  - notify: [user:U0BOB0001]
    wait: 3s
  - notify: [user:U0CAROL01]
    wait: 3s
repeat: 0
fallback_channel: C0INCIDENTS
"""


def user_targets(config: Path) -> None:
    (config / "checkout.yaml").write_text(USER_ONLY)


def all_sent(store: Store, incidents: list[str]) -> bool:
    return all(i.status == "sent" for inc in incidents for i in store.outbox(inc))


# How long after Slack answers a 429 its hold may take to reach the other processes (the
# receiver reads the answer, then writes the hold to Redis).
HOLD_LAG_S = 0.05


def pace_key(call: dict[str, Any]) -> str:
    channel = call["args"].get("channel")
    method = call["method"]
    return f"{method}:{channel}" if method in PER_CHANNEL and channel else method


def declare_many(stack: Stack, n: int) -> list[str]:
    driver = stack.driver()
    for k in range(n):
        result = driver.slash("U0ERIN001", f"declare sev2 Checkout fault trial {k}")
        assert result.status == 200, result.text
    store = Store(stack_redis(stack))
    return wait_for(lambda: store.open_ids() if len(store.open_ids()) == n else None)


def stack_redis(stack: Stack) -> redis.Redis:
    return redis.Redis.from_url(stack.env["REDIS_URL"], decode_responses=True)


class TestFlakySlack:
    def test_twenty_percent_failures_deliver_everything_exactly_once(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """429s, 5xx, dropped connections and post-then-fail: all delivered once, 429 waits honoured."""
        emu = Emulator(fault_seed=6)
        emu.faults.add("429", rate=0.08, retry_after=1)
        emu.faults.add("500", rate=0.04)
        emu.faults.add("503", rate=0.03)
        emu.faults.add("reset", rate=0.02)
        emu.faults.add("timeout", rate=0.01, delay=2)
        emu.faults.add("reset", method="chat.postMessage", rate=0.05, when="after")
        emu.faults.add("500", method="chat.postMessage", rate=0.03, when="after")
        emu.faults.add("reset", method="conversations.open", rate=0.05, when="after")
        stack = make_stack(emulator=emu, config=user_targets)
        store = Store(r)
        incidents = declare_many(stack, INCIDENTS)

        def done() -> bool:
            return all_sent(store, incidents) and all(
                store.get(i).escalation.status is EscalationStatus.EXHAUSTED
                and store.get(i).header_ts
                for i in incidents
            )

        wait_for(done, timeout=120, every=0.5)
        # Items owed by now (a status reminder may have just fallen due) all land, each once.
        keys = {(inc, item.key) for inc in incidents for item in store.outbox(inc)}
        wait_for(lambda: keys <= set(deliveries(emu)), timeout=60, every=0.5)
        counts = deliveries(emu)
        assert keys <= set(counts), sorted(keys - set(counts))[:5]
        assert {k: v for k, v in counts.items() if v != 1} == {}
        for inc in incidents:  # one header per incident channel, one channel per incident
            channel = store.get(inc).channel_id
            headers = [m for m in emu.transcript(channel) if "incident_ack" in str(m["blocks"])]
            assert len(headers) == 1, (inc, len(headers))
        assert len([c for c in emu.channels() if c["name"].startswith("inc-")]) == INCIDENTS
        calls = emu.calls()
        faults = Counter(str(c["fault"]).split("#")[0] for c in calls if c["fault"])
        assert faults["429"] >= 3
        assert sum(faults.values()) >= 0.1 * len(calls)
        early = []
        for n, call in enumerate(calls):
            if call["status"] != 429:
                continue
            key, answered = pace_key(call), call["at"] + call["duration"]
            # Only a call sent once the 429 could be known could have honoured it: a call
            # already in flight could not, nor one whose process checked the shared hold in
            # the few ms between the emulator answering and the 429's receiver recording it
            # (a 3 ms case was seen in CI). HOLD_LAG_S is that allowance.
            later = [
                c for c in calls[n + 1 :] if pace_key(c) == key and c["at"] >= answered + HOLD_LAG_S
            ]
            if later and later[0]["at"] - call["at"] < 1.0 - 0.05:
                early.append((key, round(later[0]["at"] - call["at"], 3)))
        assert early == [], early
        print(f"\nflaky slack: {len(calls)} calls, faults {dict(faults)}, deliveries {len(counts)}")


class TestSlackDown:
    def test_an_outage_delays_but_loses_nothing_and_is_on_the_timeline(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """Slack answers nothing for the outage: steps still fire on time, failures are noted once, all lands once afterwards with the gap noted."""
        emu = Emulator()
        stack = make_stack(emulator=emu, config=user_targets)
        store = Store(r)
        incidents = declare_many(stack, 2)
        wait_for(lambda: all(store.get(i).header_ts for i in incidents), timeout=30)
        wait_for(lambda: all(store.get(i).escalation.step == 0 for i in incidents), timeout=30)
        down_at = time.time()
        emu.faults.add("503", rate=1.0)
        time.sleep(OUTAGE_S)  # the outage itself: its length is the behaviour under test
        emu.faults.clear()
        up_at = time.time()
        wait_for(lambda: all_sent(store, incidents), timeout=90, every=0.5)
        counts = deliveries(emu)
        assert {k: v for k, v in counts.items() if v != 1} == {}
        for inc in incidents:
            entries = list(store.timeline_with_data(inc))
            declared = entries[0][0].at.timestamp()
            steps = {
                d["step"]: e.at.timestamp() for e, d in entries if e.kind is Kind.ESCALATION_STEP
            }
            assert sorted(steps) == [0, 1, 2]
            for step, at in steps.items():  # on schedule although Slack was down (a due step
                # may wait for one in-flight Slack call to give up on a busy worker)
                assert abs(at - (declared + 3 * step)) < 6.0, (inc, step, at - declared)
            failed = [e for e, _ in entries if e.kind is Kind.PAGE_FAILED]
            assert failed, inc
            assert len(failed) <= len(store.outbox(inc))  # once per delivery, not per retry
            gaps = [d["slack_gap"] for e, d in entries if "slack_gap" in d]
            assert len(gaps) == 1, (inc, gaps)
            start, end = gaps[0]
            assert down_at - 1 <= start <= up_at
            assert end >= up_at - 1
            note = next(e.text for e, d in entries if "slack_gap" in d)
            assert note.startswith("Slack unreachable from ")
            for key in [i.key for i in store.outbox(inc) if i.key.startswith("page:")]:
                assert counts[(inc, key)] == 1
        print(
            f"\nslack down {OUTAGE_S:.0f}s: all delivered {time.time() - up_at:.1f}s after return"
        )
