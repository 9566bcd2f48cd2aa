"""The Web API client every process uses: paced through Redis, its failures counted.

`SlackClient` is slack_sdk's WebClient with two additions, both given at construction:
`pacer` (bot.slack_api.pacing) makes each call wait for the shared per-method and
per-channel schedule, and retries only what Slack cannot have acted on already; `counts`
counts every failed call (by method and error) and every 429 for /metrics
(`tocsin_slack_api_errors_total`, `tocsin_slack_rate_limited_total`).
"""

from __future__ import annotations

import contextlib
from typing import Any

import redis
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from bot.config.settings import Settings, SettingsError
from bot.slack_api.pacing import (
    Current,
    IdempotentOnlyConnectionErrorHandler,
    IdempotentOnlyServerErrorHandler,
    Pacer,
    RateLimitHandler,
)
from bot.state import counters


class SlackClient(WebClient):
    def __init__(
        self,
        *args: Any,
        pacer: Pacer | None = None,
        counts: redis.Redis | None = None,
        **kwargs: Any,
    ) -> None:
        given = kwargs.get("retry_handlers")
        super().__init__(*args, **kwargs)
        self.pacer, self.counts = pacer, counts
        self._current = Current()
        handlers: list[RetryHandler]
        if given is not None:  # the caller's own retry policy
            handlers = list(given)
        elif pacer is not None:
            handlers = [
                IdempotentOnlyConnectionErrorHandler(pacer, self._current),
                RateLimitHandler(pacer=pacer, current=self._current, counts=counts),
                IdempotentOnlyServerErrorHandler(pacer, self._current),
            ]
        else:
            handlers = [
                ConnectionErrorRetryHandler(max_retry_count=2),
                RateLimitHandler(counts=counts, max_retry_count=3),
                ServerErrorRetryHandler(max_retry_count=2),
            ]
        self.retry_handlers = handlers

    def api_call(self, api_method: str, **kwargs: Any) -> Any:
        if self.pacer is not None:
            args = kwargs.get("json") or kwargs.get("data") or kwargs.get("params") or {}
            key = self.pacer.key(api_method, args if isinstance(args, dict) else None)
            self.pacer.wait(api_method, key)
            self._current.key = key
        try:  # a 429 is held and counted by RateLimitHandler, which sees every one
            return super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            if self.counts is not None:
                error = str(exc.response.get("error") or exc.response.status_code)
                with contextlib.suppress(redis.RedisError):
                    counters.incr(self.counts, "slack_error", method=api_method, error=error)
            raise
        finally:
            self._current.key = None


def slack_client(
    settings: Settings, pacer: Pacer | None = None, counts: redis.Redis | None = None
) -> SlackClient:
    """The bot's client from SLACK_BOT_TOKEN and SLACK_API_URL (Slack itself by default)."""
    if not settings.slack_bot_token:
        raise SettingsError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-…)")
    base = (settings.slack_api_url or "https://slack.com/api/").rstrip("/") + "/"
    return SlackClient(
        token=settings.slack_bot_token, base_url=base, timeout=10, pacer=pacer, counts=counts
    )


def instrument_slack(client: WebClient, conn: redis.Redis) -> SlackClient:
    """A client like `client` (its token, URL and retry handlers, without pacing) whose
    failures and 429s are counted in `conn`; retrying stays as `client` had it."""
    counting = RateLimitHandler(counts=conn, max_retry_count=0)  # counts, never retries
    return SlackClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        counts=conn,
        retry_handlers=[counting, *client.retry_handlers],
    )
