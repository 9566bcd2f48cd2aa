"""The outgoing heartbeat: a GET to TOCSIN_HEARTBEAT_URL every TOCSIN_HEARTBEAT_EVERY_S.

An external dead man's switch (healthchecks.io, Dead Man's Snitch, Cronitor) pages when the
pings stop. Only the worker holding the scheduler lease pings, and only while the escalation
path is healthy: it still holds the lease, Redis answers, and no step in the due index is
more than STALL_S overdue (the scheduler moves due steps within TOCSIN_SCHEDULER_POLL_S).
"""

from __future__ import annotations

import threading
import urllib.request

import structlog

from bot import clock
from bot.notify.http import host_of
from bot.redaction import redact_text
from bot.state.keys import SCHEDULER_LEASE
from bot.state.leases import Leases
from bot.state.timers import Timers

log = structlog.get_logger(__name__)
STALL_S = 30.0


def unhealthy(leases: Leases, timers: Timers, owner: str, now: float) -> str | None:
    """Why the escalation path is not healthy from `owner`'s side, or None when it is."""
    try:
        if leases.holder(SCHEDULER_LEASE) != owner:
            return "this worker does not hold the scheduler lease"
        oldest = timers.oldest_due()
    except Exception as exc:  # Redis not answering is a reason, not a crash
        return f"Redis did not answer: {type(exc).__name__}"
    if oldest is not None and now - oldest > STALL_S:
        return f"the due index is stalled: a step is {now - oldest:.0f} s overdue"
    return None


class Heartbeat(threading.Thread):
    def __init__(
        self,
        leases: Leases,
        timers: Timers,
        owner: str,
        url: str,
        every_s: float,
        stopping: threading.Event,
    ) -> None:
        super().__init__(name="tocsin-heartbeat", daemon=True)
        self.leases, self.timers, self.owner = leases, timers, owner
        self.url, self.every_s, self.stopping = url, every_s, stopping

    def run(self) -> None:
        while not self.stopping.wait(self.every_s):
            why = unhealthy(self.leases, self.timers, self.owner, clock.now_ts())
            if why is None:
                self.ping()
            elif why != "this worker does not hold the scheduler lease":
                log.warning("heartbeat_withheld", why=why, worker=self.owner)

    def ping(self) -> None:
        try:
            with urllib.request.urlopen(self.url, timeout=10):  # noqa: S310 - the operator's URL
                pass
        except OSError as exc:
            log.warning("heartbeat_failed", url=host_of(self.url), error=redact_text(str(exc)))
