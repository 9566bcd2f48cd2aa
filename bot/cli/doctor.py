"""`tocsin doctor`: every integration point checked, one line each, with the fix for a failure.

Lines are `ok`, `FAIL` (the exit code is 1) or `warn` (could not be checked, or worth a look;
the exit code stays 0). `--json` prints the same list as JSON.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

import redis
import yaml

from bot import clock
from bot.config.check import run_check
from bot.config.loader import load_catalog
from bot.config.settings import Settings
from bot.domain.catalog import Catalog
from bot.oncall.feeds import FeedSchedules
from bot.redaction import redact_text
from bot.runtime import redis_target
from bot.slack_api.client import slack_client
from bot.state.alerts import AlertStore
from bot.state.icsfeeds import IcsFeeds
from bot.state.target import open_redis

MAX_LAG_S = 10  # a replica further behind than this loses that much on a failover


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


def check_config(settings: Settings) -> Iterator[Line]:
    out = io.StringIO()
    directory = settings.config_in_use
    if run_check(directory, out) == 0:
        yield ok("config", f"{directory} is valid")
        return
    problems = [line for line in out.getvalue().splitlines() if "warning:" not in line]
    yield fail(
        "config", "; ".join(problems[:5]), f"fix those lines, then `tocsin check {directory}`"
    )


def check_slack(settings: Settings, manifest: Path) -> Iterator[Line]:
    if settings.slack_signing_secret:
        yield ok("signing secret", "SLACK_SIGNING_SECRET is set")
    else:
        yield fail(
            "signing secret",
            "SLACK_SIGNING_SECRET is not set: tocsin web refuses to start",
            "copy Basic Information → App Credentials → Signing Secret into SLACK_SIGNING_SECRET",
        )
    reinstall_hint = "set SLACK_BOT_TOKEN to OAuth & Permissions → Bot User OAuth Token (xoxb-…)"
    if not settings.slack_bot_token:
        yield fail("slack token", "SLACK_BOT_TOKEN is not set", reinstall_hint)
        return
    try:
        answer = slack_client(settings).auth_test()
    except Exception as exc:  # SlackApiError (invalid_auth, …) or the network
        error = getattr(getattr(exc, "response", None), "data", {}) or {}
        why = error.get("error") if isinstance(error, dict) else None
        yield fail(
            "slack token", f"auth.test refused: {why or redact_text(str(exc))}", reinstall_hint
        )
        return
    yield ok("slack token", f"valid: bot {answer.get('user')} in {answer.get('team')}")
    headers = {k.lower(): v for k, v in (answer.headers or {}).items()}
    granted = headers.get("x-oauth-scopes")
    if isinstance(granted, list):
        granted = ",".join(granted)
    yield scopes_line(manifest, granted)


def scopes_line(manifest: Path, granted: str | None) -> Line:
    if not manifest.is_file():
        return warn("scopes", f"{manifest} not found: scopes not compared", "pass --manifest")
    wanted = set(yaml.safe_load(manifest.read_text())["oauth_config"]["scopes"]["bot"])
    if granted is None:
        return warn("scopes", "Slack did not say which scopes the token has (X-OAuth-Scopes)")
    missing = sorted(wanted - {s.strip() for s in granted.split(",")})
    if not missing:
        return ok("scopes", f"every scope of {manifest.name} is granted")
    return fail(
        "scopes",
        f"not granted: {', '.join(missing)}",
        f"add them under OAuth & Permissions (or update the app from {manifest.name}) and "
        "reinstall the app to the workspace",
    )


def check_redis(conn: redis.Redis) -> Iterator[Line]:
    def config(name: str) -> str | None:
        try:
            return str(conn.config_get(name).get(name))
        except redis.ResponseError:  # managed services often disable CONFIG
            return None

    for name, wanted, why, fix in (
        (
            "appendonly",
            "yes",
            "a restart loses timers and queued pages",
            "set `appendonly yes` (valkey.conf, or CONFIG SET appendonly yes; CONFIG REWRITE)",
        ),
        (
            "maxmemory-policy",
            "noeviction",
            "an evicted key silently drops a timer or a page",
            "set `maxmemory-policy noeviction` (or the service's parameter group)",
        ),
    ):
        value = config(name)
        label = f"redis {name}"
        if value is None:
            yield warn(label, "CONFIG GET is disabled here: not checked", f"make sure of: {fix}")
        elif value == wanted:
            yield ok(label, f"{name} {value}")
        else:
            yield fail(label, f"{name} is {value}: {why}", fix)
    yield replication_line(conn.info("replication"))


def replication_line(info: dict[str, object]) -> Line:
    if info.get("role") != "master":
        return fail(
            "redis replicas",
            "REDIS_URL points at a replica (read-only)",
            "point REDIS_URL at the primary (or use Sentinel)",
        )
    lags = [int(v["lag"]) for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
    if not lags:
        return warn(
            "redis replicas",
            "no replica: losing this server loses every incident",
            "add a replica and Sentinel (deploy/)",
        )
    worst = max(lags)
    if worst > MAX_LAG_S:
        return fail(
            "redis replicas",
            f"a replica is {worst} s behind",
            "check the replica's network and load (INFO replication on it)",
        )
    return ok("redis replicas", f"{len(lags)} replica(s), at most {worst} s behind")


def check_alerts(catalog: Catalog, conn: redis.Redis, now: float) -> Iterator[Line]:
    store = AlertStore(conn)
    for name, source in sorted(catalog.alert_sources.items()):
        label = f"alerts {name}"
        if source.heartbeat is None:
            yield warn(
                label,
                "no heartbeat configured: when it last sent is not recorded",
                "add `heartbeat:` to the source in alerts.yaml",
            )
            continue
        last = store.heartbeat_last(name)
        every = source.heartbeat.every_s
        if last is not None and now - last <= every:
            yield ok(label, f"heartbeat {now - last:.0f} s ago (every {every} s)")
        else:
            when = "never" if last is None else f"{now - last:.0f} s ago"
            yield fail(
                label,
                f"last heartbeat {when}, expected every {every} s",
                f"check the sender's webhook to /alerts/{name} and its token",
            )


def check_calendars(catalog: Catalog, settings: Settings, conn: redis.Redis) -> Iterator[Line]:
    feeds = FeedSchedules(lambda: catalog, IcsFeeds(conn), settings.config_dir, None)
    for schedule, state in sorted(feeds.status().items()):
        label = f"calendar {schedule}"
        if state == "ok":
            yield ok(label, "loaded")
        else:
            yield fail(label, state, "check the schedule's `source:` URL; a worker reads it")


def diagnose(settings: Settings, manifest: Path) -> list[Line]:
    lines = [*check_config(settings), *check_slack(settings, manifest)]
    if not settings.redis_configured:
        fix = "set REDIS_URL=redis://host:6379/0, or REDIS_SENTINELS and REDIS_SENTINEL_MASTER"
        return [*lines, fail("redis", "neither REDIS_URL nor REDIS_SENTINELS is set", fix)]
    target = redis_target(settings)  # through Sentinel when REDIS_SENTINELS names it
    conn = open_redis(target, socket_timeout=5)
    try:
        conn.ping()
    except redis.RedisError as exc:
        where = redact_text(target.where)
        return [
            *lines,
            fail("redis", f"{where}: {redact_text(str(exc))}", "start it or fix REDIS_URL"),
        ]
    lines += check_redis(conn)
    try:
        catalog = load_catalog(settings.config_in_use)
    except Exception:  # said by the config line already
        return lines
    lines += check_alerts(catalog, conn, clock.now_ts())
    lines += check_calendars(catalog, settings, conn)
    return lines


def run_doctor(settings: Settings, manifest: Path, as_json: bool, out: TextIO) -> int:
    lines = diagnose(settings, manifest)
    failed = any(line.status == "FAIL" for line in lines)
    if as_json:
        print(
            json.dumps({"ok": not failed, "checks": [asdict(x) for x in lines]}, indent=2), file=out
        )
    else:
        for line in lines:
            print(f"{line.status:>4}  {line.name}: {line.detail}", file=out)
            if line.fix:
                print(f"      fix: {line.fix}", file=out)
    return 1 if failed else 0
