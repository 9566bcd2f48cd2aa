"""Client-side pacing of Slack Web API calls, shared by every Tocsin process through Redis.

Slack answers a call over its limit with HTTP 429 and `Retry-After`. slack_sdk's retry
handler makes the one caller wait, but the other web and worker processes keep calling,
and a backlog (200 incidents declared in a minute) becomes a storm of 429s. `Pacer` keeps:

- a hold per method (per method and channel for chat.postMessage, whose limit is per
  channel) until the last 429's `Retry-After` has elapsed; every process waits it out;
- a slot schedule per channel for chat.postMessage, one message per second (Slack's
  documented limit), so twenty pages to one person's DM are spread out, not rejected.

`PacedWebClient` also never lets the client itself re-send a non-idempotent call
(chat.postMessage, conversations.create, ...) after a 5xx or a dropped connection: Slack
may have done it. The outbox retries posts after asking Slack whether the earlier attempt
landed (message metadata), which a blind client retry would skip.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import redis
import structlog
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.state import counters

log = structlog.get_logger(__name__)
PREFIX = "tocsin:pace"
PER_CHANNEL = frozenset({"chat.postMessage", "chat.postEphemeral"})
NOT_IDEMPOTENT = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "conversations.create", "bookmarks.add"}
)
POST_GAP_S = 1.0  # chat.postMessage: about one message per second per channel
MAX_WAIT_S = 90.0  # never block a job longer than this on pacing alone

# Reserve the next slot of a per-key schedule spaced `gap` ms apart (GCRA, burst of
# `burst`); return how many ms the caller must wait for it. Redis's clock is shared.
_RESERVE = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gap, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('get', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now - gap * (burst - 1)
if wait < 0 then wait = 0 end
redis.call('set', KEYS[1], tat + gap, 'PX', tat + gap - now + 1000)
return wait
"""

# How many ms until KEYS[1]'s next slot (without taking it), or KEYS[2]'s hold, frees.
_BUSY = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('get', KEYS[1]) or '0')
local wait = tat - now - tonumber(ARGV[1]) * (tonumber(ARGV[2]) - 1)
local hold = redis.call('pttl', KEYS[2])
if hold > wait then wait = hold end
if wait < 0 then wait = 0 end
return wait
"""


def method_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def retry_after(headers: Any) -> float:
    """Seconds from a 429's Retry-After header (1 when absent or unreadable)."""
    for key, value in dict(headers or {}).items():
        if str(key).lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(1.0, float(raw))
            except (TypeError, ValueError):
                return 1.0
    return 1.0


class Pacer:
    """Holds and slot schedules in Redis; best effort: a Redis error never blocks a call."""

    def __init__(self, connection: redis.Redis, post_gap_s: float = POST_GAP_S) -> None:
        self.r = connection
        self.post_gap_ms = int(post_gap_s * 1000)
        self._reserve = connection.register_script(_RESERVE)
        self._busy = connection.register_script(_BUSY)

    @staticmethod
    def key(method: str, args: dict[str, Any] | None) -> str:
        channel = (args or {}).get("channel")
        return f"{method}:{channel}" if method in PER_CHANNEL and channel else method

    def hold(self, key: str, seconds: float) -> None:
        """Nobody calls `key` for `seconds` (a 429 said so)."""
        try:
            self.r.set(f"{PREFIX}:hold:{key}", "1", px=max(1, int(seconds * 1000)))
        except redis.RedisError:
            log.warning("pacer_unavailable", key=key)
        log.info("slack_rate_limited", key=key, retry_after=seconds)

    def busy_for(self, method: str, key: str) -> float:
        """Seconds `wait` would block on `key` now, without taking a slot (0 if unknown)."""
        try:  # a method without per-channel slots has no slot key: only its hold counts
            keys = [f"{PREFIX}:slot:{key}", f"{PREFIX}:hold:{key}"]
            ms = int(self._busy(keys=keys, args=[self.post_gap_ms, 2]))
        except redis.RedisError:
            return 0.0
        return ms / 1000

    def wait(self, method: str, key: str) -> float:
        """Block until `key` may be called; return the seconds waited.

        The per-channel slot comes first and the hold is checked last, right before the
        call goes out, so a 429 that arrived while we slept for our slot is still obeyed.
        """
        waited, deadline = 0.0, time.monotonic() + MAX_WAIT_S
        try:
            if method in PER_CHANNEL and key != method:
                ms = int(self._reserve(keys=[f"{PREFIX}:slot:{key}"], args=[self.post_gap_ms, 2]))
                if ms > 0:
                    time.sleep(ms / 1000)
                    waited += ms / 1000
            while time.monotonic() < deadline:
                ttl = int(self.r.pttl(f"{PREFIX}:hold:{key}"))
                if ttl <= 0:
                    break
                time.sleep(ttl / 1000 + 0.01)
                waited += ttl / 1000
        except redis.RedisError:
            log.warning("pacer_unavailable", key=key)
        return waited


