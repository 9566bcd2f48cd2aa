"""`auto_when`: an alert (POST /alerts) runs a runbook's action by itself at the severities
it lists, announced in the channel and recorded on the timeline; never on a drill unless
the action says `drills: true`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.containment import ContainmentAction
from bot.state.server import connect
from bot.state.store import Store
from tests.e2e.alerts_support import TOKEN, bearer, incidents, post
from tests.e2e.support import ROOT, Stack, wait_for

ALERTS = """\
alert_sources:
  hooks:
    kind: generic
    token_env: TOCSIN_ALERTS_PROM_TOKEN
    on_clear: notify
"""
AUTO = """\
    auto_when: {severity: [sev1]}
"""


@pytest.fixture
def stack_policies() -> dict[str, str]:
    return {"alerts.yaml": ALERTS}


@pytest.fixture
def stack_settings(tmp_path: Path) -> dict[str, str]:
    """The shipped runbooks, the checkout one's rollback run automatically on sev1."""
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    for shipped in (ROOT / "runbooks").glob("*.md"):
        text = shipped.read_text()
        if "id: rollback" in text:
            text = text.replace(
                "    params: {service: checkout", AUTO + "    params: {service: checkout"
            )
        (runbooks / shipped.name).write_text(text)
    return {"TOCSIN_ALERTS_PROM_TOKEN": TOKEN, "TOCSIN_RUNBOOKS_DIR": str(runbooks)}


def fire(stack: Stack, key: str, severity: str) -> None:
    body = {"status": "firing", "dedup_key": key, "title": f"{key} failing", "severity": severity}
    code, _ = post(stack.url + "/alerts/hooks", {**body, "service": "checkout"}, bearer())
    assert code == 202


def texts(stack: Stack, channel: str) -> list[str]:
    """The channel's messages and their threads' replies."""
    said: list[str] = []
    for message in stack.emulator.transcript(channel):
        said += [message["text"], *(r["text"] for r in message.get("replies", []))]
    return said


class TestAutoWhen:
    def test_a_sev1_alert_runs_the_action_once_announced_and_recorded(self, stack: Stack) -> None:
        """sev1 from an alert: one signed POST, an announcement and the outcome in the
        channel, both on the timeline; a sev2 alert runs nothing."""
        fire(stack, "checkout-5xx", "sev1")
        arrival = wait_for(lambda: stack.emulator.automation.snapshot(), timeout=20)
        assert arrival[0]["signed"]
        assert arrival[0]["body"]["requested_by"] == "alerts:hooks"
        (incident,) = wait_for(lambda: [i for i in incidents(stack) if i.channel_id])
        channel = str(incident.channel_id)
        said = wait_for(lambda: [t for t in texts(stack, channel) if "automatically" in t])
        assert "*Roll back checkout*" in said[0]
        wait_for(lambda: [t for t in texts(stack, channel) if "HTTP 200" in t] or None)
        recorded = [
            e.text
            for e in Store(connect(stack.env["REDIS_URL"])).timeline(incident.id)
            if e.kind.value == "containment"
        ]
        assert any("by an alert route, as alerts from hooks" in t for t in recorded)
        assert any("HTTP 200" in t for t in recorded)

        fire(stack, "checkout-latency", "sev2")
        wait_for(lambda: len(incidents(stack)) == 2 or None)
        assert len(stack.emulator.automation.snapshot()) == 1


class TestDrills:
    def test_drills_run_only_actions_that_say_so(self) -> None:
        """A drill incident never runs an action automatically unless it says `drills: true`."""
        plain = ContainmentAction("r", "R", "U", "S", "Sure?", auto_when=("sev1",))
        assert plain.runs_automatically("sev1", drill=False)
        assert not plain.runs_automatically("sev1", drill=True)
        allowed = ContainmentAction("r", "R", "U", "S", "Sure?", auto_when=("sev1",), drills=True)
        assert allowed.runs_automatically("sev1", drill=True)
