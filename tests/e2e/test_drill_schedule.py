"""Scheduled drills over the real stack with two workers: a firing due now starts one drill."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis

from bot.state.drill_timers import DUE_KEY, fired_marker, member
from tests.e2e.support import Stack, wait_for
from tests.reliability.support import log_events


@pytest.fixture
def stack_policies() -> dict[str, str]:
    """drills.yaml fires a drill of `checkout` at this minute of every hour, so its last
    firing (under a minute ago) is due at once and the next is an hour off."""
    minute = datetime.now(UTC).minute
    return {
        "drills.yaml": f'drills:\n  - {{policy: checkout, severity: sev2, cron: "{minute} * * * *"}}\n'
    }


@pytest.fixture
def stack_workers() -> int:
    return 2


def events(stack: Stack, name: str) -> list[dict[str, object]]:
    return [e for e in log_events(stack.log_dir) if e.get("event") == name]


class TestScheduledDrill:
    def test_a_firing_due_now_starts_one_drill_even_armed_twice(self, stack: Stack) -> None:
        """The reconciler arms the firing just due; it starts one drill (a `drill-…`
        channel paging Alice); the same firing armed again is fenced off."""
        fired = wait_for(lambda: events(stack, "drill_fired"))[0]
        wait_for(lambda: [c for c in stack.emulator.channels() if c["name"].startswith("drill-")])
        conn = redis.Redis.from_url(stack.env["REDIS_URL"], decode_responses=True)
        at = int(datetime.fromisoformat(str(fired["at"])).timestamp())
        key = str(fired["drill"])
        assert conn.get(fired_marker(at, key)) == "started"
        armed = wait_for(lambda: conn.zrange(DUE_KEY, 0, -1))  # the next firing, an hour on
        assert armed == [member(at + 3600, key)]
        conn.zadd(DUE_KEY, {member(at, key): at})  # the same firing once more
        wait_for(lambda: events(stack, "drill_already_fired"))
        assert len(events(stack, "drill_fired")) == 1
        drills = [c for c in stack.emulator.channels() if c["name"].startswith("drill-")]
        assert len(drills) == 1
