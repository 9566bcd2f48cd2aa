"""A Pager that records deliveries in Redis, for tests and dry runs.

It counts deliveries per (incident, key), so a test can prove a page went out exactly once
across worker crashes. `delay_s` widens the window in which a crash can hit mid-send.
"""

from __future__ import annotations

import json
import time

import redis

from bot import clock
from bot.domain.incident import Incident
from bot.state.keys import PREFIX
from bot.state.store import OutboxItem

LOG_KEY = f"{PREFIX}:recorded"
COUNT_KEY = f"{PREFIX}:recorded:count"
REVISED_KEY = f"{PREFIX}:recorded:revised"  # page ref -> the incident's status last shown


class RecordingPager:
    def __init__(self, connection: redis.Redis, delay_s: float = 0.0) -> None:
        self.r = connection
        self.delay_s = delay_s

    def deliver(self, item: OutboxItem, incident: Incident) -> str:
        if self.delay_s:
            time.sleep(self.delay_s)
        ident = f"{incident.id}:{item.key}"
        record: dict[str, object] = {"incident": incident.id, "key": item.key, "kind": item.kind}
        record["to"] = item.to
        record |= {"step": item.step, "loop": item.loop, "via": item.via, "text": item.text}
        record["at"] = clock.now_ts()
        with self.r.pipeline() as pipe:  # one atomic "send"
            pipe.rpush(LOG_KEY, json.dumps(record))
            pipe.hincrby(COUNT_KEY, ident, 1)
            pipe.execute()
        if self.delay_s:
            time.sleep(self.delay_s)
        return ident

    def ready_in(self, item: OutboxItem, incident: Incident) -> float:
        return 0.0  # nothing paces a recording

    def revise(self, page: OutboxItem, incident: Incident) -> None:
        self.r.hset(REVISED_KEY, str(page.ref), incident.status.value)

    def find(self, item: OutboxItem, incident: Incident, since: float) -> str | None:
        ident = f"{incident.id}:{item.key}"
        return ident if self.r.hexists(COUNT_KEY, ident) else None


def recorded(connection: redis.Redis) -> list[dict[str, object]]:
    """Every recorded delivery, oldest first."""
    rows: list[str] = connection.lrange(LOG_KEY, 0, -1)  # type: ignore[assignment]
    return [json.loads(row) for row in rows]


def delivery_counts(connection: redis.Redis) -> dict[str, int]:
    raw: dict[str, str] = connection.hgetall(COUNT_KEY)  # type: ignore[assignment]
    return {k: int(v) for k, v in raw.items()}
