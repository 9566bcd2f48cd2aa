"""`tocsin demo`: the scripted incident plays to the end, and leaves the page as a person expects."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

from bot.cli.demo import SECRET, script
from bot.sandbox.emulator import Emulator
from bot.sandbox.page import page_state
from bot.sandbox.stack import LocalStack, stack_env
from tests.e2e.support import ROOT


def test_demo_plays_the_whole_script() -> None:
    """Declare, page tier 1, escalate to tier 2, ack from DM, two updates with a reminder, mitigate, resolve, a handoff."""
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--no-serve"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    for expected in (
        "DM @alice",
        "DM @bob",
        "Acknowledged by @bob",
        "*Update 1* · identified",
        "a status update was due",
        "*Update 2* · monitoring",
        "Mitigated by @alice",
        "Resolved by @erin",
        "time to acknowledge",
        "Alerts from *prometheus*: 1 firing",
        "Resolved by alerts from prometheus",
        "Handoff on payments-primary",
        "provider still flaky",
    ):
        assert expected in out, expected
    assert out.index("DM @alice") < out.index("DM @bob") < out.index("Acknowledged by @bob")


def test_after_the_demo_nobody_has_a_modal_open(redis_url: str, tmp_path: Path) -> None:
    """The demo's modals were submitted as Slack submits them, so the page shows none to anyone."""
    config = Path(str(resources.files("bot.sandbox").joinpath("demo_config")))
    emulator = Emulator().start()
    env = stack_env(redis_url, emulator, config, ROOT / "runbooks", SECRET)
    stack = LocalStack(emulator, env, tmp_path, SECRET)
    try:
        stack.start()
        channel = script(stack)
        opened = [c for c in emulator.calls("views.open") if c["ok"]]
        assert len(opened) >= 3, "the demo opened the update and resolve modals"
        assert [v["callback_id"] for v in emulator.views() if v["type"] == "modal"] == []
        for user in emulator.workspace()["users"]:
            assert page_state(emulator, user["id"], channel)["modal"] is None, user["name"]
    finally:
        stack.stop()
        emulator.stop()
