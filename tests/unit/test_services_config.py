"""services.yaml and the pagerduty:/webhook: targets: `tocsin check` names each problem at
its line, a policy step may notify the services it defines, and the methods' config reads
them back."""

from __future__ import annotations

import io
from pathlib import Path

from bot.config import run_check
from bot.config.outside import load_services
from bot.config.settings import Settings
from bot.domain.policy import Target, TargetKind
from bot.domain.services import PagerDutyService, WebhookService
from bot.notify.pagerduty import EVENTS_URL_ENV
from bot.notify.pagerduty import build as build_pagerduty
from bot.notify.webhook import build as build_webhook

SEVERITIES = "severities:\n  sev1: {label: Outage, update_every: 15m}\n"
SERVICES = """\
pagerduty:
  ops: {routing_key_env: TOCSIN_PD_OPS_KEY}
webhooks:
  audit:
    url: https://audit.example.com/tocsin
    secret_env: TOCSIN_WEBHOOK_AUDIT_SECRET
"""


def policy(*targets: str) -> str:
    return f"name: web\nservices: [web]\nsteps:\n  - notify: [{', '.join(targets)}]\n    wait: 5m\n"


def check(directory: Path, files: dict[str, str]) -> tuple[int, list[str]]:
    for name, text in {"severities.yaml": SEVERITIES, **files}.items():
        (directory / name).write_text(text)
    out = io.StringIO()
    code = run_check(directory, out)
    lines = [line.removeprefix(f"{directory}/") for line in out.getvalue().splitlines()]
    return code, [line for line in lines if "warning:" not in line]


class TestServicesConfig:
    def test_a_policy_may_notify_the_services_defined(self, tmp_path: Path) -> None:
        """pagerduty:ops and webhook:audit parse as targets of their own kinds and check clean."""
        files = {"services.yaml": SERVICES, "web.yaml": policy("pagerduty:ops", "webhook:audit")}
        code, lines = check(tmp_path, files)
        assert code == 0, lines
        target = Target.parse("pagerduty:ops")
        assert (target.kind, target.is_service) == (TargetKind.PAGERDUTY, True)
        assert Target.parse("webhook:audit").words == "the audit webhook"

    def test_an_unknown_name_is_refused_at_its_line(self, tmp_path: Path) -> None:
        files = {
            "services.yaml": SERVICES,
            "web.yaml": policy("user:U1", "pagerduty:opz", "webhook:nope"),
        }
        code, lines = check(tmp_path, files)
        assert code == 1
        assert lines == [
            "web.yaml:4: steps[0].notify[1]: unknown PagerDuty service 'opz' (known: ops); "
            "did you mean 'ops'?",
            "web.yaml:4: steps[0].notify[2]: unknown webhook 'nope' (known: audit)",
        ]

    def test_a_name_defined_twice_and_bad_shapes_are_refused_at_their_lines(
        self, tmp_path: Path
    ) -> None:
        bad = (
            "pagerduty:\n"
            "  ops: {routing_key_env: TOCSIN_PD_OTHER}\n"
            "webhooks:\n"
            "  raw:\n"
            "    url: ftp://example.com\n"
            "    secret_env: lower-case\n"
            "    retries: 3\n"
        )
        files = {"services.yaml": SERVICES, "z_more.yaml": bad, "web.yaml": policy("user:U1")}
        code, lines = check(tmp_path, files)
        assert code == 1
        assert "z_more.yaml:2: pagerduty.ops: already defined at" in "\n".join(lines)
        assert (
            "z_more.yaml:5: webhooks.raw.url: 'ftp://example.com' is not an https:// (or http://) URL"
            in lines
        )
        assert any(line.startswith("z_more.yaml:6: webhooks.raw.secret_env:") for line in lines)
        assert any(
            line.startswith("z_more.yaml:7: webhooks.raw.retries: unknown key") for line in lines
        )

    def test_load_services_reads_what_the_methods_need(self, tmp_path: Path) -> None:
        (tmp_path / "services.yaml").write_text(SERVICES)
        (tmp_path / "web.yaml").write_text(policy("pagerduty:ops"))
        services = load_services(tmp_path)
        assert dict(services.pagerduty) == {"ops": PagerDutyService("ops", "TOCSIN_PD_OPS_KEY")}
        assert dict(services.webhooks) == {
            "audit": WebhookService(
                "audit", "https://audit.example.com/tocsin", "TOCSIN_WEBHOOK_AUDIT_SECRET", 10.0
            )
        }

    def test_the_methods_are_built_from_the_config_in_use(self, tmp_path: Path) -> None:
        """Each builder offers its method only when services.yaml names a service for it."""
        settings = Settings(config_dir=tmp_path)
        (tmp_path / "web.yaml").write_text(policy("user:U1"))
        assert build_pagerduty(settings, {}) is None
        assert build_webhook(settings, {}) is None
        (tmp_path / "services.yaml").write_text(SERVICES)
        env = {EVENTS_URL_ENV: "http://127.0.0.1:9/pd"}
        pagerduty = build_pagerduty(settings, env)
        assert pagerduty is not None
        assert (pagerduty.name, pagerduty.enqueue_url) == (
            "pagerduty",
            "http://127.0.0.1:9/pd/v2/enqueue",
        )
        webhook = build_webhook(settings, {})
        assert webhook is not None
        assert webhook.name == "webhook"
