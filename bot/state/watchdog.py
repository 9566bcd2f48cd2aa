"""The watchdog's keys: when the workers and the scheduler were last seen, and the open outage.

Every `tocsin web` process writes what it sees here, so all of them agree on how long the
workers have been away; a paging claim (SET NX with a TTL) lets one of them page, and the
outage marker says it has.
"""

from __future__ import annotations

import redis

from bot.state.keys import PREFIX

SEEN = f"{PREFIX}:watchdog:seen"  # hash: "workers" / "scheduler" -> POSIX seconds last seen
OUTAGE = f"{PREFIX}:watchdog:outage"  # the open outage, paged: "<since>" (POSIX seconds)
PAGING = f"{PREFIX}:watchdog:paging"  # held (with a TTL) by the web process sending the page

# Keep the later of the stored time and ours: web processes' writes may arrive out of order.
_LATER = """
local old = tonumber(redis.call('hget', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > old then redis.call('hset', KEYS[1], ARGV[1], ARGV[2]) end
return 1
"""


class WatchdogState:
    def __init__(self, connection: redis.Redis) -> None:
        self.r = connection
        self._later = connection.register_script(_LATER)

    def saw(self, what: str, ts: float) -> None:
        """Record that `what` ("workers" or "scheduler") was seen alive at `ts`."""
        self._later(keys=[SEEN], args=[what, repr(ts)])

    def watching_since(self, what: str, ts: float) -> None:
        """Start counting from `ts` for what was never seen (a new deployment)."""
        self.r.hsetnx(SEEN, what, repr(ts))

    def last_seen(self) -> dict[str, float]:
        raw = self.r.hgetall(SEEN)
        return {_text(k): float(v) for k, v in raw.items()}

    def claim_paging(self, owner: str, ttl_s: int) -> bool:
        """True for the one caller that may send the outage's page now. The claim expires
        after `ttl_s`, so if that process dies mid-send another one pages."""
        return bool(self.r.set(PAGING, owner, nx=True, ex=ttl_s))

    def open_outage(self, since: float, owner: str) -> None:
        """The outage has been paged: mark it open and let the paging claim go."""
        self.r.set(OUTAGE, repr(since), nx=True)
        if self.r.get(PAGING) == owner:
            self.r.delete(PAGING)

    def outage(self) -> float | None:
        value = self.r.get(OUTAGE)
        return None if value is None else float(value)

    def close_outage(self) -> float | None:
        """The open outage's start, for the one caller that closes it (it says "recovered")."""
        value = self.r.getdel(OUTAGE)
        return None if value is None else float(value)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
