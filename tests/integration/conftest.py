"""Integration fixtures: a config directory with second-long waits and real worker processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from tests.integration.support import WORKSPACE, Workers, write_config


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return write_config(tmp_path / "config")


@pytest.fixture
def worker_env(redis_url: str, config_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REDIS_URL=redis_url,
        TOCSIN_CONFIG_DIR=str(config_dir),
        TOCSIN_PAGER="recording",
        TOCSIN_DIRECTORY_FILE=str(WORKSPACE),
        TOCSIN_CLAIM_LEASE_S="1",
        TOCSIN_RECONCILE_EVERY_S="0.5",
        TOCSIN_SCHEDULER_POLL_S="0.1",
        TOCSIN_SCHEDULER_LEASE_S="1.5",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def runtime(worker_env: dict[str, str]) -> Runtime:
    """The web side's view: the same settings the workers run with, in this process."""
    return Runtime.build(Settings.from_env(worker_env), owner="test")


@pytest.fixture
def workers(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(worker_env, tmp_path)
    yield pool
    pool.stop()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """The Slack emulator over HTTP, its default workspace."""
    running = Emulator().start()
    yield running
    running.stop()
