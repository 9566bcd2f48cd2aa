"""Containment actions: what a runbook declares, how a request to run one is signed, and
when pressing one again asks first.

Pure: the loader (`bot.config.runbooks`) builds these, the service (`bot.containment`) runs
them. The signature scheme is the one documented in README.md "Containment actions":

    X-Tocsin-Timestamp: <unix seconds>
    X-Tocsin-Signature: v1=<hex HMAC-SHA256(secret, "v1:<timestamp>:<body>")>
    Idempotency-Key: <run id>
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

SIGNATURE_VERSION = "v1"
TIMESTAMP_HEADER = "X-Tocsin-Timestamp"
SIGNATURE_HEADER = "X-Tocsin-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPEAT_WINDOW_S = 120  # the same action pressed again within this asks before running again
EXCERPT = 200  # characters of the receiver's answer shown in Slack
BUTTON_PREFIX = "contain:"  # a button's action_id is BUTTON_PREFIX + the action's id


@dataclass(frozen=True)
class ContainmentAction:
    """One action under a runbook: a button, a signed webhook, who may press it, and the
    severities at which an alert runs it by itself (`auto_when`)."""

    id: str
    label: str
    url_env: str  # the environment variable holding the webhook's URL
    secret_env: str  # the one holding the HMAC secret
    confirm: str  # the question Slack's confirm dialog asks
    right: str = "contain"  # the tier's right a presser must hold
    params: tuple[tuple[str, str], ...] = ()
    auto_when: tuple[str, ...] = ()  # severities at which an alert route runs it
    drills: bool = False  # may run (automatically) on a drill incident
    timeout_s: float = 10.0

    def runs_automatically(self, severity: str, *, drill: bool) -> bool:
        """Whether an alert on an incident of `severity` runs this action by itself."""
        return severity in self.auto_when and (self.drills or not drill)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Tocsin-Signature` value of `body` sent at `timestamp`."""
    message = f"{SIGNATURE_VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def button_value(incident_id: str, action_id: str) -> str:
    """What a containment button carries (checked again on the click: see `parse_value`)."""
    return f"{incident_id}|{action_id}"


def parse_value(value: str) -> tuple[str, str] | None:
    """(incident id, action id) from a button's value, or None when it has not that shape."""
    incident_id, sep, action_id = value.partition("|")
    if not sep or not incident_id or not action_id or "|" in action_id:
        return None
    return incident_id, action_id


def repeat_wait(last_run_at: float | None, now: float, window_s: int = REPEAT_WINDOW_S) -> int:
    """Seconds since the action last ran when that is inside the repeat window, else 0
    (0 means: run it; anything else means ask again first)."""
    if last_run_at is None or now - last_run_at >= window_s:
        return 0
    return max(1, int(now - last_run_at))


def retryable(status: int | None) -> bool:
    """Whether a failed send is tried again: a connection error (None) or a 5xx; never a 4xx."""
    return status is None or status >= 500


def backoff(attempt: int, base_s: float = 0.5, cap_s: float = 8.0) -> float:
    """Seconds to wait before try `attempt` + 1 (attempt counts from 1)."""
    return float(min(cap_s, base_s * 2 ** (attempt - 1)))
