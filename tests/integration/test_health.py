"""`tocsin health`, the image's HEALTHCHECK: the worker role is judged by its heartbeat in Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.health import role_of
from tests.integration.support import Workers, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def health(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "health", *args],
        cwd=ROOT,
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_worker_health_follows_a_live_worker_on_this_host(
    worker_env: dict[str, str], workers: Workers
) -> None:
    """No worker: exit 1 naming what is missing; a running `tocsin worker`: exit 0."""
    before = health(worker_env, "--worker")
    assert before.returncode == 1, before.stdout + before.stderr
    assert "tocsin health: no worker on " in before.stderr
    assert "sent a heartbeat to queue" in before.stderr
    assert "Traceback" not in before.stderr
    workers.start(1)
    wait_for(lambda: health(worker_env, "--worker").returncode == 0, timeout=30)
    assert "last heartbeat" in health(worker_env, "--worker").stdout


def test_unreachable_redis_is_a_one_line_failure(worker_env: dict[str, str]) -> None:
    result = health(dict(worker_env, REDIS_URL="redis://:pw@127.0.0.1:1/0"), "--worker")
    assert result.returncode == 1
    assert "tocsin health: cannot reach Redis at redis://:***@127.0.0.1:1/0" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_role_is_that_of_the_main_process() -> None:
    assert role_of(b"/usr/local/bin/python\0/usr/local/bin/tocsin\0worker\0") == "worker"
    assert role_of(b"/usr/bin/docker-init\0--\0tocsin\0worker\0--name\0w1\0") == "worker"
    assert role_of(b"tocsin\0web\0--bind\0000.0.0.0:3000\0--workers\0002\0") == "web"


def test_the_image_health_check_runs_tocsin_health_for_either_role() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    (check,) = [line for line in lines if line.startswith("HEALTHCHECK")]
    assert check.endswith('CMD ["tocsin", "health"]')
    assert "3000/healthz" not in check
