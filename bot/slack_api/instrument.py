"""Counting a WebClient's failures in Redis, for /metrics (tocsin_slack_api_errors_total,
tocsin_slack_rate_limited_total)."""

from __future__ import annotations

import contextlib
from typing import Any

import redis
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.state import counters


class _CountRateLimits(RetryHandler):
    """First in the client's retry handlers: counts every 429, never retries itself."""

    def __init__(self, conn: redis.Redis) -> None:
        super().__init__(max_retry_count=0)
        self.conn = conn

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            method = request.url.rstrip("/").rsplit("/", 1)[-1]
            with contextlib.suppress(redis.RedisError):
                counters.incr(self.conn, "slack_429", method=method)
        return False


def instrument_slack(client: WebClient, conn: redis.Redis) -> WebClient:
    """Count the client's failed calls (by method and error) and its 429s in Redis."""
    client.retry_handlers = [_CountRateLimits(conn), *client.retry_handlers]
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
