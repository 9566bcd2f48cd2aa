"""The deployment files say what the code needs."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SHARED = "sha" + "red"  # spelled apart, so this guard does not match itself
OUTSIDE = f"../{SHARED}"  # as a relative path in a string
OUTSIDE_JOIN = re.compile(rf'/ *"{SHARED}"|"{SHARED}" */')  # as one part of a pathlib join


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


class TestSelfContained:
    def test_nothing_in_the_project_reads_outside_its_clone(self) -> None:
        """No code, test, bench or build file reaches for the team's shared folder beside the
        repository, which a clone does not have."""
        readers = [
            str(path.relative_to(ROOT))
            for folder in ("bot", "tests", "bench", ".ci")
            for path in (ROOT / folder).rglob("*")
            if path.is_file()
            and path.suffix in {".py", ".toml", ".cfg", ""}
            and (OUTSIDE in (text := path.read_text(errors="replace")) or OUTSIDE_JOIN.search(text))
        ]
        readers += [
            name for name in ("Makefile", "pyproject.toml") if OUTSIDE in (ROOT / name).read_text()
        ]
        assert readers == []

    def test_the_reference_samples_travel_with_their_licence(self) -> None:
        """The Slack samples the contract tests read live in the project, with their MIT licence."""
        samples = ROOT / "tests" / "fixtures" / "slack-reference"
        assert "MIT License" in (samples / "LICENSE").read_text()
        assert len(list((samples / "api").glob("*.json"))) >= 30
