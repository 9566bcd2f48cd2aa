"""Alerts in, end to end: a real Alertmanager (and the generic shape over plain HTTP) posts to
`tocsin web`; RQ workers open, join, raise and clear incidents in the Slack emulator."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.alerts import AlertButton
from tests.e2e.alerts_support import (
    TOKEN,
    Alertmanager,
    bearer,
    incidents,
    post,
    thread,
)
from tests.e2e.support import Stack, wait_for

ALERTS = """\
alert_sources:
  prom:
    kind: alertmanager
    token_env: TOCSIN_ALERTS_PROM_TOKEN
    routes:
      - match: {team: payments}
        service: checkout
        severity_from: {label: severity, map: {critical: sev1, warning: sev2}, default: sev3}
    default: {service: "*", severity: sev3}
    on_clear: resolve
  hooks:
    kind: generic
    token_env: TOCSIN_ALERTS_PROM_TOKEN
    on_clear: notify
    storm: {new_groups: 2, within: 1m}
    heartbeat: {alertname: Watchdog, every: 1s}
"""


@pytest.fixture
def stack_policies() -> dict[str, str]:
    return {"alerts.yaml": ALERTS}


@pytest.fixture
def stack_settings() -> dict[str, str]:
    return {"TOCSIN_ALERTS_PROM_TOKEN": TOKEN}


@pytest.fixture
def alertmanager(stack: Stack, tmp_path: Path) -> Iterator[Alertmanager]:
    running = Alertmanager.start(tmp_path / "am", stack.url + "/alerts/prom", repeat="2s")
    try:
        yield running
    finally:
        running.stop()


def generic(stack: Stack, key: str, status: str = "firing", **fields: object) -> int:
    body = {"status": status, "dedup_key": key, "title": f"{key} is down", **fields}
    code, _ = post(stack.url + "/alerts/hooks", body, bearer())
    return code


class TestAlertmanager:
    def test_group_opens_one_incident_joins_raises_ignores_resend_and_resolves(
        self, stack: Stack, alertmanager: Alertmanager
    ) -> None:
        labels = {"alertname": "CheckoutErrors", "team": "payments", "severity": "warning"}
        alertmanager.fire({**labels, "instance": "a"}, {"summary": "Checkout <!channel> errors"})
        opened = wait_for(lambda: [i for i in incidents(stack) if i.channel_id])
        assert len(opened) == 1
        incident = opened[0]
        assert incident.title == "Checkout <!channel> errors"
        assert (incident.service, incident.severity) == ("checkout", "sev2")
        assert incident.declared_by == "alerts:prom"
        assert incident.roles.commander is None
        wait_for(lambda: stack.emulator.pins(str(incident.channel_id)))
        header = [m for m in stack.emulator.transcript(str(incident.channel_id)) if m["pinned"]]
        assert "declared by alerts from prom" in str(header[0]["blocks"])
        first = wait_for(lambda: thread(stack, incident))
        assert "&lt;!channel&gt;" in first[0]  # escaped: pings nobody
        assert "<!channel>" not in first[0]
        assert "http://prometheus.example/graph" in first[0]
        wait_for(lambda: stack.emulator.dms("U0ALICE01").get("U0ALICE01"))  # paged per policy

        alertmanager.fire({**labels, "instance": "b", "severity": "critical"})
        wait_for(lambda: len(thread(stack, incident)) >= 2)
        joined = incidents(stack)
        assert len(joined) == 1  # the second alert joined the group's incident
        assert joined[0].severity == "sev1"  # its route says critical: raised

        seen = len(thread(stack, incident))
        sent = alertmanager.webhooks_sent()
        wait_for(lambda: alertmanager.webhooks_sent() >= sent + 2, timeout=20)  # resends
        assert len(incidents(stack)) == 1
        assert len(thread(stack, incident)) == seen  # an identical repeat changes nothing

        alertmanager.fire({**labels, "instance": "a"}, resolve=True)
        alertmanager.fire({**labels, "instance": "b", "severity": "critical"}, resolve=True)
        cleared = wait_for(lambda: [i for i in incidents(stack) if not i.is_open], timeout=20)
        assert cleared[0].resolved_by == "alerts:prom"  # on_clear: resolve
        # the resolve and its thread note are separate deliveries: wait for the note itself
        wait_for(lambda: any("has resolved" in t for t in thread(stack, incident)))


class TestGeneric:
    def test_status_codes(self, stack: Stack) -> None:
        url = stack.url + "/alerts/hooks"
        assert post(stack.url + "/alerts/nope", {}, bearer())[0] == 404
        assert post(url, {"status": "firing", "dedup_key": "x"}, bearer("wrong"))[0] == 401
        code, body = post(url, {"status": "burning", "dedup_key": "x"}, bearer())
        assert (code, body["field"]) == (400, "status")
        assert post(url, b"x" * (1024 * 1024 + 1), bearer())[0] == 413
        assert post(url, {"status": "firing", "dedup_key": "x"}, bearer())[0] == 202

    def test_clear_notifies_with_a_resolve_button_and_refiring_reopens_nothing_new(
        self, stack: Stack
    ) -> None:
        assert generic(stack, "db1", severity="sev2", service="checkout") == 202
        incident = wait_for(lambda: [i for i in incidents(stack) if i.channel_id])[0]
        assert (incident.severity, incident.service) == ("sev2", "checkout")
        assert generic(stack, "db1", severity="sev2", service="checkout") == 202  # repeat
        assert generic(stack, "db1", status="resolved") == 202
        texts = wait_for(lambda: [t for t in thread(stack, incident) if "has resolved" in t])
        assert "Resolve the incident" in texts[0]
        assert incidents(stack)[0].is_open  # on_clear: notify leaves it to people
        assert generic(stack, "db1") == 202  # firing again: the same incident
        wait_for(lambda: len(thread(stack, incident)) >= 3)
        assert len(incidents(stack)) == 1

    def test_storm_past_new_groups_joins_one_announced_storm_incident(self, stack: Stack) -> None:
        for n in range(5):
            assert generic(stack, f"host{n}") == 202
        found = wait_for(
            lambda: [i for i in incidents(stack) if i.channel_id][2:] and incidents(stack)
        )
        titles = [i.title for i in found]
        assert titles == ["host0 is down", "host1 is down", "alert storm from hooks"]
        storm = found[2]

        def listed() -> list[str]:
            texts = thread(stack, storm)
            return texts if sum(t.count("is down") for t in texts) >= 3 else []

        texts = wait_for(listed)
        assert "Alert storm from *hooks*" in texts[0]
        assert sum(t.count("is down") for t in texts) == 3  # groups 3 to 5 listed in its thread
        assert len([i for i in incidents(stack) if i.channel_id]) == 3

    def test_heartbeat_silence_declares_and_its_return_resolves(self, stack: Stack) -> None:
        assert generic(stack, "wd", labels={"alertname": "Watchdog"}) == 202
        silent = wait_for(lambda: incidents(stack), timeout=20)[0]
        assert silent.title == "alerting from hooks is silent"
        assert generic(stack, "wd", labels={"alertname": "Watchdog"}) == 202
        wait_for(lambda: not incidents(stack)[0].is_open, timeout=20)


class TestSandboxButton:
    def test_the_page_fires_an_alert_and_resolves_it(self, stack: Stack) -> None:
        stack.emulator.alert_button = AlertButton(stack.url + "/alerts/prom", TOKEN)
        press = stack.emulator.root_url + "sandbox/act/alert"
        status, fired = post(press, {}, {"Content-Type": "application/json"})
        assert (status, fired["status"], fired["http"]) == (200, "firing", 202)
        incident = wait_for(lambda: [i for i in incidents(stack) if i.channel_id])[0]
        assert incident.title == "Sandbox alert #1 from the page"
        status, resolved = post(press, {}, {"Content-Type": "application/json"})
        assert (status, resolved["status"]) == (200, "resolved")
        wait_for(lambda: not incidents(stack)[0].is_open)  # prom's on_clear: resolve


class TestAlertSend:
    def test_tocsin_alert_send_posts_each_sample(self, stack: Stack) -> None:
        def send(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "bot.cli", "alert", "send", *args, "--url", stack.url],
                env=stack.env,
                capture_output=True,
                text=True,
                timeout=60,
            )

        sent = send("prom", "--sample", "alertmanager")
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert sent.stdout.startswith("202 ")
        assert send("hooks", "--sample", "generic").returncode == 0
        opened = wait_for(lambda: len([i for i in incidents(stack) if i.channel_id]) == 2)
        assert opened
        refused = send("prom", "--sample", "generic")  # the wrong shape for an alertmanager
        assert refused.returncode == 1
        assert refused.stdout.startswith("400 ")
        resolved = send("prom", "--sample", "alertmanager", "--resolve")
        assert resolved.returncode == 0
        wait_for(lambda: any(not i.is_open for i in incidents(stack)))
