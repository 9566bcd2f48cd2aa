"""The whole stack for end-to-end tests: emulator, `tocsin web` (gunicorn), `tocsin worker`s."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.stack import LocalStack as Stack
from bot.sandbox.stack import stack_env, wait_for

__all__ = ["SECRET", "Stack", "stack_env", "wait_for", "write_config"]

ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-signing-secret"

SEVERITIES = """\
severities:
  sev1:
    label: Full outage
    update_every: 3s
    stakeholder_channel: C0STATUS
    criteria: {users_affected_pct: 25}
    rights:
      acknowledge: [responder]
      resolve: [role:commander]
      change_severity: [role:commander, usergroup:S0ENGMGRS]
      page: [responder]
  sev2:
    label: Significant degradation
    update_every: 20s
    stakeholder_channel: C0STATUS
    criteria: {users_affected_pct: 5}
    rights:
      acknowledge: [responder]
      resolve: [role:commander, usergroup:S0ENGMGRS]
      change_severity: [responder]
      page: [responder]
  sev3: {label: Minor, update_every: 1h}
"""
SCHEDULES = """\
schedules:
  checkout-primary:
    timezone: UTC
    rotations:
      - {members: [U0ALICE01], start: 2020-01-06T00:00, turn: 1w}
"""
POLICY = """\
name: checkout
services: [checkout, payments-api]
steps:
  - notify: [schedule:checkout-primary]
    wait: 3s
  - notify: [user:U0BOB0001]
    wait: 3s
  - notify: [usergroup:S0ENGMGRS]
    wait: 3s
repeat: 0
fallback_channel: C0INCIDENTS
"""
DEFAULT = """\
name: default
services: ["*"]
steps:
  - notify: [user:U0CAROL01]
    wait: 30s
repeat: 0
fallback_channel: C0INCIDENTS
"""


def write_config(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in {
        "severities.yaml": SEVERITIES,
        "schedules.yaml": SCHEDULES,
        "checkout.yaml": POLICY,
        "default.yaml": DEFAULT,
    }.items():
        (directory / name).write_text(text)
    return directory
