"""The watchdog's announcements: owed before they are sent, sent by one process at a time."""

from __future__ import annotations

import json

import redis
from slack_sdk import WebClient

from bot import clock
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from bot.state.watchdog import SENDING, WatchdogState
from bot.watchdog.announce import SlackChannel, Webhook
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
