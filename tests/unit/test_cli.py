"""The `tocsin` command line: check, schema and simulate, run as a person would."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from bot.cli import _parser

ROOT = Path(__file__).resolve().parents[2]


def tocsin(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


class TestCheck:
    def test_example_config_is_valid(self) -> None:
        """`tocsin check` on the shipped examples exits 0 with a summary."""
        result = tocsin("check")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "OK" in result.stdout

    def test_broken_config_prints_path_line_and_no_traceback(self, tmp_path: Path) -> None:
        """A wrong duration is reported at its file and line; the exit code is 1."""
        for name in ("severities.yaml", "schedules.yaml"):
            (tmp_path / name).write_text((ROOT / "escalation_policies" / name).read_text())
        (tmp_path / "payments.yaml").write_text(
            "name: payments\nservices: [checkout]\nsteps:\n"
            "  - notify: [user:U0ALICE01]\n    wait: 5m\n"
            "  - notify: [schedule:payments-secondary]\n    wait: 5 minutes\n"
        )
        result = tocsin("check", str(tmp_path))
        assert result.returncode == 1
        assert "Traceback" not in result.stdout + result.stderr
        assert (
            f"{tmp_path}/payments.yaml:7: steps[1].wait: '5 minutes' is not a duration "
            "like 90s, 5m, 1h30m"
        ) in result.stdout

    def test_a_right_that_walks_around_another_is_a_warning_at_its_line(
        self, tmp_path: Path
    ) -> None:
        """An open change_severity on sev2 and sev3 gets round sev2's resolve: `tocsin check`
        warns at path:line and still exits 0; the shipped severities warn nothing."""
        for name in ("schedules.yaml", "payments.yaml", "platform.yaml"):
            (tmp_path / name).write_text((ROOT / "escalation_policies" / name).read_text())
        (tmp_path / "severities.yaml").write_text(
            "severities:\n"
            "  sev1: {label: Outage, update_every: 15m}\n"
            "  sev2:\n"
            "    label: Degradation\n"
            "    update_every: 30m\n"
            "    rights:\n"
            "      resolve: [role:commander]\n"
            "      change_severity: [anyone]\n"
            "  sev3:\n"
            "    label: Minor\n"
            "    update_every: 1h\n"
            "    rights: {resolve: [anyone], change_severity: [anyone]}\n"
        )
        result = tocsin("check", str(tmp_path))
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        assert next(line for line in lines if "/severities.yaml:" in line) == (
            f"{tmp_path}/severities.yaml:8: warning: severities.sev2.rights.change_severity: "
            "anyone may change the severity to sev3, where change_severity is open too, and "
            "there do what anyone may: this gets round sev2's rights.resolve"
        )
        assert len([line for line in lines if "gets round" in line]) == 1
        assert "OK" in lines[-1]
        assert "gets round" not in tocsin("check").stdout

    def test_ids_of_the_sandbox_are_a_warning_at_their_line(self, tmp_path: Path) -> None:
        """A config still naming the sandbox's example people, groups and channels (or an id
        the emulator made up) warns at path:line, and still exits 0."""
        for name in ("severities.yaml", "schedules.yaml", "platform.yaml"):
            (tmp_path / name).write_text((ROOT / "escalation_policies" / name).read_text())
        (tmp_path / "payments.yaml").write_text(
            "name: payments\nservices: [checkout]\nsteps:\n"
            "  - notify: [user:UREAL00001]  # was U0ALICE01\n    wait: 5m\n"
            "  - notify: [user:U0ALICE01, usergroup:S0PAYMENTS]\n    wait: 5m\n"
            "fallback_channel: C0SB0000007\n"
        )
        result = tocsin("check", str(tmp_path))
        assert result.returncode == 0, result.stdout + result.stderr
        mine = [line for line in result.stdout.splitlines() if "/payments.yaml:" in line]
        assert mine == [
            f"{tmp_path}/payments.yaml:6: warning: U0ALICE01 (the sandbox's user alice), "
            "S0PAYMENTS (the sandbox's usergroup payments-oncall): an id of the Tocsin sandbox, "
            "not of your workspace (profile → ⋯ → Copy member ID; the S… id of a usergroup of "
            "yours)",
            f"{tmp_path}/payments.yaml:8: warning: C0SB0000007: an id of the Tocsin sandbox, "
            "not of your workspace",
        ]
        assert f"{tmp_path}/schedules.yaml:6: warning: U0ALICE01" in result.stdout

    def test_missing_directory_is_a_clear_error(self, tmp_path: Path) -> None:
        """A directory that does not exist is named; no traceback."""
        result = tocsin("check", str(tmp_path / "nope"))
        assert result.returncode == 1
        assert "nope" in result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr


class TestHelp:
    def test_every_subcommand_describes_itself_and_every_argument_and_default(self) -> None:
        """`tocsin X --help` says what X does, what each argument is, and each default."""
        parser = _parser()
        (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        assert set(commands.choices) >= {"check", "simulate", "worker", "web", "report", "export"}
        for name, sub in commands.choices.items():
            assert sub.description, name
            text = " ".join(sub.format_help().split())
            for action in sub._actions:
                if action.help == argparse.SUPPRESS:
                    continue  # deliberately hidden (a refused --signing-secret)
                assert action.help, f"tocsin {name} {action.dest}: no description"
                if action.default not in (None, False, [], argparse.SUPPRESS):
                    assert f"(default: {action.default})" in text, f"tocsin {name} {action.dest}"


class TestSchema:
    def test_schema_is_json_describing_the_six_file_kinds(self) -> None:
        """`tocsin schema` prints a JSON Schema with one branch per file kind."""
        result = tocsin("schema")
        assert result.returncode == 0
        schema = json.loads(result.stdout)
        # policy, schedules, severities, alert sources, drills, outside services, people
        assert len(schema["anyOf"]) == 7


class TestSimulate:
    def test_json_interface_lists_pages_notes_and_outcome(self) -> None:
        """The stable JSON form: pages with at/offset_s/step/loop/target/via, then the outcome."""
        result = tocsin(
            "simulate",
            "payments",
            "--config-dir",
            "escalation_policies",
            "--start",
            "2026-03-02T15:00:00Z",
            "--event",
            "10m:ack",
            "--json",
        )
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        assert set(out) == {"pages", "notes", "outcome"}
        assert out["outcome"] == "acknowledged"
        first = out["pages"][0]
        keys = {"at", "offset_s", "step", "loop", "target", "via", "service", "methods"}
        assert set(first) == keys
        assert first["at"] == "2026-03-02T15:00:00Z"
        assert (first["offset_s"], first["step"], first["loop"]) == (0, 1, 0)
        assert first["via"] == "schedule:payments-primary"
        assert next(p["offset_s"] for p in out["pages"] if p["step"] == 2) == 300
        assert all(p["offset_s"] < 600 for p in out["pages"])

    def test_manual_escalate_and_resolve_events(self) -> None:
        """An escalate event pages step 2 at its offset; resolve ends with outcome resolved."""
        result = tocsin(
            "simulate",
            "payments",
            "--start",
            "2026-03-02T15:00:00Z",
            "--event",
            "1m:escalate",
            "--event",
            "2m:resolve",
            "--json",
        )
        out = json.loads(result.stdout)
        assert {p["offset_s"] for p in out["pages"] if p["step"] == 2} == {60}
        assert out["outcome"] == "resolved"

    def test_bad_event_is_a_usage_error_not_a_traceback(self) -> None:
        """An unknown event action is named with the expected form."""
        result = tocsin(
            "simulate", "payments", "--start", "2026-03-02T15:00:00Z", "--event", "5m:panic"
        )
        assert result.returncode == 1
        assert "expected OFFSET:ACTION like 10m:ack" in result.stderr
        assert "Traceback" not in result.stderr


class TestCounts:
    def test_one_step_and_one_loop_are_singular(self, tmp_path: Path) -> None:
        """A one-step policy without repeats: "1 step" in the header and the exhaustion note."""
        for name in ("severities.yaml", "schedules.yaml"):
            (tmp_path / name).write_text((ROOT / "escalation_policies" / name).read_text())
        (tmp_path / "solo.yaml").write_text(
            'name: solo\nservices: ["*"]\nsteps:\n  - notify: [user:U0ALICE01]\n    wait: 5m\n'
        )
        result = tocsin(
            "simulate", "solo", "--config-dir", str(tmp_path), "--start", "2026-03-02T15:00:00Z"
        )
        assert result.returncode == 0, result.stderr
        assert "policy solo: 1 step, repeat 0" in result.stdout
        assert "policy solo exhausted after 1 step, 1 round, with no acknowledgement" in (
            result.stdout
        )
        checked = tocsin("check", str(tmp_path))
        assert checked.returncode == 0, checked.stdout
        assert "1 policy, 3 schedules, 3 severities" in checked.stdout


class TestSimulateShowsHowEachIsReached:
    def test_a_person_s_methods_with_their_delays_and_a_service_step(self, tmp_path: Path) -> None:
        """alice's page lists slack and apprise at once, sms at +2m, voice at +5m (from
        people.yaml); an ack at 3m stops the voice call; step 2 notifies the ops PagerDuty
        service, a service, not a person; a step of services alone is not skipped."""
        for name in ("severities.yaml", "schedules.yaml", "people.yaml", "services.yaml"):
            (tmp_path / name).write_text((ROOT / "escalation_policies" / name).read_text())
        (tmp_path / "duo.yaml").write_text(
            'name: duo\nservices: ["*"]\nsteps:\n  - notify: [user:U0ALICE01]\n    wait: 1m\n'
            "  - notify: [pagerduty:ops]\n    wait: 5m\n"
        )
        args = ("simulate", "duo", "--config-dir", str(tmp_path), "--start", "2026-03-02T15:00Z")
        out = json.loads(tocsin(*args, "--event", "3m:ack", "--json").stdout)
        alice, ops = out["pages"]
        assert [(m["method"], m["offset_s"], m["sent"]) for m in alice["methods"]] == [
            ("slack", 0, True),
            ("apprise", 0, True),
            ("sms", 120, True),
            ("voice", 300, False),
        ]
        assert (ops["target"], ops["service"], ops["offset_s"]) == ("pagerduty:ops", True, 60)
        assert ops["methods"] == [{"method": "pagerduty", "offset_s": 60, "sent": True}]
        assert not any("nobody" in n for n in out["notes"])
        text = tocsin(*args, "--event", "3m:ack")
        assert text.returncode == 0, text.stderr
        assert "by slack at +0s, apprise at +0s, sms at +2m, voice at +5m (not sent: " in (
            text.stdout
        )
        assert "notify the ops PagerDuty service step 2  via the ops PagerDuty service" in (
            text.stdout
        )


class TestSimulateReadsAsSlackDoes:
    def test_a_target_resolving_to_nobody_gets_a_note_and_loops_count_from_one(
        self, tmp_path: Path
    ) -> None:
        """An unknown email beside a valid user: the user is paged (named) and the email noted,
        each round; text lines and notes say step 1, then step 1, round 2; the JSON keeps 0-based
        loops."""
        for name in ("severities.yaml", "schedules.yaml"):
            (tmp_path / name).write_text((ROOT / "escalation_policies" / name).read_text())
        (tmp_path / "solo.yaml").write_text(
            'name: solo\nservices: ["*"]\nsteps:\n'
            "  - notify: [user:nobody@example.com, user:U0ALICE01]\n    wait: 5m\nrepeat: 1\n"
        )
        args = ("simulate", "solo", "--config-dir", str(tmp_path), "--start", "2026-03-02T15:00Z")
        text = tocsin(*args)
        assert text.returncode == 0, text.stderr
        lines = text.stdout.splitlines()
        pages = [line for line in lines if " page @alice " in line]  # named, as in Slack
        assert [p.split("@alice")[1].split("via")[0].strip() for p in pages] == [
            "step 1",
            "step 1, round 2",
        ]
        assert all(p.endswith("via user U0ALICE01") for p in pages)
        skipped = "user nobody@example.com resolved to nobody; its other targets are paged"
        assert any(f"note: step 1: {skipped}" in line for line in lines)
        assert any(f"note: step 1, round 2: {skipped}" in line for line in lines)
        out = json.loads(tocsin(*args, "--json").stdout)
        assert [p["loop"] for p in out["pages"]] == [0, 1]
        assert out["notes"][0] == f"+0s: step 1: {skipped}"
