"""The last good copy of each schedule's iCalendar feed, and how its last read went.

One hash per schedule: `body` (the feed's text as last read well), `read_at` (POSIX
seconds of that read), `tried_at` and `error` (the last failed read, cleared by a good
one). A failed read never touches `body`: the schedule keeps its last good copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import redis

from bot.state.keys import PREFIX


def feed_key(schedule: str) -> str:
    return f"{PREFIX}:ics:{schedule}"


@dataclass(frozen=True)
class FeedState:
    body: str | None
    read_at: float | None
    tried_at: float | None
    error: str | None


class IcsFeeds:
    def __init__(self, connection: redis.Redis) -> None:
        self.r = connection

    def get(self, schedule: str) -> FeedState:
        raw = cast(dict[str, str], self.r.hgetall(feed_key(schedule)))
        return FeedState(
            raw.get("body"),
            float(raw["read_at"]) if "read_at" in raw else None,
            float(raw["tried_at"]) if "tried_at" in raw else None,
            raw.get("error") or None,
        )

    def stamp(self, schedule: str) -> str | None:
        """What changes whenever a new copy is kept (cheap to read on every lookup)."""
        return cast(str | None, self.r.hget(feed_key(schedule), "read_at"))

    def kept(self, schedule: str, body: str, at: float) -> None:
        self.r.hset(feed_key(schedule), mapping={"body": body, "read_at": at, "tried_at": at})
        self.r.hdel(feed_key(schedule), "error")

    def failed(self, schedule: str, error: str, at: float) -> bool:
        """Record a failed read; True when the previous read had not failed (news to tell)."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hget(feed_key(schedule), "error")
            pipe.hset(feed_key(schedule), mapping={"error": error[:500], "tried_at": at})
            before, _ = pipe.execute()
        return before is None
