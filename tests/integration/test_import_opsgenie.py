"""`tocsin import opsgenie` on a realistic export: three rotations (weekly, business hours
over several days, evening 12-hour turns), escalation rules by delay from the alert."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.integration.test_cli_secrets import tocsin

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "opsgenie"


def test_the_import_passes_check_and_says_what_it_lost(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    result = tocsin(
        "",
        "import",
        "opsgenie",
        "--escalations",
        str(FIXTURES / "escalations.json"),
        "--schedules",
        str(FIXTURES / "schedules.json"),
        "--out",
        str(out_dir),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lost = [line for line in result.stdout.splitlines() if line.startswith("not carried over: ")]
    for expected in (
        "rotation Business hours: a team participant left out",
        "rotation Evenings: ends at 2026-06-01",
        "rule 2: notifyType next",
        "rule 4: condition if-not-closed",
    ):
        assert any(expected in line for line in lost), expected
    checked = tocsin("", "check", str(out_dir))
    assert checked.returncode == 0, checked.stdout
    policy = yaml.safe_load((out_dir / "payments-escalation.yaml").read_text())
    assert policy["steps"] == [
        {"notify": ["schedule:payments-on-call"], "wait": "10m"},
        {"notify": ["schedule:payments-on-call", "user:erin@example.com"], "wait": "15m"},
    ]
    rotations = yaml.safe_load((out_dir / "schedules.yaml").read_text())["schedules"][
        "payments-on-call"
    ]["rotations"]
    assert rotations[0] == {
        "members": ["alice@example.com", "bob@example.com"],
        "start": "2026-03-02T09:00:00",  # 08:00Z in Berlin
        "turn": "1w",
    }
    business = [r["restrict"] for r in rotations if r["members"] == ["carol@example.com"]]
    assert {"days": ["mon"], "hours": "09:00-24:00"} in business
    assert {"days": ["fri"], "hours": "00:00-17:00"} in business
    evenings = [r for r in rotations if r["members"] == ["dave@example.com"]]
    assert evenings[0]["turn"] == "12h"
    assert evenings[0]["restrict"]["hours"] == "18:00-06:00"
