"""The whole stack for end-to-end tests: emulator, `tocsin web` (gunicorn), `tocsin worker`s."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.sandbox.driver import Driver
from bot.sandbox.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-signing-secret"

SEVERITIES = """\
severities:
  sev1:
    label: Full outage
    update_every: 3s
    stakeholder_channel: C0STATUS
    criteria: {users_affected_pct: 25}
    rights:
      acknowledge: [responder]
      resolve: [role:commander]
      change_severity: [role:commander, usergroup:S0ENGMGRS]
      page: [responder]
  sev2:
    label: Significant degradation
    update_every: 20s
    stakeholder_channel: C0STATUS
    criteria: {users_affected_pct: 5}
    rights:
      acknowledge: [responder]
      resolve: [role:commander, usergroup:S0ENGMGRS]
      change_severity: [responder]
      page: [responder]
  sev3: {label: Minor, update_every: 1h}
"""
SCHEDULES = """\
schedules:
  checkout-primary:
    timezone: UTC
    rotations:
      - {members: [U0ALICE01], start: 2020-01-06T00:00, turn: 1w}
"""
POLICY = """\
name: checkout
services: [checkout, payments-api]
steps:
  - notify: [schedule:checkout-primary]
    wait: 3s
  - notify: [user:U0BOB0001]
    wait: 3s
  - notify: [usergroup:S0ENGMGRS]
    wait: 3s
repeat: 0
fallback_channel: C0INCIDENTS
"""
DEFAULT = """\
name: default
services: ["*"]
steps:
  - notify: [user:U0CAROL01]
    wait: 30s
repeat: 0
fallback_channel: C0INCIDENTS
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in {
        "severities.yaml": SEVERITIES,
        "schedules.yaml": SCHEDULES,
        "checkout.yaml": POLICY,
        "default.yaml": DEFAULT,
    }.items():
        (directory / name).write_text(text)
    return directory


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s; last value {value!r}")
        time.sleep(every)
        value = predicate()
    return value


@dataclass
class Stack:
    emulator: Emulator
    env: dict[str, str]
    log_dir: Path
    port: int = 0
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args], env=self.env, stdout=log, stderr=log, cwd=ROOT
        )
        self.procs.append(proc)
        return proc

    def start(self, workers: int = 1) -> None:
        self.port = free_port()
        self._spawn(
            "web", "web", "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "16"
        )
        for n in range(workers):
            self._spawn(f"worker-{n}", "worker", "--name", f"e2e-{n}-{time.time_ns()}")
        wait_for(self.healthy, timeout=30)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=2) as response:  # noqa: S310
                return bool(json.load(response)["ok"])
        except OSError:
            return False

    def driver(self) -> Driver:
        return Driver(
            self.url + "/slack/events",
            SECRET,
            mint_trigger_id=self.emulator.mint_trigger_id,
            workspace=self.emulator.payload_workspace,
            response_url_base=self.emulator.root_url + "sandbox/respond",
        )

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.log_dir.glob("*.log"))


def stack_env(redis_url: str, emulator: Emulator, config: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REDIS_URL=redis_url,
        SLACK_API_URL=emulator.url,
        SLACK_BOT_TOKEN="xoxb-sandbox",
        SLACK_SIGNING_SECRET=SECRET,
        TOCSIN_CONFIG_DIR=str(config),
        TOCSIN_RUNBOOKS_DIR=str(ROOT / "runbooks"),
        TOCSIN_CLAIM_LEASE_S="2",
        TOCSIN_RECONCILE_EVERY_S="1",
        TOCSIN_SCHEDULER_POLL_S="0.1",
        PYTHONUNBUFFERED="1",
    )
    return env
