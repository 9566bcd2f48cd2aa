"""The `pagerduty` method: PagerDuty Events API v2 (POST /v2/enqueue).

A policy step naming `pagerduty:<name>` pages the PagerDuty service whose Events API v2
integration `services.yaml` names; its routing key is read from the environment variable
given there. One Tocsin incident is one PagerDuty alert: every event carries the dedup key
`tocsin/<incident id>` (`dedup_key`), and the incident's later moves send `acknowledge` and
`resolve` with the same key.

Exactly once: Events v2 deduplicates triggers on `dedup_key`. A trigger whose key names an
alert that is still open is merged into it at PagerDuty and pages nobody again, so a retry
after a worker died between sending and recording is harmless: `find` answers None (the
Events API cannot be asked what it received) and the outbox sends again, which is a no-op
while the alert is open. The same holds for a later step or loop paging the same service.

Answers (PagerDuty's table): 202 accepted; 400 an invalid event, an unknown routing key
among them (`Undeliverable`, never retried); 429 and 5xx and no answer are retried later
(`DeliveryError`). TOCSIN_PAGERDUTY_EVENTS_URL points the method at another host (the
sandbox's emulator); the default is https://events.pagerduty.com.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import structlog

from bot.config.outside import load_services
from bot.config.settings import Settings
from bot.domain.services import OutsideServices, PagerDutyService
from bot.notify import Notice
from bot.notify.configured import named, secret
from bot.notify.http import Answer, post, raise_unless_ok
from bot.paging import Undeliverable

log = structlog.get_logger(__name__)

EVENTS_URL_ENV = "TOCSIN_PAGERDUTY_EVENTS_URL"
DEFAULT_EVENTS_URL = "https://events.pagerduty.com"
DEDUP_PREFIX = "tocsin/"
SUMMARY_MAX = 1024  # characters of payload.summary PagerDuty keeps
# Tocsin's severity labels as Events v2 severities; any other label is `info`.
SEVERITIES = {"sev1": "critical", "sev2": "error", "sev3": "warning"}


def dedup_key(incident_id: str) -> str:
    """The Events v2 dedup key of a Tocsin incident: one PagerDuty alert per incident."""
    return DEDUP_PREFIX + incident_id


def incident_of(key: str | None) -> str | None:
    """The Tocsin incident id a dedup key (PagerDuty's `incident_key`) names, or None when
    the key is not one of Tocsin's."""
    if not key or not key.startswith(DEDUP_PREFIX) or len(key) == len(DEDUP_PREFIX):
        return None
    return key[len(DEDUP_PREFIX) :]


def pd_severity(severity: str) -> str:
    return SEVERITIES.get(severity.lower(), "info")


class PagerDutyEvents:
    """Sends Events v2 events to the PagerDuty services of `services.yaml`."""

    name = "pagerduty"

    def __init__(
        self,
        services: Mapping[str, PagerDutyService],
        env: Mapping[str, str],
        events_url: str = DEFAULT_EVENTS_URL,
        timeout_s: float = 10.0,
    ) -> None:
        self.services, self.env, self.timeout_s = services, env, timeout_s
        self.enqueue_url = events_url.rstrip("/") + "/v2/enqueue"

    @classmethod
    def from_env(cls, services: OutsideServices, env: Mapping[str, str]) -> PagerDutyEvents:
        """The method for the configured services, reading keys and the URL from `env`."""
        url = env.get(EVENTS_URL_ENV) or DEFAULT_EVENTS_URL
        return cls(services.pagerduty, env, url)

    def send(self, notice: Notice, address: str) -> str:
        """Trigger the incident's alert at the service named `address`; return its dedup key."""
        payload = {
            "summary": f"[{notice.severity.upper()}] {notice.title}"[:SUMMARY_MAX],
            "source": "tocsin",
            "severity": pd_severity(notice.severity),
            "component": notice.service,
            "custom_details": {
                "incident_id": notice.incident_id,
                "service": notice.service,
                "severity": notice.severity,
                "summary": notice.summary,
            },
        }
        return self._event(address, "trigger", notice.incident_id, payload)

    def find(self, notice: Notice, address: str, since: float) -> str | None:
        """None: the Events API cannot say what it received, and a resend is deduplicated
        on the incident's dedup key while its alert is open (see the module's note)."""
        return None

    def acknowledge(self, address: str, incident_id: str) -> str:
        """Acknowledge the incident's alert at the service named `address` (Tocsin's incident
        was acknowledged); return its dedup key."""
        return self._event(address, "acknowledge", incident_id)

    def resolve(self, address: str, incident_id: str) -> str:
        """Resolve the incident's alert at the service named `address`; return its dedup key."""
        return self._event(address, "resolve", incident_id)

    def follow(self, action: str, address: str, incident_id: str) -> str:
        """`acknowledge` or `resolve` the incident's alert (`bot.notify.Follows`)."""
        if action == "acknowledge":
            return self.acknowledge(address, incident_id)
        if action == "resolve":
            return self.resolve(address, incident_id)
        raise Undeliverable("invalid_event", f"PagerDuty has no action {action!r}")

    def _event(
        self, address: str, action: str, incident_id: str, payload: dict[str, Any] | None = None
    ) -> str:
        key = dedup_key(incident_id)
        event: dict[str, Any] = {
            "routing_key": self._routing_key(address),
            "event_action": action,
            "dedup_key": key,
        }
        if payload is not None:
            event |= {"payload": payload, "client": "Tocsin"}
        headers = {"Content-Type": "application/json", "User-Agent": "tocsin"}
        answer = post(self.enqueue_url, json.dumps(event).encode(), headers, self.timeout_s)
        log.info("pagerduty_event", service=address, action=action, status=answer.status)
        if answer.status == 400:
            raise Undeliverable("invalid_event", f"PagerDuty refused the event: {_errors(answer)}")
        raise_unless_ok(answer, f"PagerDuty service {address!r}", wide=True)
        return key

    def _routing_key(self, address: str) -> str:
        service = named(self.services, address, "PagerDuty service")
        return secret(
            self.env, service.routing_key_env, f"the routing key of PagerDuty service {address!r}"
        )


def _errors(answer: Answer) -> str:
    """PagerDuty's words for a 400: `message: error; error` (its JSON), else the body."""
    try:
        data = json.loads(answer.body)
    except ValueError:
        return " ".join(answer.body.split())[:300] or "no reason given"
    if not isinstance(data, dict):
        return str(data)[:300]
    errors = data.get("errors")
    listed = "; ".join(str(e) for e in errors) if isinstance(errors, list) else ""
    message = str(data.get("message") or data.get("status") or "invalid event")
    return f"{message}: {listed}" if listed else message


def build(settings: Settings, env: Mapping[str, str] | None = None) -> PagerDutyEvents | None:
    """The `pagerduty` method for the services.yaml of the config in use, reading secrets from
    `env` (the process's environment by default); None when no pagerduty service is named."""
    services = load_services(settings.config_in_use)
    if not services.pagerduty:
        return None
    return PagerDutyEvents.from_env(services, os.environ if env is None else env)