class Current(threading.local):
    """The pacing key of the call this thread is making (its retry handlers hold that key)."""

    key: str | None = None


class RateLimitHandler(RateLimitErrorRetryHandler):
    """The one handler of Slack's 429s. Every 429, the last one too (when no retry is left),
    is counted for /metrics (with `counts`) and held in the shared pacer (with `pacer`) so
    every process waits it out; the call is retried after Retry-After while retries remain."""

    def __init__(
        self,
        *,
        pacer: Pacer | None = None,
        current: Current | None = None,
        counts: redis.Redis | None = None,
        max_retry_count: int = 3,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pacer, self.counts = pacer, counts
        self.current = current or Current()

    def counting(self, counts: redis.Redis) -> RateLimitHandler:
        """This handler, counting its 429s in `counts` too."""
        retries = self.max_retry_count
        return RateLimitHandler(
            pacer=self.pacer, current=self.current, counts=counts, max_retry_count=retries
        )

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        method = method_of(request.url)
        if self.counts is not None:
            with contextlib.suppress(redis.RedisError):
                counters.incr(self.counts, "slack_429", method=method)
        if self.pacer is not None:
            self.pacer.hold(self.current.key or method, retry_after(response.headers))
        return bool(super().can_retry(state=state, request=request, response=response, error=error))

    def prepare_for_next_attempt(self, *, request: HttpRequest, **kw: Any) -> None:
        super().prepare_for_next_attempt(request=request, **kw)  # sleeps Retry-After
        if self.pacer is not None:
            method = method_of(request.url)
            self.pacer.wait(method, self.current.key or method)


class _PacedRetry(RetryHandler):
    """Mixin for slack_sdk's retry handlers: a client-side retry waits for the shared pacer
    too (another process may have been told to back off meanwhile), and never re-sends a
    non-idempotent call."""

    def __init__(self, pacer: Pacer, current: Current, max_retry_count: int = 2) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pacer, self.current = pacer, current

    def _can_retry(self, *, state: RetryState, request: HttpRequest, **kw: Any) -> bool:
        return method_of(request.url) not in NOT_IDEMPOTENT and bool(
            super()._can_retry(state=state, request=request, **kw)
        )

    def prepare_for_next_attempt(self, *, request: HttpRequest, **kw: Any) -> None:
        super().prepare_for_next_attempt(request=request, **kw)
        method = method_of(request.url)
        self.pacer.wait(method, self.current.key or method)


class IdempotentOnlyServerErrorHandler(_PacedRetry, ServerErrorRetryHandler):
    """Retries a 5xx, unless Slack may already have acted on the call."""


class IdempotentOnlyConnectionErrorHandler(_PacedRetry, ConnectionErrorRetryHandler):
    """Retries a dropped connection, unless Slack may already have acted on the call."""
