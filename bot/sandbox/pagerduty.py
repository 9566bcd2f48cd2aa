"""A local PagerDuty: the Events API v2 and the v3 webhooks of its incidents.

Mounted under `/pagerduty` on the sandbox server:

- `POST /pagerduty/v2/enqueue`: an event (trigger, acknowledge, resolve), answered as
  PagerDuty answers: 202 `{status: "success", message: "Event processed", dedup_key}`;
  400 `{status: "invalid event", message: "Event object is invalid", errors: [...]}`; and,
  with a fault rule, 429, 500/503, or a dropped connection (`faults`, as the Slack API's).
- One incident per open (routing key, dedup key): a trigger while it is open is merged
  into it (counted in `deduplicated`, nobody paged again), as PagerDuty deduplicates.
- `POST /pagerduty/incidents/<id>/acknowledge|resolve` with `{"user": "<name>"}`: somebody
  acting "in PagerDuty"; when `webhook_url` is set, the change goes there as a signed v3
  webhook (`incident.acknowledged`, `incident.resolved`): `X-PagerDuty-Signature: v1=<hex
  HMAC-SHA256(webhook_secret, raw body)>`.
- `GET /sandbox/pagerduty`: the incidents and every event received, for tests and people.

The sandbox imports nothing of the product: this is written from PagerDuty's published
descriptions (the Events API v2 OpenAPI in PagerDuty/api-schema, the v3 webhook docs).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.faults import Faults
from bot.sandbox.server import Request, Response, Router

PREFIX = "/pagerduty"
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
KEY_PATTERN = re.compile(r"^[A-Za-z0-9]{32}$")  # an integration key is 32 characters
FAULT_METHOD = "enqueue"  # what a fault rule's `method` names to hit the Events API
HTML = "https://sandbox.pagerduty.invalid"


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@dataclass
class PdIncident:
    id: str
    number: int
    routing_key: str
    dedup_key: str
    title: str
    severity: str
    created: float
    status: str = "triggered"  # triggered | acknowledged | resolved
    events: list[str] = field(default_factory=list)  # event actions received, in order
    deduplicated: int = 0  # triggers merged into this incident while it was open

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "status": self.status,
            "incident_key": self.dedup_key,
            "title": self.title,
            "severity": self.severity,
            "service": self.service_id,
            "events": list(self.events),
            "deduplicated": self.deduplicated,
        }

    @property
    def service_id(self) -> str:
        """A stable made-up service id per integration key (PagerDuty's look like PXXXXXX)."""
        return "P" + hashlib.sha256(self.routing_key.encode()).hexdigest()[:6].upper()


def problems(event: Any) -> list[str]:
    """Why an Events v2 body is invalid (PagerDuty's `errors`), or [] when it is fine."""
    if not isinstance(event, dict):
        return ["Event object is not a JSON object"]
    found = []
    if not isinstance(event.get("routing_key"), str) or not event["routing_key"]:
        found.append("'routing_key' is missing or blank")
    elif not KEY_PATTERN.match(event["routing_key"]):
        found.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = event.get("event_action")
    if action not in ACTIONS:
        found.append("'event_action' is invalid (must be one of trigger, acknowledge, resolve)")
    if action in ("acknowledge", "resolve") and not event.get("dedup_key"):
        found.append("'dedup_key' is missing or blank")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            return [*found, "'payload' is missing or not an object"]
        for name in ("summary", "source"):
            if not isinstance(payload.get(name), str) or not payload[name].strip():
                found.append(f"'payload.{name}' is missing or blank")
        if payload.get("severity") not in SEVERITIES:
            found.append("'payload.severity' is invalid (critical, error, warning or info)")
    return found


class PagerDutyEmulator:
    """Events v2 in, incidents kept, v3 webhooks out. `routing_keys`: the integration keys
    PagerDuty knows (None: any well-formed key)."""

    def __init__(
        self,
        routing_keys: set[str] | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        fault_seed: int = 0,
    ) -> None:
        self.routing_keys = routing_keys
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret or secrets.token_hex(16)
        self.faults = Faults(seed=fault_seed)
        self.lock = threading.Lock()
        self.incidents: dict[str, PdIncident] = {}
        self.received: list[dict[str, Any]] = []  # every event accepted, in order
        self.webhooks: list[dict[str, Any]] = []  # v3 webhooks sent: event_type, status

    def register(self, router: Router) -> None:
        router.add("POST", rf"{PREFIX}/v2/enqueue", self.enqueue)
        act = rf"{PREFIX}/incidents/(?P<id>P[A-Z0-9]+)/(?P<action>acknowledge|resolve)"
        router.add("POST", act, self._act)
        router.add("GET", r"/sandbox/pagerduty", lambda _: Response.of_json(self.snapshot()))

    # Events API v2 ----------------------------------------------------------------------

    def enqueue(self, request: Request) -> Response:
        rule = self.faults.pick(FAULT_METHOD)
        if rule is not None and rule.kind in ("429", "500", "503", "reset", "timeout"):
            return self._fault(rule.kind, rule.retry_after, rule.hold_seconds())
        try:
            event = request.json()
        except ValueError:
            return self._invalid(["JSON parse error"])
        found = problems(event)
        known = self.routing_keys
        if not found and known is not None and event["routing_key"] not in known:
            found = ["Invalid routing key"]
        if found:
            return self._invalid(found)
        key = str(event.get("dedup_key") or uuid.uuid4().hex)
        with self.lock:
            self.received.append({k: v for k, v in event.items() if k != "routing_key"})
            self._apply(event, key)
        if rule is not None and rule.kind == "delay":
            time.sleep(rule.hold_seconds())
        body = {"status": "success", "message": "Event processed", "dedup_key": key}
        return Response.of_json(body, status=202)

    def _apply(self, event: dict[str, Any], key: str) -> None:
        action, routing = event["event_action"], event["routing_key"]
        open_one = self.open_incident(routing, key)
        if action == "trigger":
            if open_one is not None:
                open_one.deduplicated += 1
                open_one.events.append("trigger")
                return
            payload = event["payload"]
            number = len(self.incidents) + 1
            made = PdIncident(
                f"PSB{number:04d}", number, routing, key, payload["summary"],
                payload["severity"], time.time(), events=["trigger"],
            )  # fmt: skip
            self.incidents[made.id] = made
        elif open_one is not None:  # acknowledge or resolve an open incident; else ignored
            open_one.events.append(action)
            open_one.status = "acknowledged" if action == "acknowledge" else "resolved"

    def open_incident(self, routing_key: str, dedup_key: str) -> PdIncident | None:
        for one in self.incidents.values():
            same = (one.routing_key, one.dedup_key) == (routing_key, dedup_key)
            if same and one.status != "resolved":
                return one
        return None

    def by_key(self, dedup_key: str) -> list[PdIncident]:
        """Every incident ever opened under `dedup_key`, oldest first."""
        with self.lock:
            return [i for i in self.incidents.values() if i.dedup_key == dedup_key]

    def _invalid(self, errors: list[str]) -> Response:
        body = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
        return Response.of_json(body, status=400)

    def _fault(self, kind: str, retry_after: int, hold_s: float) -> Response:
        if kind == "429":
            body = {"status": "throttle event", "message": "Too many API calls at a time"}
            return Response.of_json(body, status=429, **{"Retry-After": str(retry_after)})
        if kind in ("500", "503"):
            return Response.of_json({"status": "error", "message": "Server error"}, int(kind))
        if kind == "timeout":
            time.sleep(hold_s)
        return Response(drop=True)

    # "in PagerDuty": a person acts, a v3 webhook goes out -----------------------------------

    def _act(self, request: Request) -> Response:
        try:
            user = str(request.json().get("user") or "Sandbox Responder")
        except (ValueError, AttributeError):
            user = "Sandbox Responder"
        sent = self.act(request.params["id"], request.params["action"], user)
        if sent is None:
            return Response.of_json({"error": "no such open incident"}, status=404)
        return Response.of_json(sent)

    def act(self, incident_id: str, action: str, user: str) -> dict[str, Any] | None:
        """`user` acknowledges or resolves an incident in PagerDuty; the webhook's outcome
        (`{event_type, status}`; status None: not sent or no answer), or None when there is
        no such open incident."""
        with self.lock:
            incident = self.incidents.get(incident_id)
            if incident is None or incident.status == "resolved":
                return None
            incident.status = "acknowledged" if action == "acknowledge" else "resolved"
            body = json.dumps(v3_webhook(incident, f"incident.{incident.status}", user)).encode()
        sent = {"event_type": f"incident.{incident.status}", "status": self._deliver(body)}
        with self.lock:
            self.webhooks.append(sent)
        return sent

    def _deliver(self, body: bytes) -> int | None:
        if not self.webhook_url:
            return None
        mac = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "PagerDuty-Webhook/V3.0",
            "X-PagerDuty-Signature": f"v1={mac}",
            "X-Webhook-Id": str(uuid.uuid4()),
            "X-Webhook-Subscription": "PSANDBOX",
        }
        request = urllib.request.Request(self.webhook_url, body, headers, method="POST")  # noqa: S310  # the URL the sandbox was given
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return None

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "incidents": [i.as_dict() for i in self.incidents.values()],
                "received": list(self.received),
                "webhooks": list(self.webhooks),
                "faults": self.faults.snapshot(),
            }


