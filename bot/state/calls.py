"""The calls Tocsin made to each phone number, kept so that a voice page's retry can tell
its own call from another page's (bot.notify.twilio.voice).

Per number: a lock its calls are made under, one at a time; the pages whose call is under
way (`pending`, with when each began); and the call each page made (`made`, the page's
identity to the call's SID, empty when it made none). A page is pending from just before
Twilio is asked to call until its SID (or that Twilio refused) is recorded: one left
pending, its holder dead or Twilio silent, is settled by a later holder (`TwilioVoice`).
Everything of a number is kept a day after its last call: a retry asks about its own call
minutes later at most.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis
from redis.exceptions import LockError

from bot import clock
from bot.state import keys

KEEP_S = 86400


class CallBook:
    """`bot.notify.twilio.voice.KnownCalls` over Redis."""

    def __init__(self, r: redis.Redis) -> None:
        self.r = r

    @contextmanager
    def calling(self, number: str, hold_s: float) -> Iterator[bool]:
        """Hold `number`'s lock (for `hold_s` at most: a holder that died lets go then):
        True, or False when another holder kept it longer than that."""
        name = keys.calls(number) + ":lock"
        lock = self.r.lock(name, timeout=hold_s, blocking_timeout=hold_s + 1)
        if not lock.acquire():
            yield False
            return
        try:
            yield True
        finally:
            # held past `hold_s`, it expired (another may hold it now): nothing to release
            with suppress(LockError):
                lock.release()

    def begin(self, number: str, page: str) -> None:
        """`page` is about to call `number`."""
        key = keys.calls(number)
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(key + ":pending", page, clock.now_ts())
            pipe.expire(key + ":pending", KEEP_S)
            pipe.execute()

    def pending(self, number: str) -> dict[str, float]:
        """The pages whose call to `number` began and is not recorded, with when each began."""
        raw: dict[str, str] = self.r.hgetall(keys.calls(number) + ":pending")  # type: ignore[assignment]
        return {page: float(ts) for page, ts in raw.items()}

    def made(self, number: str, page: str, sid: str | None) -> None:
        """`page`'s call to `number` is `sid` (None: it made none); it is pending no more."""
        key = keys.calls(number)
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(key + ":made", page, sid or "")
            pipe.expire(key + ":made", KEEP_S)
            pipe.hdel(key + ":pending", page)
            pipe.execute()

    def call_of(self, number: str, page: str) -> str | None:
        """The SID of `page`'s call to `number`, if it made one that is known."""
        sid: str | None = self.r.hget(keys.calls(number) + ":made", page)  # type: ignore[assignment]
        return sid or None

    def known(self, number: str) -> set[str]:
        """The SIDs of every call to `number` recorded as some page's."""
        sids: list[str] = self.r.hvals(keys.calls(number) + ":made")  # type: ignore[assignment]
        return {sid for sid in sids if sid}
