"""The self-test's pages survive a SIGKILL of the worker sending them, mid-send.

Two real `tocsin worker`s, the Slack pager through the emulator over HTTP answering
the first chat.postMessage 2.5 s after it posted, and three schedules with someone on call. The
worker holding the run's sending lease is SIGKILLed as soon as a page shows in a DM:
the other worker takes the run over, finds that page by its metadata key, sends the rest,
and each person has exactly one self-test page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import redis

from bot.sandbox.emulator import Emulator
from bot.state.selftests import SelfTestRuns, sending_lease
from tests.e2e.support import wait_for
from tests.integration.support import Workers

ON_CALL = {"primary": "U0CAROL01", "ops": "U0ALICE01", "web": "U0BOB0001"}


def self_test_pages(emulator: Emulator) -> dict[str, int]:
    """How many self-test pages each person on call has in their DM."""
    return {
        user: sum("*Self-test*" in m["text"] for m in emulator.dms(user).get(user, []))
        for user in ON_CALL.values()
    }


def test_a_worker_killed_mid_page_neither_doubles_nor_loses_a_self_test_page(
    worker_env: dict[str, str],
    config_dir: Path,
    r: redis.Redis,
    emulator: Emulator,
    tmp_path: Path,
) -> None:
    """The self-test fires (its cron names this minute); the worker sending its pages dies
    after Slack posted one and before it answered; every on-call person still gets exactly
    one page, and the run records each as sent."""
    rotation = (
        "    timezone: UTC\n    rotations: [{{members: [{}], start: 2020-01-06T00:00, turn: 1w}}]\n"
    )
    (config_dir / "more.yaml").write_text(
        "schedules:\n"
        + "".join(
            f"  {name}:\n" + rotation.format(user)
            for name, user in ON_CALL.items()
            if name != "primary"
        )
    )
    minute = datetime.now(UTC).minute
    (config_dir / "drills.yaml").write_text(
        f'self_test: {{cron: "{minute} * * * *", answer_within: 2m}}\n'
    )
    env = worker_env | {
        "TOCSIN_PAGER": "slack",
        "SLACK_API_URL": emulator.url,
        "SLACK_BOT_TOKEN": emulator.bot_token,
    }
    # the first page: Slack posts it, then answers 2.5 s later (the window the kill lands in)
    emulator.faults.add("delay", method="chat.postMessage", delay=2.5, when="after", nth=1)
    pool = Workers(env, tmp_path)
    runs = SelfTestRuns(r)
    try:
        pool.start(2)
        wait_for(lambda: any(self_test_pages(emulator).values()), timeout=30)
        (run,) = runs.open_runs()
        holder = r.get(sending_lease(run))
        assert holder is not None, "nobody holds the run's sending lease"
        victim = next(n for n in range(2) if str(holder).startswith(f"w{n}-"))
        pool.kill(victim)
        landed = [u for u, n in self_test_pages(emulator).items() if n]
        (user,) = landed
        assert (runs.ledger(run).state(user) or "").startswith("attempt:")

        ledger = runs.ledger(run)
        wait_for(lambda: all(ledger.ref(u) for u in ON_CALL.values()), timeout=30)
        assert self_test_pages(emulator) == dict.fromkeys(ON_CALL.values(), 1)
        assert emulator.calls("conversations.history")  # the takeover asked before sending
    finally:
        pool.stop()
