"""The calls Tocsin knows it made to each phone number, so that a voice page's retry can
tell its own call from another page's (bot.notify.twilio.voice).

A call's SID is recorded as soon as Twilio answers the create, and again when a retry
finds it as its own. Each number keeps its SIDs for a day: a retry only asks about calls
made since its attempt began, minutes ago at most.
"""

from __future__ import annotations

import redis

from bot import clock
from bot.state import keys

KEEP_S = 86400


class CallBook:
    """`bot.notify.twilio.voice.KnownCalls` over Redis: a sorted set of SIDs per number,
    scored by when each was recorded."""

    def __init__(self, r: redis.Redis) -> None:
        self.r = r

    def record(self, number: str, sid: str) -> None:
        """Remember that the call `sid` to `number` is a page's (whichever page's)."""
        key, now = keys.calls(number), clock.now_ts()
        with self.r.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {sid: now})
            pipe.zremrangebyscore(key, "-inf", now - KEEP_S)
            pipe.expire(key, int(KEEP_S))
            pipe.execute()

    def known(self, number: str) -> set[str]:
        """The SIDs of the calls to `number` recorded in the last day."""
        sids: list[str] = self.r.zrange(keys.calls(number), 0, -1)  # type: ignore[assignment]
        return set(sids)
