"""End-to-end fixtures: driver -> bot (HTTP, signed) -> RQ workers -> the Slack emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.emulator import Emulator
from tests.e2e.support import ROOT, SECRET, Stack, stack_env, write_config


@pytest.fixture
def stack_settings() -> dict[str, str]:
    """Extra environment for the stack; a test module overrides this fixture to set some."""
    return {}


@pytest.fixture
def stack(redis_url: str, tmp_path: Path, stack_settings: dict[str, str]) -> Iterator[Stack]:
    emulator = Emulator().start()
    config = write_config(tmp_path / "config")
    env = stack_env(redis_url, emulator, config, ROOT / "runbooks", SECRET)
    env.update(stack_settings)
    running = Stack(emulator, env, tmp_path, SECRET)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        emulator.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """On failure, attach the web and worker logs to the report."""
    outcome = yield
    report = outcome.get_result()
    stack = item.funcargs.get("stack") if hasattr(item, "funcargs") else None
    if report.failed and stack is not None:
        report.sections.append(("tocsin logs", stack.logs()))
