"""Drill results, kept for the per-person time to acknowledge over the last drills.

A result is stored under its incident's id (a drill resolved, reopened and resolved again
keeps its latest result) and indexed by when the drill was declared; only the newest
KEPT stay.
"""

from __future__ import annotations

import json

import redis

from bot.domain.drills import DrillResult
from bot.state import keys

RESULTS = f"{keys.PREFIX}:drills:results"  # hash: incident id -> the result as JSON
WHEN = f"{keys.PREFIX}:drills:when"  # sorted set: incident id by when it was declared
KEPT = 200


class DrillResults:
    def __init__(self, connection: redis.Redis) -> None:
        self.r = connection

    def save(self, result: DrillResult) -> None:
        """Keep `result` (replacing an earlier one of the same drill) and drop the oldest."""
        with self.r.pipeline() as pipe:
            pipe.hset(RESULTS, result.incident_id, json.dumps(result.to_dict()))
            pipe.zadd(WHEN, {result.incident_id: result.declared_at})
            pipe.zrange(WHEN, 0, -KEPT - 1)
            *_, dropped = pipe.execute()
        if dropped:
            with self.r.pipeline() as pipe:
                pipe.hdel(RESULTS, *dropped)
                pipe.zrem(WHEN, *dropped)
                pipe.execute()

    def last(self, n: int, since: float | None = None) -> list[DrillResult]:
        """The newest `n` results (declared at or after `since`), oldest first."""
        low = since if since is not None else "-inf"
        ids = [str(i) for i in self.r.zrevrangebyscore(WHEN, "+inf", low)][:n]
        if not ids:
            return []
        raw = self.r.hmget(RESULTS, ids)
        found = [DrillResult.from_dict(json.loads(r)) for r in raw if r is not None]
        return found[::-1]
