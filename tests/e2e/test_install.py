"""`make install` (an editable install of the project) builds without setuptools warnings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.support import ROOT


def test_editable_install_prints_no_build_warnings(tmp_path: Path) -> None:
    """The Makefile's `pip install --quiet -e .`, into a fresh venv, says nothing but pip's own notes."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    upgrade = [*pip, "--upgrade", "pip"]  # as the Makefile does: a newer pip shows build warnings
    subprocess.run(upgrade, env=env, capture_output=True, check=True, timeout=300)
    result = subprocess.run(
        [*pip, "--no-deps", "-e", "."],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    build_output = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not line.startswith("WARNING: Location")  # this host's pip index
    ]
    assert build_output == [], "\n".join(build_output)
