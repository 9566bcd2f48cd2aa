"""`tocsin health`: the container health check for both roles of the one image.

`tocsin web` is healthy when its /healthz answers. `tocsin worker` serves no HTTP: it is
healthy when a worker on this host (rq records each worker's hostname) has sent its heartbeat
within the last FRESH_S seconds. Without --web or --worker the role is read from the
container's main process (PID 1): a `tocsin worker` there means the worker check.
"""

from __future__ import annotations

import socket
import time
import urllib.request
from pathlib import Path
from typing import TextIO

import redis
from rq import Worker

from bot.config.settings import Settings, SettingsError
from bot.redaction import redact_text
from bot.runtime import redis_target
from bot.state.target import open_redis
from bot.state.timers import make_queue

MAIN_PROCESS = Path("/proc/1/cmdline")
FRESH_S = 60.0
HEALTHZ = "http://127.0.0.1:3000/healthz"


def role_of(cmdline: bytes) -> str:
    """The role `worker` when the NUL-separated command line runs `tocsin worker`, else `web`."""
    return "worker" if "worker" in cmdline.decode(errors="replace").split("\0") else "web"


def main_role() -> str:
    try:
        return role_of(MAIN_PROCESS.read_bytes())
    except OSError:  # not Linux, or no /proc: the image's default command is the web
        return "web"


def check_worker(settings: Settings, hostname: str, out: TextIO) -> int:
    target = redis_target(settings)
    conn = open_redis(target, decode_responses=False, socket_timeout=5)
    try:
        workers = Worker.all(queue=make_queue(conn, settings.queue))
    except redis.RedisError as exc:
        where = redact_text(target.where)
        raise SettingsError(f"cannot reach Redis at {where}: {redact_text(str(exc))}") from None
    now = time.time()
    ages = sorted(
        now - w.last_heartbeat.timestamp()
        for w in workers
        if w.hostname == hostname and w.last_heartbeat is not None
    )
    if ages and ages[0] < FRESH_S:
        print(f"worker on {hostname}: last heartbeat {ages[0]:.0f} s ago", file=out)
        return 0
    raise SettingsError(
        f"no worker on {hostname} has sent a heartbeat to queue {settings.queue!r} "
        f"in the last {FRESH_S:.0f} s"
    )


def check_web(url: str, out: TextIO) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - a fixed local URL
            status = answer.status
    except OSError as exc:
        raise SettingsError(f"{url} did not answer: {exc}") from None
    print(f"{url}: {status}", file=out)
    return 0


def run_health(role: str | None, out: TextIO) -> int:
    if (role or main_role()) == "worker":
        return check_worker(Settings.from_env(), socket.gethostname(), out)
    return check_web(HEALTHZ, out)
