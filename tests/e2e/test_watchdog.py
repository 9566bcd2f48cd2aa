"""The watchdog over the real stack: gunicorn with 2 web processes, no worker, a real receiver."""

from __future__ import annotations

import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.emulator import Emulator
from bot.sandbox.stack import free_port
from bot.watchdog.webhook import signature
from tests.e2e.support import ROOT, SECRET, Stack, stack_env, wait_for, write_config
from tests.receiver import Receiver

WEBHOOK_SECRET = "watchdog-secret-0123456789"


@pytest.fixture
def web_only(redis_url: str, tmp_path: Path, receiver: Receiver) -> Iterator[Stack]:
    emulator = Emulator(None).start()
    env = stack_env(
        redis_url, emulator, write_config(tmp_path / "config"), ROOT / "runbooks", SECRET
    )
    env.update(
        TOCSIN_WATCHDOG_AFTER_S="2",
        TOCSIN_WATCHDOG_URLS=receiver.url + "/page",
        TOCSIN_WATCHDOG_SECRET=WEBHOOK_SECRET,
    )
    stack = Stack(emulator, env, tmp_path, SECRET)
    stack.port = free_port()
    stack.env["TOCSIN_PUBLIC_URL"] = (
        stack.url
    )  # voice pages need it (the sandbox's Twilio is set up)
    stack._spawn("web", "web", "--bind", f"127.0.0.1:{stack.port}", "--workers", "2")
    try:
        yield stack
    finally:
        stack.stop()
        emulator.stop()


def readyz(stack: Stack) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(stack.url + "/readyz", timeout=2) as answer:  # noqa: S310
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def events(receiver: Receiver) -> list[str]:
    out = []
    for request in list(receiver.requests):
        stamp = request.headers["X-Tocsin-Timestamp"]
        expected = signature(WEBHOOK_SECRET, stamp, request.body)
        assert hmac.compare_digest(request.headers["X-Tocsin-Signature"], expected)
        out.append(json.loads(request.body)["event"])
    return out


def test_one_web_process_pages_once_per_outage_and_once_on_recovery(
    web_only: Stack, receiver: Receiver
) -> None:
    """No worker: after 2 s one signed "down" arrives (not one per web process) and /readyz
    says why; a worker starts: one "recovered", and /readyz is ready again."""
    wait_for(lambda: events(receiver), timeout=30)
    status, answer = readyz(web_only)
    assert status == 503
    assert "no worker has held the scheduler lease" in answer["watchdog"]
    assert "no worker heartbeat" in answer["watchdog"]

    web_only._spawn("worker-0", "worker", "--name", "watchdog-worker")
    wait_for(lambda: "tocsin.recovered" in events(receiver), timeout=30)
    wait_for(lambda: readyz(web_only)[0] == 200, timeout=30)
    assert "watchdog" not in readyz(web_only)[1]
    assert events(receiver) == ["tocsin.down", "tocsin.recovered"]
    assert {r.path for r in receiver.requests} == {"/page"}
