"""The outgoing heartbeat: real workers ping a real local receiver while escalation is healthy."""

from __future__ import annotations

import redis

from bot import clock
from bot.runtime import Runtime
from bot.state.keys import SCHEDULER_LEASE
from bot.state.leases import Leases
from bot.state.timers import DUE_KEY
from bot.watchdog.heartbeat import unhealthy
from tests.e2e.support import wait_for
from tests.integration.support import Workers
from tests.receiver import Receiver


def test_the_scheduling_worker_pings_every_period(
    worker_env: dict[str, str], workers: Workers, receiver: Receiver
) -> None:
    """Two workers, a 0.3 s period: pings arrive as GETs of the configured URL."""
    worker_env.update(
        TOCSIN_HEARTBEAT_URL=receiver.url + "/ping/3f1c", TOCSIN_HEARTBEAT_EVERY_S="0.3"
    )
    workers.start(2)
    wait_for(lambda: len(receiver.requests) >= 3, timeout=30)
    assert {(r.method, r.path) for r in receiver.requests} == {("GET", "/ping/3f1c")}


def test_no_ping_unless_this_worker_schedules_and_the_due_index_moves(
    runtime: Runtime, r: redis.Redis
) -> None:
    """Withheld without the scheduler lease, and when a step waits 30 s past its time."""
    leases, timers, now = Leases(runtime.r), runtime.escalation.timers, clock.now_ts()
    assert unhealthy(leases, timers, "w1", now) == "this worker does not hold the scheduler lease"
    leases.hold(SCHEDULER_LEASE, "w2", 5)
    assert unhealthy(leases, timers, "w1", now) == "this worker does not hold the scheduler lease"
    assert unhealthy(leases, timers, "w2", now) is None
    r.zadd(DUE_KEY, {"INC-1|1": now - 45})
    why = unhealthy(leases, timers, "w2", now)
    assert why == "the due index is stalled: a step is 45 s overdue"
