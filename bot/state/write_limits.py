"""How fast one person may write to one incident: a GCRA rate limit kept in Redis.

Every command a person runs on an incident (a note, an update, a page with its message, a
resolve summary, a severity reason, an action item...) adds to its timeline and often to
its outbox, which live in Redis until the incident's retention ends. So each person may do
`per_minute` of them a minute on each incident, `burst` of them at once.

The limiter keeps one key per (incident, person): the theoretical arrival time (GCRA) in
milliseconds, expiring as soon as the person's allowance is full again, so an idle limiter
holds nothing. One Lua call decides and records atomically, for every web process at once.
"""

from __future__ import annotations

import math

import redis
from redis.client import Pipeline

from bot import clock
from bot.state.keys import PREFIX

# The limiter as a Lua function, for this module's script and for any script that writes
# after asking it (bot.state.quick_note). gcra(key, now ms, emission interval ms, burst):
# 0 when the write may go ahead (and records it), else the ms to wait.
GCRA_FUNCTION = """
local function gcra(key, now, interval, burst)
  local window = interval * burst
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  local after = tat + interval
  if after - now > window then
    return math.ceil(after - now - window)
  end
  redis.call('SET', key, after, 'PX', math.ceil(after - now))
  return 0
end
"""

# KEYS[1]: the limiter's key. ARGV: now (ms), emission interval (ms), burst.
_GCRA = (
    GCRA_FUNCTION
    + "return gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))\n"
)

# KEYS[1]: the limiter's key. ARGV: now (ms), emission interval (ms). Undoes one write that
# _GCRA counted: the theoretical arrival time goes back one interval (never before now).
_GIVE_BACK = """
local now = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') - tonumber(ARGV[2])
if tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], tat, 'PX', math.ceil(tat - now))
end
return 0
"""


class WriteLimiter:
    def __init__(self, connection: redis.Redis, per_minute: float, burst: int) -> None:
        self.per_minute, self.burst = per_minute, max(1, burst)
        self.interval_ms = max(1, math.ceil(60_000 / per_minute))
        self._take = connection.register_script(_GCRA)
        self._give_back = connection.register_script(_GIVE_BACK)

    @staticmethod
    def key(incident_id: str, user: str) -> str:
        return f"{PREFIX}:rate:{incident_id}:{user}"

    def _args(self) -> list[int]:
        return [int(clock.now_ts() * 1000), self.interval_ms, self.burst]

    def question(self, incident_id: str, user: str) -> tuple[str, list[int]]:
        """The key and arguments (now ms, interval ms, burst) of `gcra` for this write, for
        a script that asks the limiter itself (GCRA_FUNCTION); `seconds` reads its answer."""
        return self.key(incident_id, user), self._args()

    def take(self, incident_id: str, user: str) -> int:
        """0 when `user` may write to the incident now (counted); else whole seconds to wait."""
        return self.seconds(self._take(keys=[self.key(incident_id, user)], args=self._args()))

    def queue(self, pipe: Pipeline, incident_id: str, user: str) -> None:
        """`take`, queued on the caller's pipeline so that it costs no round trip of its own;
        `seconds` reads its answer. (EVAL with the script's text: a pipeline could not load
        the script and retry the way `take` does after a NOSCRIPT.)"""
        pipe.eval(_GCRA, 1, self.key(incident_id, user), *self._args())

    def give_back(self, incident_id: str, user: str) -> None:
        """Undo one write counted by `take` or `queue` (asked for a write that did not run)."""
        now_ms = int(clock.now_ts() * 1000)
        self._give_back(keys=[self.key(incident_id, user)], args=[now_ms, self.interval_ms])

    @staticmethod
    def seconds(wait_ms: object) -> int:
        """The script's answer (ms to wait) as `take` gives it: whole seconds, 0 to go ahead."""
        return math.ceil(int(str(wait_ms)) / 1000)
