"""Helpers for integration tests: config with second-long waits, worker processes, polling."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import redis

from bot.paging.recording import recorded
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from bot.sandbox.stack import wait_for
from bot.watchdog.announce import TAGGED_AS

__all__ = [
    "CRASHY",
    "ROOT",
    "WORKSPACE",
    "Workers",
    "all_at_once",
    "crashy_deliveries",
    "crashy_pages",
    "wait_for",
    "walked_past",
    "write_config",
]

A = TypeVar("A")
T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
WORKSPACE = ROOT / "bot" / "sandbox" / "workspace.yaml"

SEVERITIES = """\
severities:
  sev1: {label: Full outage, update_every: 15m, criteria: {users_affected_pct: 25}}
  sev2: {label: Significant degradation, update_every: 30m, criteria: {users_affected_pct: 5}}
  sev3: {label: Minor, update_every: 60m}
"""

SCHEDULES = """\
schedules:
  primary:
    timezone: UTC
    rotations:
      - {members: [U0CAROL01], start: 2020-01-06T00:00, turn: 1w}
"""

FAST = """\
name: fast
services: [checkout]
steps:
  - notify: [user:U0ALICE01]
    wait: 2s
  - notify: [user:U0BOB0001, schedule:primary]
    wait: 2s
  - notify: [usergroup:S0ENGMGRS, user:U0LEAD1]
    wait: 2s
repeat: 0
fallback_channel: C0INCIDENTS
"""

MAJOR = """\
name: major
services: [checkout]
severities: [sev1]
steps:
  - notify: [user:U0DAVE001]
    wait: 2s
repeat: 0
fallback_channel: C0INCIDENTS
"""


# The crash tests' policy: two steps of two people, walked twice, 1 s apart.
CRASHY = """\
name: crashy
services: [checkout]
steps:
  - notify: [user:U0ALICE01, user:U0BOB0001]
    wait: 1s
  - notify: [user:U0CAROL01, user:U0DAVE001]
    wait: 1s
repeat: 1
fallback_channel: C0INCIDENTS
"""
CRASHY_PEOPLE = {0: ("U0ALICE01", "U0BOB0001"), 1: ("U0CAROL01", "U0DAVE001")}


def crashy_pages(incident_id: str) -> set[str]:
    """The recording pager's keys of every page a CRASHY incident owes."""
    return {
        f"{incident_id}:page:{step}:{loop}:{user}"
        for step, users in CRASHY_PEOPLE.items()
        for loop in (0, 1)
        for user in users
    }


def crashy_deliveries(incident_id: str) -> set[str]:
    """Every page, and the exhaustion announcement in the channel and the fallback channel."""
    token = 1 + 4  # declared with 1, then four steps each bump it; exhaustion bumps once more
    announce = f"{incident_id}:announce:exhausted:{token + 1}:"
    return crashy_pages(incident_id) | {announce + "@incident", announce + "C0INCIDENTS"}


def all_at_once(fn: Callable[[A], T], args: Sequence[A]) -> list[T]:
    """`fn` over `args`, one thread each, all released together by a barrier.

    A pool hands out work as it starts threads, so the first calls often finish before the
    last begin; behind a barrier every call is in flight at the same moment, which is what a
    test of simultaneous writers needs to overlap them every run.
    """
    barrier = threading.Barrier(len(args))

    def released(arg: A) -> T:
        barrier.wait(timeout=30)
        return fn(arg)

    with ThreadPoolExecutor(len(args)) as pool:
        return list(pool.map(released, args))


def walked_past(runtime: Runtime, r: redis.Redis) -> None:
    """Declare a FAST incident now and wait for its third step's page: the positive event
    before a "nothing more was paged" check. Every step of an incident declared earlier fell
    due before that page, and the workers take due steps in order of their due time."""
    canary = runtime.engine.declare(
        title="Canary", service="checkout", severity="sev2", declared_by="U0ERIN001"
    )
    wait_for(
        lambda: any(
            p["incident"] == canary.id and p["kind"] == "page" and p["step"] == 2
            for p in recorded(r)
        ),
        timeout=30,
    )


def write_config(directory: Path, **policies: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "severities.yaml").write_text(SEVERITIES)
    (directory / "schedules.yaml").write_text(SCHEDULES)
    for name, text in (policies or {"fast": FAST, "major": MAJOR}).items():
        (directory / f"{name}.yaml").write_text(text)
    return directory


@dataclass
class Workers:
    env: dict[str, str]
    log_dir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, count: int = 1) -> None:
        for _ in range(count):
            n = len(self.procs)
            log = open(self.log_dir / f"worker-{n}.log", "ab")  # noqa: SIM115 - closed by Popen's owner at exit
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot.cli", "worker", "--name", f"w{n}-{time.time_ns()}"],
                    env=self.env,
                    stdout=log,
                    stderr=log,
                    cwd=ROOT,
                )
            )

    def kill(self, index: int) -> None:
        """SIGKILL one worker, as the OOM killer or a lost host would."""
        self.procs[index].send_signal(signal.SIGKILL)
        self.procs[index].wait(5)

    def restart(self, index: int) -> None:
        self.kill(index)
        log = open(self.log_dir / f"worker-{index}.log", "ab")  # noqa: SIM115
        self.procs[index] = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "worker", "--name", f"w{index}-{time.time_ns()}"],
            env=self.env,
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def watchdog_posts(emulator: Emulator, channel: str) -> list[str]:
    """The watchdog's announcement keys posted in `channel`, in order (by their metadata)."""
    keys = []
    for message in emulator.transcript(channel):
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if payload.get("incident_id") == TAGGED_AS:
            keys.append(str(payload["key"]))
    return keys
