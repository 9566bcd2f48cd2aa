"""Fault injection and Slack-like rate limits.

A `FaultRule` matches calls by method (exact or a glob such as `chat.*`; None for every
method) and fires at a seeded random `rate` or on its `nth` matching call. Kinds:

- "429": HTTP 429, `Retry-After: retry_after`, body `{"ok": false, "error": "ratelimited"}`
- "500" / "503": a server error with a small JSON body
- "delay": answer normally after `delay` seconds
- "timeout": hold the connection `delay` seconds (default 30), then drop it unanswered
- "reset": drop the connection at once, unanswered

`when="after"` makes delay/timeout/reset apply *after* the call took effect (the client
gives up on a call Slack did perform), the interesting case for idempotency.
"""

from __future__ import annotations

import fnmatch
import math
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.sandbox.params import JsonDict

KINDS = ("429", "500", "503", "delay", "timeout", "reset")


class FaultError(ValueError):
    """A fault rule that makes no sense (unknown kind, neither rate nor nth...)."""


@dataclass
class FaultRule:
    kind: str
    method: str | None = None
    rate: float | None = None
    nth: int | None = None
    times: int | None = None
    retry_after: int = 1
    delay: float | None = None
    when: str = "before"
    seen: int = 0
    fired: int = 0
    id: int = 0

    def __post_init__(self) -> None:
        self.kind = str(self.kind)
        if self.kind not in KINDS:
            raise FaultError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.rate is None and self.nth is None:
            self.rate = 1.0
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise FaultError("rate must be between 0 and 1")
        if self.nth is not None and self.nth < 1:
            raise FaultError("nth counts from 1")
        if self.when not in ("before", "after"):
            raise FaultError("when must be 'before' or 'after'")
        if self.nth is not None and self.times is None:
            self.times = 1

    def matches(self, method: str) -> bool:
        return self.method is None or fnmatch.fnmatchcase(method, self.method)

    def hold_seconds(self) -> float:
        if self.delay is not None:
            return self.delay
        return 30.0 if self.kind == "timeout" else 1.0

    def as_dict(self) -> JsonDict:
        return asdict(self)


@dataclass
class Faults:
    """The active fault rules; thread-safe; the RNG is seeded so a run can be replayed."""

    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)
        self._ids = 0

    def add(self, kind: str, method: str | None = None, **options: Any) -> FaultRule:
        """Add a rule, e.g. `add("429", method="chat.postMessage", rate=0.2, retry_after=1)`."""
        rule = FaultRule(kind=str(kind), method=method, **options)
        with self._lock:
            self._ids += 1
            rule.id = self._ids
            self.rules.append(rule)
        return rule

    def clear(self, method: str | None = None) -> None:
        with self._lock:
            self.rules = [r for r in self.rules if method is not None and r.method != method]

    def reseed(self, seed: int) -> None:
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)

    def pick(self, method: str) -> FaultRule | None:
        """The rule that fires for this call, if any (every matching rule counts the call)."""
        chosen = None
        with self._lock:
            for rule in self.rules:
                if not rule.matches(method):
                    continue
                rule.seen += 1
                if chosen is not None or (rule.times is not None and rule.fired >= rule.times):
                    continue
                if rule.nth is not None:
                    hit = rule.seen >= rule.nth
                else:
                    hit = self._rng.random() < (rule.rate or 0.0)
                if hit:
                    rule.fired += 1
                    chosen = rule
        return chosen

    def snapshot(self) -> list[JsonDict]:
        with self._lock:
            return [r.as_dict() for r in self.rules]


# Slack's published tiers, per method per workspace (calls per minute).
TIER_2, TIER_3, TIER_4 = 20, 50, 100
TIERS: dict[str, int] = {
    "conversations.create": TIER_2,
    "conversations.archive": TIER_2,
    "conversations.rename": TIER_2,
    "conversations.setTopic": TIER_2,
    "conversations.setPurpose": TIER_2,
    "users.list": TIER_2,
    "usergroups.list": TIER_2,
    "usergroups.users.list": TIER_2,
    "bookmarks.add": TIER_2,
    "pins.add": TIER_2,
    "conversations.history": TIER_3,
    "conversations.replies": TIER_3,
    "conversations.info": TIER_3,
    "conversations.invite": TIER_3,
    "conversations.join": TIER_3,
    "conversations.open": TIER_3,
    "chat.update": TIER_3,
    "chat.scheduleMessage": TIER_3,
    "chat.deleteScheduledMessage": TIER_3,
    "reactions.add": TIER_3,
    "users.lookupByEmail": TIER_3,
}
POST_RATE = 1.0  # chat.postMessage: about one message per second per channel...
POST_BURST = 3  # ...with a short burst allowance


class RateLimiter:
    """Sliding one-minute windows per method, a token bucket per channel for postMessage."""

    def __init__(self, enabled: bool = False) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, method: str, channel: str | None) -> int | None:
        """Seconds to wait if this call is over the limit (and then it is not counted)."""
        if not self.enabled:
            return None
        now = time.monotonic()
        with self._lock:
            if method in ("chat.postMessage", "chat.postEphemeral") and channel:
                tokens, last = self._buckets.get(channel, (float(POST_BURST), now))
                tokens = min(float(POST_BURST), tokens + (now - last) * POST_RATE)
                if tokens < 1.0:
                    self._buckets[channel] = (tokens, now)
                    return max(1, math.ceil((1.0 - tokens) / POST_RATE))
                self._buckets[channel] = (tokens - 1.0, now)
                return None
            limit = TIERS.get(method, TIER_4)
            window = self._windows.setdefault(method, deque())
            while window and now - window[0] >= 60.0:
                window.popleft()
            if len(window) >= limit:
                return max(1, math.ceil(60.0 - (now - window[0])))
            window.append(now)
            return None
