"""Alerts in, in Redis: what each source last said of each alert, the inbox of notifications
the web process accepted for the worker, each group's record, and the storm window.

The web process writes a notification only when some alert in it changed status since the
last one accepted (the `last` markers), and then the markers and the inbox entry in one
MULTI: a resent group costs two reads and writes nothing. The worker's record of each
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
    """Set while a drain job for the source is queued and has not started."""
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


class AlertStore:
    def __init__(self, connection: redis.Redis) -> None:
        self.r = connection

    def admit(
        self, source: str, alerts: Sequence[tuple[str, str]], entry: dict[str, Any], limit: int
    ) -> tuple[bool, bool]:
        """Queue `entry` for the worker when an alert of `alerts` ((fingerprint, status)
        pairs) changed status since the last accepted one: (queued, a drain job is owed).
        A drain is owed unless one is already queued and not yet started (the kick).
        InboxFull when `limit` entries already wait."""
        keys = [_key("last", source, fp) for fp, _ in alerts]
        with self.r.pipeline(transaction=False) as pipe:
            pipe.mget(keys)
            pipe.llen(inbox_key(source))
            last, waiting = pipe.execute()
        changed = {k: s for k, (_, s), seen in zip(keys, alerts, last, strict=True) if seen != s}
        if not changed:
            return False, False
        if waiting >= limit:
            raise InboxFull(source)
        with self.r.pipeline(transaction=True) as pipe:
            for key, status in changed.items():
                pipe.set(key, status, ex=MARKER_TTL_S)
            pipe.rpush(inbox_key(source), json.dumps(entry, separators=(",", ":")))
            pipe.set(kick_key(source), 1, nx=True, ex=KICK_TTL_S)
            kicked = pipe.execute()[-1]
        return True, bool(kicked)

    def kick(self, source: str) -> bool:
        """Mark a drain as queued for the source; False when one already is."""
        return bool(self.r.set(kick_key(source), 1, nx=True, ex=KICK_TTL_S))

    def started(self, source: str) -> None:
        """A drain job began: entries queued from now on owe a new job."""
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
