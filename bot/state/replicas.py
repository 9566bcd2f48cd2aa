"""WAIT for a replica after a write that carries a promise, so a failover cannot take it back.

A declaration, an acknowledgement, a resolution, an escalation step's decision and a page's
attempt record are confirmed to people (or acted on: a page goes out). With
TOCSIN_REDIS_WAIT_REPLICAS > 0 each is followed by `WAIT n ms`: the caller goes on once n
replicas hold every write this connection made, or after ms. A replica that did not confirm
in time is logged and counted (`tocsin_redis_wait_short_total{what}`), not an error: the write
stands on the primary, it is only not yet safe from a failover.

After a short WAIT the next ones are skipped (and counted short) for HOLD_OFF_S: right after
a failover the promoted primary has no replica until the old one rejoins, and waiting out the
timeout before every page would hold paging back for nothing.
"""

from __future__ import annotations

import time

import redis
import structlog

from bot.state import counters

log = structlog.get_logger(__name__)
MARK = "tocsin:replica-wait"  # the write that WAIT is anchored on
HOLD_OFF_S = 5.0


class ReplicaWait:
    def __init__(self, connection: redis.Redis, replicas: int = 0, timeout_ms: int = 500) -> None:
        self.r = connection
        self.replicas = replicas
        self.timeout_ms = timeout_ms
        self._skip_until = 0.0  # time.monotonic() before which WAIT is not tried

    def confirm(self, what: str) -> bool:
        """WAIT for the replicas (True at once when off): False when fewer confirmed in time."""
        if self.replicas <= 0:
            return True
        if time.monotonic() < self._skip_until:
            counters.incr(self.r, "redis_wait_short", what=what)
            return False
        # WAIT covers the writes made on *its own* connection, and the pool may have given the
        # transaction another one: a write here first, ordered after that transaction in the
        # replication stream, makes WAIT on this connection cover it too.
        with self.r.pipeline(transaction=False) as pipe:
            pipe.incr(MARK)
            pipe.execute_command("WAIT", self.replicas, self.timeout_ms)  # type: ignore[no-untyped-call]
            acked = int(pipe.execute()[1])
        if acked >= self.replicas:
            return True
        self._skip_until = time.monotonic() + HOLD_OFF_S
        log.warning(
            "redis_replica_wait_short",
            what=what,
            acked=acked,
            wanted=self.replicas,
            timeout_ms=self.timeout_ms,
            skipped_for_s=HOLD_OFF_S,
        )
        counters.incr(self.r, "redis_wait_short", what=what)
        return False
