"""Sending once across crashes: record the attempt before the send, the reference after,
and ask the destination before sending again when an attempt's outcome is unknown.

The outbox does this per item (`bot.incident.delivery`); the watchdog's announcements and
the self-test's pages, which have no incident, keep their records in a `SendLedger`: a hash
of `<what>` -> `attempt:<ts>` (a send began and its outcome is unknown) or `sent:<ref>`.
Callers hold a lease while they send, so one process sends a given thing at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import redis

LOOK_BACK_S = 5.0  # an earlier attempt is looked for from this long before it (clock skew)


class SendLedger:
    def __init__(
        self,
        connection: redis.Redis,
        key: str,
        ttl_s: int | None = None,
        confirm: Callable[[str], object] | None = None,
    ) -> None:
        self.r, self.key, self.ttl_s = connection, key, ttl_s  # ttl_s: the hash expires then
        # After an attempt is recorded: WAIT for a replica (`Store.replicated`), so that after
        # a failover the retry asks before sending instead of sending blind.
        self.confirm = confirm

    def state(self, what: str) -> str | None:
        value = self.r.hget(self.key, what)
        return value.decode() if isinstance(value, bytes) else value

    def ref(self, what: str) -> str | None:
        """Where `what` landed, once it is known to have."""
        state = self.state(what)
        return state.removeprefix("sent:") if state and state.startswith("sent:") else None

    def attempting(self, what: str, ts: float) -> None:
        self._put(what, f"attempt:{ts!r}")
        if self.confirm is not None:
            self.confirm("send_attempt")

    def sent(self, what: str, ref: str) -> None:
        self._put(what, f"sent:{ref}")

    def _put(self, what: str, value: str) -> None:
        with self.r.pipeline() as pipe:
            pipe.hset(self.key, what, value)
            if self.ttl_s is not None:
                pipe.expire(self.key, self.ttl_s)
            pipe.execute()

    def forget(self, *what: str) -> None:
        if what:
            self.r.hdel(self.key, *what)


def send_once(
    ledger: SendLedger,
    what: str,
    send: Callable[[], str],
    find: Callable[[float], str | None],
    now: float,
) -> Literal["sent", "had"]:
    """Send `what` unless it was: "sent" now, or "had" (recorded sent, or found by `find`
    after an attempt whose outcome was unknown). `send` returns where it landed; `find(since)`
    where an earlier send after `since` landed, None when none did or none can tell. Their
    errors reach the caller, and the attempt stays recorded: the next call asks first."""
    before = ledger.state(what)
    if before is not None and before.startswith("sent:"):
        return "had"
    if before is not None:
        found = find(float(before.removeprefix("attempt:")) - LOOK_BACK_S)
        if found is not None:
            ledger.sent(what, found)
            return "had"
    ledger.attempting(what, now)
    ledger.sent(what, send())
    return "sent"
