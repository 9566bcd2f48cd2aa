"""Small marker keys: "do this once" (SET NX), and values remembered for a while.

A marker set with `first` is taken by one caller only until it expires: a Slack request
delivered twice is handled once, a post that must not be doubled is made once.
"""

from __future__ import annotations

from collections.abc import Callable

import redis


class Markers:
    def __init__(self, connection: redis.Redis) -> None:
        self.r = connection

    def first(self, key: str, ttl_s: int, value: str | float = "1") -> bool:
        """True for the one caller that sets `key` (for `ttl_s`); False while it is set."""
        return bool(self.r.set(key, value, nx=True, ex=ttl_s))

    def once(
        self,
        key: str,
        act: Callable[[], object],
        *,
        hold_s: int,
        keep_s: int,
        holding: str,
        done: str,
    ) -> bool:
        """Run `act` unless `key` is set: the marker says `holding` for `hold_s` while it
        runs, then `done` for `keep_s`. If `act` raises the marker is removed (a retry may
        do it) and the error goes on. False when it was already done or being done."""
        if not self.first(key, hold_s, holding):
            return False
        try:
            act()
        except Exception:
            self.forget(key)
            raise
        self.put(key, done, keep_s)
        return True

    def take(self, key: str) -> bool:
        """True for the one caller that removes `key` while it is set."""
        return bool(self.r.delete(key))

    def put(self, key: str, value: str | float, ttl_s: int | None = None) -> None:
        self.r.set(key, value, ex=ttl_s)

    def get(self, key: str) -> str | None:
        found = self.r.get(key)
        return None if found is None else str(found)

    def forget(self, key: str) -> None:
        self.r.delete(key)
