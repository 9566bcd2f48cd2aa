"""The checks in the order they print, and the report: text lines or JSON, exit 0/1."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from bot import clock
from bot.cli.doctor.checkup import Checkup, Line
from bot.cli.doctor.pagers import (
    check_heartbeat_url,
    check_watchdog_channel,
    check_watchdog_webhooks,
)
from bot.cli.doctor.providers import check_outside_services, check_twilio
from bot.cli.doctor.redis_checks import check_redis, check_redis_config, check_replicas
from bot.cli.doctor.slack import check_scopes, check_signing_secret, check_slack_token
from bot.cli.doctor.sources import check_alerts, check_calendars, check_config
from bot.config.settings import Settings

Check = Callable[[Checkup], Iterable[Line]]

CHECKS: tuple[Check, ...] = (
    check_config,
    check_signing_secret,
    check_slack_token,
    check_scopes,
    check_watchdog_webhooks,
    check_watchdog_channel,
    check_heartbeat_url,
    check_twilio,
    check_outside_services,
    check_redis,
    check_redis_config,
    check_replicas,
    check_alerts,
    check_calendars,
)


def diagnose(settings: Settings, manifest: Path, checks: Iterable[Check] = CHECKS) -> list[Line]:
    checkup = Checkup(settings, manifest, clock.now_ts(), os.environ)
    return [line for check in checks for line in check(checkup)]


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
