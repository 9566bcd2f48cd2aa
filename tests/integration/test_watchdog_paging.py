"""The watchdog's paging claim: a web process that died mid-page does not silence the outage."""

from __future__ import annotations

import json

import redis

from bot import clock
from bot.runtime import Runtime
from bot.state.watchdog import PAGING, WatchdogState
from bot.watchdog.thread import Watchdog, WatchdogConfig
from tests.e2e.support import wait_for
from tests.receiver import Receiver


def test_a_claim_left_by_a_dead_process_expires_and_another_pages_once(
    runtime: Runtime, r: redis.Redis, receiver: Receiver
) -> None:
    """No worker for longer than `after`: while a dead process's claim lives nobody pages;
    once it expires this process pages, once, and opens the outage; workers back: recovered."""
    config = WatchdogConfig(after_s=1, urls=(receiver.url + "/page",), secret="s" * 16)
    watchdog = Watchdog(WatchdogState(runtime.r), runtime.queue, config)
    start = clock.now_ts()
    watchdog.tick(start)  # starts counting
    r.set(PAGING, "web-that-died:1", ex=1)
    watchdog.tick(start + 5)
    assert receiver.requests == []

    wait_for(lambda: not r.exists(PAGING), timeout=10)
    watchdog.tick(start + 6)
    watchdog.tick(start + 7)
    assert [json.loads(x.body)["event"] for x in receiver.requests] == ["tocsin.down"]
    assert WatchdogState(runtime.r).outage() is not None

    WatchdogState(runtime.r).saw("scheduler", start + 8)
    WatchdogState(runtime.r).saw("workers", start + 8)
    watchdog.tick(start + 8)
    watchdog.tick(start + 8.5)
    assert [json.loads(x.body)["event"] for x in receiver.requests] == [
        "tocsin.down",
        "tocsin.recovered",
    ]
