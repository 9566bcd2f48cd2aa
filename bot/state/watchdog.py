"""The watchdog's keys: when the workers and the scheduler were last seen, and the open outage.

Every `tocsin web` process writes what it sees here, so all of them agree on how long the
workers have been away. Opening the outage marker and owing its "down" announcement are one
step, as are closing it and owing "recovered": an announcement is owed before anybody sends
it. The sending claim (a lease) lets one process send what is owed, and each (announcement,
destination) records its attempt before the send and its reference after, so a process
taking over from one that died mid-send knows to ask before sending again.
"""

from __future__ import annotations

import redis

from bot.state.keys import PREFIX

SEEN = f"{PREFIX}:watchdog:seen"  # hash: "workers" / "scheduler" -> POSIX seconds last seen
OUTAGE = f"{PREFIX}:watchdog:outage"  # the open outage: "<since>" (POSIX seconds)
SENDING = f"{PREFIX}:watchdog:sending"  # lease: the web process sending what is owed
OWED = f"{PREFIX}:watchdog:owed"  # hash: "<down|recovered>:<since>" -> "<at> <why>"
SENDS = f"{PREFIX}:watchdog:sends"  # a SendLedger: "<announcement>|<destination>" (state.once)

# Open the outage and owe its "down" in one step (only the first of racing callers does).
_OPEN = """
if redis.call('set', KEYS[1], ARGV[1], 'NX') then
  redis.call('hset', KEYS[2], 'down:' .. ARGV[1], ARGV[2])
  return 1
end
return 0
"""
# Close the outage and owe its "recovered" in one step; the outage's start, or false.
_CLOSE = """
local since = redis.call('get', KEYS[1])
if not since then return false end
redis.call('del', KEYS[1])
redis.call('hset', KEYS[2], 'recovered:' .. since, ARGV[1])
return since
"""

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
        self._open = connection.register_script(_OPEN)
        self._close = connection.register_script(_CLOSE)

    def saw(self, what: str, ts: float) -> None:
        """Record that `what` ("workers" or "scheduler") was seen alive at `ts`."""
        self._later(keys=[SEEN], args=[what, repr(ts)])

    def watching_since(self, what: str, ts: float) -> None:
        """Start counting from `ts` for what was never seen (a new deployment)."""
        self.r.hsetnx(SEEN, what, repr(ts))

    def last_seen(self) -> dict[str, float]:
        raw = self.r.hgetall(SEEN)
        return {_text(k): float(v) for k, v in raw.items()}

    def open_outage(self, since: float, at: float, why: str) -> bool:
        """Open the outage that began at `since` and owe its "down"; False if one is open."""
        return bool(self._open(keys=[OUTAGE, OWED], args=[repr(since), f"{at!r} {why}"]))

    def outage(self) -> float | None:
        value = self.r.get(OUTAGE)
        return None if value is None else float(value)

    def close_outage(self, at: float) -> float | None:
        """Close the open outage and owe its "recovered": the outage's start, for the one
        caller that closed it (None when none was open)."""
        value = self._close(keys=[OUTAGE, OWED], args=[f"{at!r} "])
        return None if value is None else float(value)

    def owed(self) -> list[tuple[str, float, str]]:
        """The announcements owed, oldest outage first and its "down" before "recovered":
        (announcement key, when it was decided, why)."""
        found = []
        for key, value in self.r.hgetall(OWED).items():
            at, _, why = _text(value).partition(" ")
            found.append((_text(key), float(at), why))
        return sorted(found, key=lambda a: (float(a[0].split(":", 1)[1]), a[0]))

    def settled(self, key: str) -> None:
        """Every destination has `key`: it is owed no more."""
        self.r.hdel(OWED, key)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
