"""The deployment files say what the code needs."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


class TestManifest:
    def test_manifest_declares_the_command_interactivity_and_scopes_the_bot_uses(self) -> None:
        """/incident with escaped mentions, interactivity, and every scope behind a Web API call we make."""
        manifest = yaml.safe_load((ROOT / "slack-app-manifest.yaml").read_text())
        commands = manifest["features"]["slash_commands"]
        assert [c["command"] for c in commands] == ["/incident"]
        assert commands[0]["should_escape"] is True
        assert manifest["settings"]["interactivity"]["is_enabled"] is True
        scopes = set(manifest["oauth_config"]["scopes"]["bot"])
        needed = {
            "commands",
            "chat:write",
            "channels:manage",
            "groups:write",
            "im:write",
            "pins:write",
            "bookmarks:write",
            "users:read.email",
            "usergroups:read",
            "channels:history",
        }
        assert needed <= scopes


class TestProcfile:
    def test_procfile_runs_web_and_worker(self) -> None:
        """The Procfile has exactly a web and a worker process, both through the tocsin CLI."""
        lines = dict(
            line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
        )
        assert set(lines) == {"web", "worker"}
        assert lines["web"].strip().startswith("tocsin web")
        assert lines["worker"].strip() == "tocsin worker"
