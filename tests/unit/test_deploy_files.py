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


# Keys of the WSGI request environ (bot/web.py, bot/alerts/verify.py), not environment
# variables; "HTTP_" is the prefix a request header's key is built from.
WSGI = frozenset(  # a request's headers and parts in the WSGI environ, not the process's
    {
        "CONTENT_LENGTH",
        "HTTP_",
        "HTTP_AUTHORIZATION",
        "HTTP_X_TWILIO_SIGNATURE",
        "HTTP_X_PAGERDUTY_SIGNATURE",
        "PATH_INFO",
        "QUERY_STRING",
        "REQUEST_METHOD",
    }
)


class TestReadme:
    def variables_read(self) -> set[str]:
        """Every environment variable the code names: TOCSIN_*, SLACK_*, REDIS_* literals,
        and whatever is read with os.environ / os.getenv / env.get by name."""
        named = re.compile(r"[\"']((?:TOCSIN|SLACK|REDIS)_[A-Z0-9_]+)[\"']")
        read = re.compile(r"(?:environ|getenv|env)(?:\.get)?[\[(]\s*[\"']([A-Z][A-Z0-9_]+)[\"']")
        found: set[str] = set()
        for path in (ROOT / "bot").rglob("*.py"):
            text = path.read_text()
            found |= set(named.findall(text)) | set(read.findall(text))
        return found - WSGI

    def test_every_environment_variable_the_code_reads_is_documented_with_a_default(
        self,
    ) -> None:
        """The README's Environment table has a row, with a default, for each variable."""
        readme = (ROOT / "README.md").read_text()
        section = readme.split("## Environment", 1)[1].split("\n## ", 1)[0]
        rows = re.findall(r"^\| `([A-Z0-9_]+\*?)` \|[^|\n]+\| ([^|\n]+) \|$", section, re.M)
        documented = {name: default.strip() for name, default in rows}

        def row(name: str) -> str | None:
            """The row documenting `name`: its own, or a `PREFIX_*` row (names config picks)."""
            if name in documented:
                return name
            wild = [w for w in documented if w.endswith("*") and name.startswith(w[:-1])]
            return wild[0] if wild else None

        read = self.variables_read()
        assert {"TOCSIN_QUEUE", "TOCSIN_SCHEDULER_POLL_S", "REDIS_URL"} <= read  # the scan works
        assert sorted(name for name in read if row(name) is None) == []
        assert all(documented[str(row(name))] for name in read)
