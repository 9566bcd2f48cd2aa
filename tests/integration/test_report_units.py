"""`tocsin report` over a real Redis: the MTTR/MTTA axes are in a unit the data fills."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from bot.runtime import Runtime

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def chart(html: str, test_id: str) -> str:
    match = re.search(rf'<svg [^>]*data-testid="{test_id}".*?</svg>', html, re.S)
    assert match, test_id
    return match.group(0)


def axis(svg: str) -> list[str]:
    """The y-axis tick labels, bottom to top."""
    return re.findall(r'<text x="\d+" y="[\d.]+" text-anchor="end">([^<]*)</text>', svg)


def test_a_three_minute_incident_is_charted_in_minutes(
    runtime: Runtime, worker_env: dict[str, str], tmp_path: Path
) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    with freeze_time(t0):
        inc = runtime.engine.declare(
            title="Checkout errors", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
    with freeze_time(t0 + timedelta(seconds=30)):
        assert runtime.engine.acknowledge(inc.id, "U0ERIN001").ok
    with freeze_time(t0 + timedelta(minutes=3)):
        assert runtime.engine.resolve(inc.id, "U0ERIN001").ok
    out = tmp_path / "report.html"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", "--since", "7d", "--out", str(out)],
        cwd=ROOT,
        env=dict(os.environ, **worker_env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    # People by name, as in the review (the directory file names U0ERIN001 erin).
    assert "@erin" in chart(html, "chart-load")
    assert "U0ERIN001" not in html
    assert "most paged: @" in result.stdout
    assert "U0" not in result.stdout
    mttr = chart(html, "chart-mttr")
    assert axis(mttr) == ["0", "1", "2", "3", "4"]
    assert ">minutes</text>" in mttr
    mtta = chart(html, "chart-mtta")
    assert axis(mtta) == ["0", "10", "20", "30", "40"]
    assert ">seconds</text>" in mtta
