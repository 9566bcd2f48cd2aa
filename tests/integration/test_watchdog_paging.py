"""The watchdog's announcements: owed before they are sent, sent by one process at a time."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import redis
from slack_sdk import WebClient

from bot import clock
from bot.config.settings import Settings
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from bot.state.once import SendLedger
from bot.state.watchdog import OWED, SENDING, SENDS, WatchdogState
from bot.watchdog.announce import SlackChannel, Webhook, destinations_from
from bot.watchdog.thread import Watchdog, WatchdogConfig
from tests.e2e.support import wait_for
from tests.integration.support import watchdog_posts
from tests.receiver import Receiver

CHANNEL = "C0INCIDENTS"


def test_two_web_processes_announce_each_event_once_and_a_dead_ones_lease_runs_out(
    runtime: Runtime, r: redis.Redis, receiver: Receiver, emulator: Emulator
) -> None:
    """No worker for longer than `after`: while a dead process's sending lease lives nobody
    sends (the outage is open and its "down" owed all the same); once it runs out one of two
    watchdogs sends "down" once to the webhook and the channel; workers back: "recovered"
    once, after it."""
    client = WebClient(token=emulator.bot_token, base_url=emulator.url)

    def watchdog(owner: str) -> Watchdog:
        destinations = [Webhook(1, receiver.url + "/page", "s" * 16), SlackChannel(client, CHANNEL)]
        state = WatchdogState(runtime.r)
        return Watchdog(state, runtime.queue, WatchdogConfig(1), destinations, owner)

    first, second = watchdog("web-1:1"), watchdog("web-2:1")
    start = clock.now_ts()
    first.tick(start)  # starts counting
    r.set(SENDING, "web-that-died:1", px=1500)
    first.tick(start + 5)
    second.tick(start + 5)
    assert WatchdogState(runtime.r).outage() is not None
    assert receiver.requests == []
    assert watchdog_posts(emulator, CHANNEL) == []

    wait_for(lambda: not r.exists(SENDING), timeout=10)
    first.tick(start + 6)
    second.tick(start + 6)
    first.tick(start + 7)
    bodies = [json.loads(x.body) for x in receiver.requests]
    assert [b["event"] for b in bodies] == ["tocsin.down"]
    assert receiver.requests[0].headers["X-Tocsin-Event-Id"] == bodies[0]["id"]
    assert watchdog_posts(emulator, CHANNEL) == [bodies[0]["id"]]

    WatchdogState(runtime.r).saw("scheduler", start + 8)
    WatchdogState(runtime.r).saw("workers", start + 8)
    second.tick(start + 8)
    first.tick(start + 8.5)
    assert [json.loads(x.body)["event"] for x in receiver.requests] == [
        "tocsin.down",
        "tocsin.recovered",
    ]
    keys = watchdog_posts(emulator, CHANNEL)
    assert [k.split(":")[0] for k in keys] == ["down", "recovered"]
    assert WatchdogState(runtime.r).owed() == []


def test_an_outage_is_one_pagerduty_alert_triggered_then_resolved_even_if_resent(
    runtime: Runtime, emulator: Emulator, config_dir: Path
) -> None:
    """TOCSIN_WATCHDOG_PAGERDUTY: "down" triggers one alert at the sandbox's PagerDuty and
    "recovered" resolves it. A send whose outcome was lost (the attempt left recorded, as a
    process killed mid-send leaves it) is sent again, and PagerDuty merges it: one alert."""
    (config_dir / "services.yaml").write_text("pagerduty:\n  ops: {routing_key_env: PD_KEY}\n")
    env = {
        "TOCSIN_CONFIG_DIR": str(config_dir),
        "PD_KEY": "R0UTINGKEY0123456789abcdef012345",
        "TOCSIN_PAGERDUTY_EVENTS_URL": emulator.pagerduty_url,
        "TOCSIN_WATCHDOG_PAGERDUTY": "ops",
    }
    with pytest.MonkeyPatch.context() as patch:  # the method reads keys from the environment
        for name, value in env.items():
            patch.setenv(name, value)
        settings = Settings.from_env(os.environ)
        destinations = destinations_from(settings, None)
        state = WatchdogState(runtime.r)
        watchdog = Watchdog(state, runtime.queue, WatchdogConfig(1), destinations, "web-1:1")
        start = clock.now_ts()
        watchdog.tick(start)
        watchdog.tick(start + 5)
        (alert,) = emulator.pagerduty.incidents.values()
        assert alert.status == "triggered"
        assert state.owed() == []  # settled: nothing owed any more

        ledger = SendLedger(runtime.r, SENDS)
        since = state.outage()
        assert since is not None
        state.r.hset(OWED, f"down:{since!r}", f"{start + 5!r} resent")  # owed again, as if
        ledger.attempting(f"down:{since!r}|pagerduty:ops", start + 5)  # its send was cut
        watchdog.tick(start + 6)
        assert list(emulator.pagerduty.incidents.values()) == [alert]
        assert alert.deduplicated == 1

        state.saw("scheduler", start + 7)
        state.saw("workers", start + 7)
        watchdog.tick(start + 7)
        assert alert.status == "resolved"
        assert alert.events == ["trigger", "trigger", "resolve"]
        assert state.owed() == []
