"""Run Tocsin for real against the sandbox: `tocsin web` (gunicorn) and `tocsin worker`s.

Used by `tocsin demo` and the end-to-end tests. Every piece is a separate process, as in
production; only Slack is the local emulator.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bot.sandbox.driver import Driver
from bot.sandbox.emulator import Emulator
from bot.sandbox.ports import free_port


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, every: float = 0.05) -> Any:
    """Poll until `predicate()` is truthy; AssertionError with its last value otherwise."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s; last value {value!r}")
        time.sleep(every)
        value = predicate()
    return value


def stack_env(
    redis_url: str, emulator: Emulator, config: Path, runbooks: Path, secret: str
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REDIS_URL=redis_url,
        SLACK_API_URL=emulator.url,
        SLACK_BOT_TOKEN=emulator.bot_token,
        SLACK_SIGNING_SECRET=secret,
        TOCSIN_CONFIG_DIR=str(config),
        TOCSIN_RUNBOOKS_DIR=str(runbooks),
        TOCSIN_PAGER="slack",
        TOCSIN_CLAIM_LEASE_S="2",
        TOCSIN_RECONCILE_EVERY_S="1",
        TOCSIN_SCHEDULER_POLL_S="0.1",
        PYTHONUNBUFFERED="1",
        # runbooks/checkout-errors.md's containment action lands on the sandbox's receiver
        TOCSIN_SANDBOX_ROLLBACK_URL=emulator.automation_url("rollback"),
        TOCSIN_SANDBOX_ROLLBACK_SECRET=emulator.automation.secret,
        # email pages' acknowledge links (the web process checks them; the public URL is
        # the web process's own, set by LocalStack.start once its port is known)
        TOCSIN_ACK_LINK_SECRET=secrets.token_hex(32),
        TOCSIN_SMTP_URL=emulator.mailbox.url,  # email pages land in the sandbox's mailboxes
        TOCSIN_SMTP_FROM="tocsin@sandbox.example",
        # SMS and voice pages go to the sandbox's Twilio, whose phones reply to /notify/twilio
        **emulator.twilio.env(emulator.root_url),
        # events to a services.yaml PagerDuty service land in the sandbox's PagerDuty
        TOCSIN_PAGERDUTY_EVENTS_URL=emulator.pagerduty_url,
    )
    return env


@dataclass
class LocalStack:
    emulator: Emulator
    env: dict[str, str]
    log_dir: Path
    secret: str
    port: int = 0
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        proc = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "bot.cli", *args],
            env=self.env,
            stdout=log,
            stderr=log,
        )
        self.procs.append(proc)
        return proc

    def start(self, workers: int = 1, timeout: float = 30) -> LocalStack:
        self.port = free_port()
        bind = f"127.0.0.1:{self.port}"
        # where email pages' acknowledge links point, and what Twilio's webhooks are signed for
        self.env.setdefault("TOCSIN_PUBLIC_URL", self.url)
        self.emulator.twilio.sms_url = self.url + "/notify/twilio/sms"
        self._spawn("web", "web", "--bind", bind, "--workers", "1", "--threads", "16")
        for n in range(workers):
            self._spawn(f"worker-{n}", "worker", "--name", f"sandbox-{n}-{time.time_ns()}")
        wait_for(self.ready, timeout=timeout, every=0.1)
        self.emulator.app_url = self.url + "/slack/events"
        self.emulator.signing_secret = self.secret
        return self

    def ready(self) -> bool:
        for proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a tocsin process exited early:\n{self.logs()}")
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=2) as response:  # noqa: S310
                return bool(json.load(response)["ok"])
        except OSError:
            return False

    def driver(self) -> Driver:
        return Driver(
            self.url + "/slack/events",
            self.secret,
            mint_trigger_id=self.emulator.mint_trigger_id,
            workspace=self.emulator.payload_workspace,
            response_url_base=self.emulator.root_url + "sandbox/respond",
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
        for log in self._logs:
            log.close()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.log_dir.glob("*.log"))
