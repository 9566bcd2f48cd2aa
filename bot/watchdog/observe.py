"""Is the escalation path down? Read from what the workers leave in Redis.

Two signs of life, each remembered in `bot.state.watchdog` when a web process sees it:
the scheduler lease (renewed every TOCSIN_SCHEDULER_POLL_S by the worker moving due steps)
and an rq worker whose heartbeat is under HEARTBEAT_FRESH_S old (rq beats about every 15 s).
The path is down when either has not been seen for `after_s`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rq import Queue, Worker

from bot.state.keys import SCHEDULER_LEASE
from bot.state.leases import Leases
from bot.state.watchdog import WatchdogState

HEARTBEAT_FRESH_S = 60.0  # as /readyz counts a worker alive
SIGNS = {"scheduler": "no worker has held the scheduler lease", "workers": "no worker heartbeat"}


@dataclass(frozen=True)
class Verdict:
    down: bool
    since: float  # when the oldest missing sign was last seen (or watching began)
    why: str  # e.g. "no worker heartbeat for 63 s" ("" when up)


def observe(state: WatchdogState, queue: Queue, now: float, after_s: float) -> Verdict:
    """Record the signs of life seen now, then judge from every web process's sightings."""
    if Leases(state.r).held(SCHEDULER_LEASE):
        state.saw("scheduler", now)
    beats = [w.last_heartbeat.timestamp() for w in Worker.all(queue=queue) if w.last_heartbeat]
    if beats and now - max(beats) < HEARTBEAT_FRESH_S:
        state.saw("workers", now)
    for sign in SIGNS:
        state.watching_since(sign, now)  # never seen: count from the first look
    seen = state.last_seen()
    missing = {sign: seen[sign] for sign in SIGNS if now - seen[sign] >= after_s}
    if not missing:
        return Verdict(False, now, "")
    why = "; ".join(f"{SIGNS[sign]} for {now - ts:.0f} s" for sign, ts in missing.items())
    return Verdict(True, min(missing.values()), why)
