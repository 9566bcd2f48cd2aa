"""Settings from the environment, read once by the process's factory (never at import)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.config.location import config_dir_in_use
from bot.redaction import redact_text


class SettingsError(ValueError):
    """An environment variable has a value Tocsin cannot use."""


@dataclass(frozen=True)
class Settings:
    redis_url: str | None = None
    redis_sentinels: tuple[tuple[str, int], ...] = ()  # REDIS_SENTINELS=host:port,host:port
    redis_sentinel_master: str = "mymaster"
    redis_password: str | None = field(default=None, repr=False)
    redis_sentinel_password: str | None = field(default=None, repr=False)
    redis_tls: bool = False  # REDIS_TLS=1, or a rediss:// REDIS_URL
    redis_wait_replicas: int = 0  # TOCSIN_REDIS_WAIT_REPLICAS: WAIT after a promise; 0 = off
    redis_wait_ms: int = 500  # TOCSIN_REDIS_WAIT_MS: how long that WAIT may take
    config_dir: Path = Path("escalation_policies")
    config_fallback: Path | None = None  # used while config_dir holds no YAML file
    queue: str = "tocsin"
    pager: str = "slack"  # slack | recording
    slack_api_url: str | None = None  # base_url of the Web API; None means Slack itself
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    metrics_token: str | None = field(default=None, repr=False)  # GET /metrics needs it if set
    calendar_secret: str | None = field(default=None, repr=False)  # keys the .ics feeds' tokens
    public_url: str | None = None  # where people reach `tocsin web`: calendar and ack links
    ack_link_secret: str | None = field(default=None, repr=False)  # signs email ack links
    claim_lease_s: float = 30.0  # a page claimed by a worker that died is retried after this
    reconcile_every_s: float = 15.0
    scheduler_poll_s: float = 0.25
    scheduler_lease_s: float = 3.0  # a dead worker's scheduler role is taken over after this
    directory_file: Path | None = None  # static users/usergroups when Slack is not used
    runbooks_dir: Path = Path("runbooks")
    writes_per_minute: float = 30.0  # commands that write to an incident, per person and incident
    writes_burst: int = 20  # how many of them may come at once
    retention_days: float = 30.0  # a closed incident's operational keys go after this
    watchdog_after_s: float = 60.0  # workers unseen this long: /readyz says so, web pages
    watchdog_urls: tuple[str, ...] = ()  # webhooks `tocsin web` POSTs to (bot.watchdog)
    watchdog_secret: str | None = field(default=None, repr=False)  # signs those POSTs
    watchdog_channel: str | None = None  # a Slack channel `tocsin web` posts them in too
    watchdog_pagerduty: str | None = None  # a services.yaml PagerDuty service alerted too
    heartbeat_url: str | None = field(default=None, repr=False)  # a dead man's switch's URL
    heartbeat_every_s: float = 60.0
    smtp_url: str | None = field(default=None, repr=False)  # pages by email go through it
    smtp_from: str | None = None  # their From address

    @property
    def config_in_use(self) -> Path:
        """The config directory to load now (config_dir, or the fallback while it is empty)."""
        return config_dir_in_use(self.config_dir, self.config_fallback)

    @property
    def redis_configured(self) -> bool:
        return bool(self.redis_url or self.redis_sentinels)

    @property
    def retention_s(self) -> float:
        return self.retention_days * 86400

    def __repr__(self) -> str:
        """The fields, tokens and secrets left out and REDIS_URL's password masked."""
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
        return redact_text(f"Settings({shown})")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def num(name: str, default: float, unit: str = "seconds") -> float:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            try:
                value = float(raw)
            except ValueError:
                raise SettingsError(f"{name}={raw!r} is not a number of {unit}") from None
            if value <= 0:
                raise SettingsError(f"{name}={raw!r} must be greater than zero")
            return value

        pager = env.get("TOCSIN_PAGER", "slack")
        if pager not in ("slack", "recording"):
            raise SettingsError(f"TOCSIN_PAGER={pager!r}: use 'slack' or 'recording'")
        directory = env.get("TOCSIN_DIRECTORY_FILE")
        fallback = env.get("TOCSIN_CONFIG_FALLBACK")
        return cls(
            redis_url=env.get("REDIS_URL") or None,
            redis_sentinels=_sentinels(env.get("REDIS_SENTINELS") or ""),
            redis_sentinel_master=env.get("REDIS_SENTINEL_MASTER") or "mymaster",
            redis_password=env.get("REDIS_PASSWORD") or None,
            redis_sentinel_password=env.get("REDIS_SENTINEL_PASSWORD") or None,
            redis_tls=(env.get("REDIS_TLS") or "").lower() in ("1", "true", "yes"),
            redis_wait_replicas=_count(env, "TOCSIN_REDIS_WAIT_REPLICAS", 0),
            # never 0: `WAIT n 0` would block until the replicas answer, however long
            redis_wait_ms=max(1, int(num("TOCSIN_REDIS_WAIT_MS", 500, "milliseconds"))),
            config_dir=Path(env.get("TOCSIN_CONFIG_DIR") or "escalation_policies"),
            config_fallback=Path(fallback) if fallback else None,
            queue=env.get("TOCSIN_QUEUE", "tocsin"),
            pager=pager,
            slack_api_url=env.get("SLACK_API_URL") or None,
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=env.get("SLACK_APP_TOKEN") or None,
            metrics_token=env.get("TOCSIN_METRICS_TOKEN") or None,
            calendar_secret=_calendar_secret(env.get("TOCSIN_CALENDAR_SECRET") or None),
            public_url=(env.get("TOCSIN_PUBLIC_URL") or "").rstrip("/") or None,
            ack_link_secret=_secret(
                "TOCSIN_ACK_LINK_SECRET", env.get("TOCSIN_ACK_LINK_SECRET") or None
            ),
            claim_lease_s=num("TOCSIN_CLAIM_LEASE_S", 30.0),
            reconcile_every_s=num("TOCSIN_RECONCILE_EVERY_S", 15.0),
            scheduler_poll_s=num("TOCSIN_SCHEDULER_POLL_S", 0.25),
            scheduler_lease_s=num("TOCSIN_SCHEDULER_LEASE_S", 3.0),
            directory_file=Path(directory) if directory else None,
            runbooks_dir=Path(env.get("TOCSIN_RUNBOOKS_DIR", "runbooks")),
            writes_per_minute=num("TOCSIN_WRITES_PER_MINUTE", 30.0, "writes"),
            writes_burst=max(1, int(num("TOCSIN_WRITES_BURST", 20, "writes"))),
            retention_days=num("TOCSIN_RETENTION_DAYS", 30.0, "days"),
            watchdog_after_s=num("TOCSIN_WATCHDOG_AFTER_S", 60.0),
            **_watchdog(env),
            heartbeat_url=_heartbeat_url(env.get("TOCSIN_HEARTBEAT_URL") or None),
            heartbeat_every_s=num("TOCSIN_HEARTBEAT_EVERY_S", 60.0),
            **_smtp(env),
        )


