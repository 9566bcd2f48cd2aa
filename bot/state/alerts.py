"""Alerts in, in Redis: what each source last said of each alert, the inbox of notifications
the web process accepted for the worker, each group's record, and the storm window.

The web process writes a notification only when some alert in it changed status since the
last one accepted (the `last` markers), and then the markers and the inbox entry, all in one
script: a resent group costs one round trip and writes nothing. The worker's record of each
group is the authority; the markers only spare it the repeats.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from bot.state.keys import PREFIX

MARKER_TTL_S = 7 * 86400  # Alertmanager forgets a resolved alert after its resolve_timeout
GROUP_TTL_S = 30 * 86400  # a group's record outlives any reopen_within


def _key(*parts: str) -> str:
    return ":".join((f"{PREFIX}:alerts", *parts))


def inbox_key(source: str) -> str:
    return _key("inbox", source)


def lease_key(source: str) -> str:
    return _key("lease", source)


def kick_key(source: str) -> str:
    """Set while a drain job for the source is queued or still has entries to handle."""
    return _key("kick", source)


HEARTBEAT_DUE = _key("heartbeat_due")  # sorted set: source -> when its silence is an incident
KICK_TTL_S = 30  # a kick whose job was never enqueued (Redis went away) expires


class InboxFull(Exception):
    """Too many notifications of a source wait for the worker (it is down or far behind)."""


@dataclass
class GroupRecord:
    incident_id: str
    statuses: dict[str, str] = field(default_factory=dict)  # fingerprint -> last status
    cleared_at: float | None = None  # when every alert had resolved
    in_storm: bool = False  # joined the source's storm incident

    def to_json(self) -> str:
        return json.dumps(vars(self), separators=(",", ":"))


# KEYS: inbox, kick, then each alert's last-status marker; ARGV: the entry, the inbox limit,
# the marker and kick TTLs, then each alert's status. 0: a repeat (nothing written); -1: the
# inbox is full (nothing written); 1: queued; 2: queued, and a drain job is owed.
_ADMIT = """
local changed = {}
for i = 3, #KEYS do
  if redis.call('get', KEYS[i]) ~= ARGV[i + 2] then table.insert(changed, i) end
end
if #changed == 0 then return 0 end
if redis.call('llen', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
for _, i in ipairs(changed) do redis.call('set', KEYS[i], ARGV[i + 2], 'EX', ARGV[3]) end
redis.call('rpush', KEYS[1], ARGV[1])
if redis.call('set', KEYS[2], 1, 'NX', 'EX', ARGV[4]) then return 2 end
return 1
"""


class AlertStore:
    def __init__(self, connection: redis.Redis) -> None:
        self.r = connection
        self._admit = connection.register_script(_ADMIT)

    def admit(
        self, source: str, alerts: Sequence[tuple[str, str]], entry: dict[str, Any], limit: int
    ) -> tuple[bool, bool]:
        """Queue `entry` for the worker when an alert of `alerts` ((fingerprint, status)
        pairs) changed status since the last accepted one: (queued, a drain job is owed).
        A drain is owed unless one is queued or still working through the inbox (the kick).
        InboxFull when `limit` entries already wait. One round trip (a script)."""
        keys = [
            inbox_key(source),
            kick_key(source),
            *(_key("last", source, fp) for fp, _ in alerts),
        ]
        body = json.dumps(entry, separators=(",", ":"))
        args: list[str | int] = [body, limit, MARKER_TTL_S, KICK_TTL_S]
        args += [status for _, status in alerts]
        answer = int(self._admit(keys=keys, args=args))
        if answer < 0:
            raise InboxFull(source)
        return answer > 0, answer == 2

    def kick(self, source: str) -> bool:
        """Mark a drain as queued for the source; False when one already is."""
        return bool(self.r.set(kick_key(source), 1, nx=True, ex=KICK_TTL_S))

    def caught_up(self, source: str) -> None:
        """A drain found the inbox empty: entries queued from now on owe a new job."""
        self.r.delete(kick_key(source))

    def waiting_sources(self) -> list[str]:
        """Sources with entries in their inbox (for the reconciler)."""
        prefix = inbox_key("")
        return [k.removeprefix(prefix) for k in self.r.scan_iter(match=prefix + "*", count=500)]

    def peek(self, source: str, n: int = 20) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in self.r.lrange(inbox_key(source), 0, n - 1)]

    def done(self, source: str, n: int) -> None:
        """Drop the first `n` entries, once handled (only the lease holder pops)."""
        self.r.ltrim(inbox_key(source), n, -1)

    def waiting(self, source: str) -> int:
        return int(self.r.llen(inbox_key(source)))

    def group(self, source: str, gid: str) -> GroupRecord | None:
        raw = self.r.get(_key("group", source, gid))
        return GroupRecord(**json.loads(raw)) if raw else None

    def save_group(self, source: str, gid: str, record: GroupRecord) -> None:
        self.r.set(_key("group", source, gid), record.to_json(), ex=GROUP_TTL_S)

    def new_groups(self, source: str, member: str, now: float, within_s: float) -> int:
        """Count a new group of `source` (as `member`); how many arrived within `within_s`,
        this one included (the storm window)."""
        key = _key("opened", source)
        with self.r.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now - within_s)
            pipe.zadd(key, {member: now})
            pipe.zcard(key)
            pipe.expire(key, int(within_s) + 1)
            return int(pipe.execute()[2])

    def storm_incident(self, source: str) -> str | None:
        return self.r.get(_key("storm", source))  # type: ignore[return-value]

    def set_storm_incident(self, source: str, incident_id: str | None) -> None:
        if incident_id is None:
            self.r.delete(_key("storm", source))
        else:
            self.r.set(_key("storm", source), incident_id, ex=GROUP_TTL_S)

    def beat(self, source: str, now: float, due_at: float) -> bool:
        """The source's heartbeat arrived: it is due again by `due_at` (an entry of the
        heartbeat due index, which the scheduler fires like the other timers). True when a
        "silent" incident is open for the source, so a job must clear it."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.set(_key("heartbeat", source), now, ex=GROUP_TTL_S)
            pipe.zadd(HEARTBEAT_DUE, {source: due_at})
            pipe.exists(_key("silent", source))
            return bool(pipe.execute()[-1])

    def due_heartbeats(self, now: float) -> list[str]:
        """Sources whose heartbeat fell due, taken out of the index (one caller gets each)."""
        due: list[str] = self.r.zrangebyscore(HEARTBEAT_DUE, "-inf", now)  # type: ignore[assignment]
        return [s for s in due if self.r.zrem(HEARTBEAT_DUE, s)]

    def heartbeat_last(self, source: str) -> float | None:
        raw = self.r.get(_key("heartbeat", source))
        return float(raw) if raw else None

    def silent_incident(self, source: str) -> str | None:
        return self.r.get(_key("silent", source))  # type: ignore[return-value]

    def set_silent_incident(self, source: str, incident_id: str | None) -> None:
        if incident_id is None:
            self.r.delete(_key("silent", source))
        else:
            self.r.set(_key("silent", source), incident_id, ex=GROUP_TTL_S)
