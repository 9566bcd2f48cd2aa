"""Reliability fixtures: the integration workers (recording pager) and whole stacks
(emulator + `tocsin web` + workers) built per test with the faults or limits it needs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.emulator import Emulator
from bot.sandbox.ports import free_port
from tests.e2e.support import ROOT, SECRET, Stack, stack_env, write_config
from tests.integration.conftest import config_dir, emulator, runtime, worker_env, workers
from tests.reliability.method_support import SmtpServer, smtp

__all__ = [
    "config_dir",
    "emulator",
    "runtime",
    "worker_env",
    "workers",
]  # fixtures shared with integration

APP_TOKEN = "xapp-reliability-app-token"

MakeStack = Callable[..., Stack]


@pytest.fixture
def make_stack(redis_url: str, tmp_path: Path) -> Iterator[MakeStack]:
    """Start emulator + web + workers; `make_stack(workers=2, emulator=..., env=..., config=...)`."""
    started: list[tuple[Stack, Emulator]] = []

    def start(
        *,
        workers: int = 2,
        emulator: Emulator | None = None,
        env: dict[str, str] | None = None,
        config: Callable[[Path], Any] | None = None,
    ) -> Stack:
        emu = (emulator or Emulator()).start()
        config_path = write_config(tmp_path / "config")
        if config is not None:
            config(config_path)
        full_env = stack_env(redis_url, emu, config_path, ROOT / "runbooks", SECRET)
        full_env.update(SLACK_APP_TOKEN=APP_TOKEN, **(env or {}))
        logs = tmp_path / f"logs-{len(started)}"
        logs.mkdir()
        stack = Stack(emu, full_env, logs, SECRET)
        started.append((stack, emu))
        stack.start(workers=workers, timeout=60)
        return stack

    yield start
    for stack, emu in started:
        stack.stop()
        emu.stop()


@pytest.fixture
def mail() -> Iterator[SmtpServer]:
    """A real SMTP server on a free port, up (a test may take it down and up again)."""
    yield from smtp(free_port())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """On failure, attach the tail of the web and worker logs to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and hasattr(item, "funcargs") and "tmp_path" in item.funcargs:
        tails = []
        for log in sorted(Path(item.funcargs["tmp_path"]).rglob("*.log")):
            tails.append(f"--- {log.name}\n" + log.read_text(errors="replace")[-2500:])
        if tails:
            report.sections.append(("tocsin logs", "\n".join(tails)))
