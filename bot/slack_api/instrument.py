"""Counting a WebClient's failures in Redis, for /metrics (tocsin_slack_api_errors_total,
tocsin_slack_rate_limited_total)."""

from __future__ import annotations

import contextlib
from typing import Any

import redis
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack_api.pacing import RateLimitHandler
from bot.state import counters


def instrument_slack(client: WebClient, conn: redis.Redis) -> WebClient:
    """Count the client's failed calls (by method and error) and its 429s in Redis.

    The 429s are counted by the client's RateLimitHandler (bot.slack_api.pacing); a client
    without one gets one that counts and leaves retrying to its other handlers."""
    handlers = [
        h.counting(conn) if isinstance(h, RateLimitHandler) else h for h in client.retry_handlers
    ]
    if not any(isinstance(h, RateLimitHandler) for h in handlers):
        handlers.insert(0, RateLimitHandler(counts=conn, max_retry_count=0))
    client.retry_handlers = handlers
    call = client.api_call

    def counted(api_method: str, **kwargs: Any) -> Any:
        try:
            return call(api_method, **kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            with contextlib.suppress(redis.RedisError):
                counters.incr(conn, "slack_error", method=api_method, error=error)
            raise

    client.api_call = counted  # type: ignore[method-assign]
    return client
