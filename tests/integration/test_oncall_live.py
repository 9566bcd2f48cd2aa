"""`tocsin simulate --live` reads the overrides made from Slack out of Redis; `tocsin check`
reads only the YAML."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime

import redis

from bot.domain.oncall import Change
from bot.domain.schedule import Override
from bot.state.oncall import ScheduleChanges
from tests.integration.test_cli_secrets import tocsin

START = "2026-03-02T15:00:00Z"  # payments-primary: Bob's week (Chicago)


def first_target(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)["pages"][0]["target"])


def test_simulate_live_pages_whoever_an_override_from_slack_names(
    redis_url: str, r: redis.Redis
) -> None:
    """Without --live the rotation's Bob is paged; with it, Dave who covers from Slack."""
    at = datetime(2026, 3, 1, tzinfo=UTC)
    cover = Override(
        "U0DAVE001", datetime(2026, 3, 2, 14, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)
    )
    ScheduleChanges(r).add(
        Change("o1", "payments-primary", "override", (cover,), "U0CAROL01", at), at
    )
    args = ("simulate", "payments", "--start", START, "--json")
    assert first_target(tocsin(redis_url, *args)) == "U0BOB0001"
    assert first_target(tocsin(redis_url, *args, "--live")) == "U0DAVE001"
    checked = tocsin(redis_url, "check")
    assert checked.returncode == 0, checked.stdout
    assert "OK" in checked.stdout


def test_simulate_live_without_redis_says_what_to_set() -> None:
    result = tocsin("", "simulate", "payments", "--start", START, "--live")
    assert result.returncode != 0
    assert "--live reads the schedule changes from Redis: set REDIS_URL" in result.stderr
    assert "Traceback" not in result.stderr