MIN_WATCHDOG_SECRET = 16


def _watchdog(env: Mapping[str, str]) -> dict[str, Any]:
    urls = tuple(u.strip() for u in env.get("TOCSIN_WATCHDOG_URLS", "").split(",") if u.strip())
    secret = env.get("TOCSIN_WATCHDOG_SECRET") or None
    for url in urls:
        if not url.startswith(("https://", "http://")):
            raise SettingsError(f"TOCSIN_WATCHDOG_URLS: {redact_text(url)!r} is not an http(s) URL")
    if urls and (secret is None or len(secret) < MIN_WATCHDOG_SECRET):
        raise SettingsError(
            f"TOCSIN_WATCHDOG_URLS is set: set TOCSIN_WATCHDOG_SECRET too (at least "
            f"{MIN_WATCHDOG_SECRET} characters, e.g. `openssl rand -hex 32`); it signs the pages"
        )
    channel = env.get("TOCSIN_WATCHDOG_CHANNEL", "").strip() or None
    if channel is not None and not re.fullmatch(r"[CG][A-Z0-9]{2,}", channel):
        raise SettingsError(
            f"TOCSIN_WATCHDOG_CHANNEL: {channel!r} is not a channel id (C…, from the channel's "
            "details); invite the bot to it"
        )
    return {
        "watchdog_urls": urls,
        "watchdog_secret": secret,
        "watchdog_channel": channel,
        "watchdog_pagerduty": env.get("TOCSIN_WATCHDOG_PAGERDUTY", "").strip() or None,
    }


def _smtp(env: Mapping[str, str]) -> dict[str, Any]:
    """TOCSIN_SMTP_URL (smtp:// or smtps://, user:password@ if the server wants them) and
    TOCSIN_SMTP_FROM, the From address of pages by email; both or neither."""
    url = env.get("TOCSIN_SMTP_URL") or None
    sender = env.get("TOCSIN_SMTP_FROM") or None
    if url is None:
        return {"smtp_url": None, "smtp_from": sender}
    parsed = urlsplit(url)
    if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
        shown = redact_text(url)
        raise SettingsError(
            f"TOCSIN_SMTP_URL={shown!r}: use smtp://host:port or smtps://user:password@host:port"
        )
    try:
        parsed.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise SettingsError("TOCSIN_SMTP_URL: the port is not a number from 1 to 65535") from None
    if sender is None or "@" not in sender:
        raise SettingsError(
            "TOCSIN_SMTP_URL is set: set TOCSIN_SMTP_FROM too, the From address of pages by "
            "email (e.g. tocsin@example.com)"
        )
    return {"smtp_url": url, "smtp_from": sender}


def _heartbeat_url(url: str | None) -> str | None:
    if url is not None and not url.startswith(("https://", "http://")):
        raise SettingsError("TOCSIN_HEARTBEAT_URL is not an http(s) URL")
    return url


def _sentinels(raw: str) -> tuple[tuple[str, int], ...]:
    """REDIS_SENTINELS `host:port,host:port` as pairs."""
    pairs = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit():
            raise SettingsError(f"REDIS_SENTINELS: {entry!r} is not host:port")
        pairs.append((host.strip("[]"), int(port)))
    return tuple(pairs)


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or ""
    if not raw:
        return default
    if not raw.isdigit():
        raise SettingsError(f"{name}={raw!r} is not a whole number (0 or more)")
    return int(raw)


MIN_CALENDAR_SECRET = 32  # characters: the feeds' tokens are only as hard to guess as it


def _calendar_secret(value: str | None) -> str | None:
    return _secret("TOCSIN_CALENDAR_SECRET", value)


def _secret(name: str, value: str | None) -> str | None:
    """A secret that keys tokens people hold (feeds, ack links): long enough not to guess."""
    if value is not None and len(value) < MIN_CALENDAR_SECRET:
        raise SettingsError(
            f"{name} is too short: use at least {MIN_CALENDAR_SECRET} random "
            "characters, e.g. from `openssl rand -hex 32`"
        )
    return value
