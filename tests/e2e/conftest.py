"""End-to-end fixtures: driver -> bot (HTTP, signed) -> RQ workers -> the Slack emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.emulator import Emulator
from bot.sandbox.workspace import WorkspaceSpec
from tests.e2e.support import ROOT, SECRET, Stack, stack_env, write_config


@pytest.fixture
def stack_settings() -> dict[str, str]:
    """Extra environment for the stack; a test module overrides this fixture to set some."""
    return {}


@pytest.fixture
def stack_workspace() -> WorkspaceSpec | None:
    """The emulated workspace (None: the bundled one); a test module overrides it to add people."""
    return None


@pytest.fixture
def stack_policies() -> dict[str, str]:
    """Config files written over the standard ones (file name -> YAML); a module overrides it."""
    return {}


@pytest.fixture
def stack_runbooks() -> Path:
    """The runbooks directory the stack reads; a test module overrides it to add some."""
    return ROOT / "runbooks"


@pytest.fixture
def stack_workers() -> int:
    """How many `tocsin worker` processes the stack runs; a test module overrides it."""
    return 1


@pytest.fixture
def stack(
    redis_url: str,
    tmp_path: Path,
    stack_settings: dict[str, str],
    stack_workspace: WorkspaceSpec | None,
    stack_policies: dict[str, str],
    stack_runbooks: Path,
    stack_workers: int,
) -> Iterator[Stack]:
    emulator = Emulator(stack_workspace).start()
    config = write_config(tmp_path / "config")
    for name, text in stack_policies.items():
        (config / name).write_text(text)
    env = stack_env(redis_url, emulator, config, stack_runbooks, SECRET)
    env.update(stack_settings)
    running = Stack(emulator, env, tmp_path, SECRET)
    try:
        running.start(workers=stack_workers)
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
