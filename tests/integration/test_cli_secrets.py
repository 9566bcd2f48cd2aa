"""The real `tocsin` CLI never prints a credential from REDIS_URL, reachable or not."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.state.server import connect

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "sekret-4711"


def tocsin(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, REDIS_URL=redis_url)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def user_url(redis_url: str) -> Iterator[str]:
    """REDIS_URL of an ACL user with a password, on the test server (removed afterwards)."""
    admin = connect(redis_url)
    admin.acl_setuser(
        "tocsin-cli",
        enabled=True,
        passwords=[f"+{PASSWORD}"],
        keys=["*"],
        channels=["*"],
        commands=["+@all"],
    )
    parts = urlsplit(redis_url)
    try:
        yield f"redis://tocsin-cli:{PASSWORD}@{parts.hostname}:{parts.port}/0"
    finally:
        admin.acl_deluser("tocsin-cli")


class TestExport:
    @pytest.mark.parametrize("command", ["export", "report"])
    def test_unreachable_redis_is_named_without_its_password(
        self, command: str, tmp_path: Path
    ) -> None:
        """Redis not answering: one line naming the URL with *** for the password; no traceback."""
        args = ("20260309-1",) if command == "export" else ("--out", str(tmp_path / "r.html"))
        result = tocsin(f"redis://:{PASSWORD}@127.0.0.1:1/0", command, *args)
        out = result.stdout + result.stderr
        assert result.returncode == 1, out
        assert (
            f"tocsin {command}: cannot reach Redis at redis://:***@127.0.0.1:1/0" in result.stderr
        )
        assert "Traceback" not in out
        assert PASSWORD not in out

    def test_unknown_incident_names_the_server_without_its_password(self, user_url: str) -> None:
        """A reachable Redis without the incident: the error names it with *** for the password."""
        assert connect(user_url).ping()
        result = tocsin(user_url, "export", "20260309-1")
        out = result.stdout + result.stderr
        assert result.returncode == 1, out
        assert "no incident '20260309-1' in redis://tocsin-cli:***@" in result.stderr
        assert PASSWORD not in out
