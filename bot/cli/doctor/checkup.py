"""What every check reads: the settings, the manifest, and (each opened once, lazily) the
Slack auth.test answer, the Redis connection and the config catalog."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import redis

from bot.config.loader import load_catalog
from bot.config.settings import Settings
from bot.domain.catalog import Catalog
from bot.redaction import redact_text
from bot.runtime import redis_target
from bot.slack_api.client import slack_client
from bot.state.target import open_redis


@dataclass(frozen=True)
class Line:
    name: str
    status: str  # ok | FAIL | warn
    detail: str
    fix: str = ""


def ok(name: str, detail: str) -> Line:
    return Line(name, "ok", detail)


def fail(name: str, detail: str, fix: str) -> Line:
    return Line(name, "FAIL", detail, fix)


def warn(name: str, detail: str, fix: str = "") -> Line:
    return Line(name, "warn", detail, fix)


@dataclass(frozen=True)
class AuthAnswer:
    """auth.test's answer: the body and headers, or why Slack refused (`error`)."""

    body: dict[str, Any]
    headers: dict[str, Any]
    error: str | None = None


class Checkup:
    def __init__(
        self, settings: Settings, manifest: Path, now: float, env: Mapping[str, str]
    ) -> None:
        self.settings, self.manifest, self.now = settings, manifest, now
        self.env = env  # where the page methods' keys are read (the process's environment)

    @cached_property
    def auth(self) -> AuthAnswer | None:
        """auth.test against SLACK_API_URL (Slack itself by default); None without a token."""
        if not self.settings.slack_bot_token:
            return None
        try:
            answer = slack_client(self.settings).auth_test()
        except Exception as exc:  # SlackApiError (invalid_auth, …) or the network
            data = getattr(getattr(exc, "response", None), "data", None)
            why = data.get("error") if isinstance(data, dict) else None
            return AuthAnswer({}, {}, str(why or redact_text(str(exc))))
        headers = {k.lower(): v for k, v in (answer.headers or {}).items()}
        return AuthAnswer(dict(answer.data) if isinstance(answer.data, dict) else {}, headers)

    @cached_property
    def connected(self) -> redis.Redis | str:
        """A connection that answered PING, or why there is none (secrets masked)."""
        if not self.settings.redis_configured:
            return "neither REDIS_URL nor REDIS_SENTINELS is set"
        target = redis_target(self.settings)  # through Sentinel when REDIS_SENTINELS names it
        conn = open_redis(target, socket_timeout=5)
        try:
            conn.ping()
        except redis.RedisError as exc:
            return f"{redact_text(target.where)}: {redact_text(str(exc))}"
        return conn

    @property
    def conn(self) -> redis.Redis | None:
        return self.connected if isinstance(self.connected, redis.Redis) else None

    @cached_property
    def catalog(self) -> Catalog | None:
        """The config as loaded, or None when it does not load (the config line says why)."""
        try:
            return load_catalog(self.settings.config_in_use)
        except Exception:
            return None
