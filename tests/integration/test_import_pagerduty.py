"""`tocsin import pagerduty` on a realistic export: a two-layer schedule (a weekly primary
under a weekday-daytime layer made of weekly restrictions) whose rendered week crosses the
US DST change, a layer that ended, a round-robin rule and a user without an email."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli_secrets import tocsin

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pagerduty"


def run_import(out: Path, schedules: Path = FIXTURES / "schedules.json") -> tuple[int, str]:
    result = tocsin(
        "",
        "import",
        "pagerduty",
        "--escalation-policies",
        str(FIXTURES / "escalation_policies.json"),
        "--schedules",
        str(schedules),
        "--users",
        str(FIXTURES / "users.json"),
        "--out",
        str(out),
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout


def test_the_import_passes_check_matches_every_rendered_instant_and_says_what_it_lost(
    tmp_path: Path,
) -> None:
    code, out = run_import(tmp_path / "out")
    assert code == 0, out
    assert "checkout-primary: compared with PagerDuty's rendered schedule" in out
    assert "every rendered schedule matches at every instant" in out
    lost = [line for line in out.splitlines() if line.startswith("not carried over: ")]
    assert any("Former Employee (PGHOST1): no email known" in line for line in lost)
    assert any("layer Nights: ends at 2026-02-01" in line for line in lost)
    assert any("rule 2: round-robin assignment" in line for line in lost)
    checked = tocsin("", "check", str(tmp_path / "out"))
    assert checked.returncode == 0, checked.stdout
    assert "2 schedules" in checked.stdout
    policy = (tmp_path / "out" / "checkout.yaml").read_text()
    assert "user:erin@example.com" in policy
    assert "repeat: 2" in policy


def test_a_schedule_that_differs_from_its_rendered_entries_is_reported(tmp_path: Path) -> None:
    """Carol's Tuesday daytime said to be Dave's: the import names that stretch, exits 1."""
    data = json.loads((FIXTURES / "schedules.json").read_text())
    entries = data["schedules"][0]["final_schedule"]["rendered_schedule_entries"]
    tuesday = next(e for e in entries if e["start"] == "2026-03-10T09:00:00-05:00")
    tuesday["user"] = {"id": "PDAVE01", "type": "user_reference"}
    changed = tmp_path / "schedules.json"
    changed.write_text(json.dumps(data))
    code, out = run_import(tmp_path / "out", changed)
    assert code == 1
    assert (
        "differs: checkout-primary: 2026-03-10 14:00Z to 2026-03-10 22:00Z the source has "
        "dave@example.com, Tocsin carol@example.com"
    ) in out
    assert out.count("differs: ") == 1
