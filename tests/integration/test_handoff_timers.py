"""Handoff timers on real Redis: arming is idempotent and skips what was told, a handoff is
told once however often its job runs, and a timer whose handoff an override removed does
nothing (the fence)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

from bot.domain.oncall import Change
from bot.domain.outcomes import JobOutcome
from bot.domain.schedule import Override
from bot.runtime import Runtime
from bot.state import handoffs

HOUR = timedelta(hours=1)


def hourly(config_dir: Path) -> datetime:
    """A schedule whose turns change every hour on the hour; the next handoff."""
    (config_dir / "handoff.yaml").write_text("""\
schedules:
  hourly:
    timezone: UTC
    handoff_channel: C0INCIDENTS
    remind_before: 10m
    rotations:
      - {members: [U0ALICE01, U0BOB0001], start: 2020-01-06T00:00, turn: 1h}
""")
    now = datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0) + HOUR


def test_a_handoff_is_armed_once_told_once_and_fenced(
    runtime: Runtime, config_dir: Path, r: redis.Redis
) -> None:
    nxt = hourly(config_dir)
    rt = runtime.handoffs
    assert rt.arm() >= 24  # a day of hourly posts, and their reminders
    assert rt.arm() == 0
    post = handoffs.member("post", nxt, "hourly")
    remind = handoffs.member("remind", nxt, "hourly")
    assert r.zscore(handoffs.DUE_KEY, post) == nxt.timestamp()
    assert r.zscore(handoffs.DUE_KEY, remind) == (nxt - timedelta(minutes=10)).timestamp()

    epoch = int(nxt.timestamp())
    assert rt.run("post", epoch, "hourly") is JobOutcome.REMINDED
    assert rt.run("post", epoch, "hourly") is JobOutcome.ALREADY
    r.zrem(handoffs.DUE_KEY, post)
    rt.arm()
    assert r.zscore(handoffs.DUE_KEY, post) is None  # told: not armed again

    later = nxt + HOUR
    cover = Override("U0DAVE001", later - timedelta(minutes=30), later + timedelta(minutes=30))
    made = Change("o1", "hourly", "override", (cover,), "U0ALICE01", datetime.now(UTC))
    runtime.oncall.changes.add(made, datetime.now(UTC))
    assert rt.run("post", int(later.timestamp()), "hourly") is JobOutcome.STALE
    assert rt.run("post", int((later + 5 * HOUR / 10).timestamp()), "x") is JobOutcome.STALE
