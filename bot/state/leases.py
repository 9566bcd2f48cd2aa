"""Leases: a role (the scheduler, the reconciler) held by one worker at a time."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import redis
import structlog

log = structlog.get_logger(__name__)

# Renew only if we still hold it, else take it if free (compare-and-set in one round trip).
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""


class Leases:
    def __init__(self, connection: redis.Redis) -> None:
        self.r = connection
        self._renew = connection.register_script(_RENEW)

    def hold(self, key: str, owner: str, lease_s: float) -> bool:
        """Keep (or take, when free) the lease for another `lease_s`; True if `owner` has it."""
        return bool(self._renew(keys=[key], args=[owner, int(lease_s * 1000)]))

    def take(self, key: str, owner: str, lease_s: float) -> bool:
        """Take the lease if free, for `lease_s` (it is not renewed)."""
        return bool(self.r.set(key, owner, nx=True, px=int(lease_s * 1000)))

    def release(self, key: str, owner: str) -> None:
        """Give the lease up now if `owner` holds it."""
        if self.r.get(key) == owner:
            self.r.delete(key)

    def holder(self, key: str) -> str | None:
        """Who holds the lease now (None when free)."""
        value = self.r.get(key)
        return value.decode() if isinstance(value, bytes) else value

    def held(self, key: str) -> bool:
        return bool(self.r.exists(key))

    @contextlib.contextmanager
    def kept(self, key: str, owner: str, lease_s: float) -> Iterator[bool]:
        """Hold the lease for the block (True) or not at all (False, another holds it),
        renewed every third of `lease_s` by a thread: a live holder keeps it however long
        the block takes, a killed one loses it `lease_s` on. Given up at the end."""
        if not self.hold(key, owner, lease_s):
            yield False
            return
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(lease_s / 3):
                try:
                    self.hold(key, owner, lease_s)
                except Exception:  # a Redis blip: try again next period
                    log.warning("lease_renew_failed", key=key)

        threading.Thread(target=renew, name=f"lease:{key}", daemon=True).start()
        try:
            yield True
        finally:
            stop.set()
            self.release(key, owner)
