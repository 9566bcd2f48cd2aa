"""`tocsin demo --no-serve` plays the scripted incident to the end and exits 0."""

from __future__ import annotations

import subprocess
import sys

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
        "Handoff on payments-primary",
        "provider still flaky",
    ):
        assert expected in out, expected
    assert out.index("DM @alice") < out.index("DM @bob") < out.index("Acknowledged by @bob")
