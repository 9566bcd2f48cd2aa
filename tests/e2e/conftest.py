"""End-to-end fixtures: driver -> bot (HTTP, signed) -> RQ workers -> the Slack emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.emulator import Emulator
from tests.e2e.support import Stack, stack_env, write_config


@pytest.fixture
def stack(redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    emulator = Emulator().start()
    config = write_config(tmp_path / "config")
    running = Stack(emulator, stack_env(redis_url, emulator, config), tmp_path)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        emulator.stop()