def v3_webhook(incident: PdIncident, event_type: str, user: str) -> dict[str, Any]:
    """A v3 webhook body: `{"event": {id, event_type, resource_type, occurred_at, agent,
    client, data}}`, its `data` the incident as it is now."""
    user_id = "PU" + hashlib.sha256(user.encode()).hexdigest()[:5].upper()
    return {
        "event": {
            "id": str(uuid.uuid4()),
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": _iso(time.time()),
            "agent": {
                "html_url": f"{HTML}/users/{user_id}",
                "id": user_id,
                "self": f"https://api.pagerduty.invalid/users/{user_id}",
                "summary": user,
                "type": "user_reference",
            },
            "client": None,
            "data": {
                "id": incident.id,
                "type": "incident",
                "self": f"https://api.pagerduty.invalid/incidents/{incident.id}",
                "html_url": f"{HTML}/incidents/{incident.id}",
                "number": incident.number,
                "status": incident.status,
                "incident_key": incident.dedup_key,
                "created_at": _iso(incident.created),
                "title": incident.title,
                "service": {
                    "html_url": f"{HTML}/service-directory/{incident.service_id}",
                    "id": incident.service_id,
                    "self": f"https://api.pagerduty.invalid/services/{incident.service_id}",
                    "summary": "Sandbox service",
                    "type": "service_reference",
                },
                "assignees": [],
                "escalation_policy": None,
                "teams": [],
                "priority": None,
                "urgency": "high",
                "conference_bridge": None,
                "resolve_reason": None,
            },
        }
    }
