"""PagerDuty's v3 webhooks in: somebody acknowledged or resolved Tocsin's alert in PagerDuty.

`POST /notify/pagerduty` (bot.web) hands the raw body and its `X-PagerDuty-Signature` here.
The header lists one or more `v1=<hex>` (comma-separated, several while PagerDuty rotates the
subscription's secret); one must be HMAC-SHA256 of the raw body under the secret in
TOCSIN_PAGERDUTY_WEBHOOK_SECRET, else 401 and nothing changes (no secret set: every request
is refused).

The v3 body is `{"event": {event_type, agent, data}}`; `data` is the PagerDuty incident, its
`incident_key` the dedup key Tocsin triggered it with (`tocsin/<incident id>`,
bot.notify.pagerduty). `incident.acknowledged` acknowledges the Tocsin incident and
`incident.resolved` resolves it, through the same engine commands as a click, so under the
same decision rights. Who acts: the Slack user `slack_user_of` maps PagerDuty's agent to
(people.yaml, when it knows them), else `pagerduty:<service>`, the PagerDuty service of
services.yaml that was paged for the incident, else `pagerduty:<the agent's name>`. A note
on the timeline says it came from PagerDuty and who pressed it there, or why it was not
applied.

Tocsin's own acknowledge and resolve events come back as webhooks too: when the incident is
already in that state, the webhook changes nothing and says nothing. Other event types and
incidents Tocsin did not trigger are answered 200 and ignored (PagerDuty retries a non-2xx).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis
import structlog

from bot.domain.incident import Status
from bot.domain.policy import TargetKind
from bot.incident.commands import Engine
from bot.notify.pagerduty import incident_of
from bot.state.store import IncidentNotFound

log = structlog.get_logger(__name__)

SECRET_ENV = "TOCSIN_PAGERDUTY_WEBHOOK_SECRET"  # noqa: S105  # the name of the variable
SIGNATURE_HEADER = "X-PagerDuty-Signature"
ACKNOWLEDGED, RESOLVED = "incident.acknowledged", "incident.resolved"
Answer = tuple[int, dict[str, Any]]
# (PagerDuty user id, their name) -> Slack user id, or None when nobody is known
SlackUserOf = Callable[[str, str], str | None]


def verified(secret: str | None, header: str, body: bytes) -> bool:
    """Whether one of the `v1=` signatures in `header` signs `body` with `secret`."""
    if not secret:
        return False
    expected = "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    given = [s.strip() for s in header.split(",") if s.strip()]
    return any(hmac.compare_digest(s.encode(), expected.encode()) for s in given)


@dataclass(frozen=True)
class PdEvent:
    """What Tocsin reads of a v3 webhook."""

    event_type: str
    incident_key: str | None
    pd_number: int | None  # the PagerDuty incident's number (#1234)
    agent_id: str
    agent_name: str


def parse(body: bytes) -> PdEvent:
    """The event of a v3 webhook body; ValueError naming what is missing."""
    data = json.loads(body)
    event = data.get("event") if isinstance(data, dict) else None
    if not isinstance(event, dict) or not isinstance(event.get("event_type"), str):
        raise ValueError("not a v3 webhook: no event.event_type")
    incident = event.get("data")
    incident = incident if isinstance(incident, dict) else {}
    agent = event.get("agent")
    agent = agent if isinstance(agent, dict) else {}
    key, number = incident.get("incident_key"), incident.get("number")
    return PdEvent(
        event["event_type"],
        key if isinstance(key, str) else None,
        number if isinstance(number, int) else None,
        str(agent.get("id") or ""),
        str(agent.get("summary") or "someone"),
    )


def _nobody(pd_user: str, name: str) -> str | None:
    return None


def service_actor(paged: Sequence[str], agent_name: str) -> str:
    """`pagerduty:<service>` for the PagerDuty service paged for the incident (a responder
    then, as anyone paged is), else `pagerduty:<the agent's name>` (holding only the rights
    open to anyone)."""
    prefix = f"{TargetKind.PAGERDUTY.value}:"
    services = [p for p in paged if p.startswith(prefix)]
    return services[0] if services else prefix + " ".join(agent_name.split())[:80]


class PagerDutyWebhooks:
    """Acts on verified v3 webhooks through the engine."""

    def __init__(
        self, engine: Engine, env: Mapping[str, str], slack_user_of: SlackUserOf = _nobody
    ) -> None:
        self.engine, self.secret, self.slack_user_of = engine, env.get(SECRET_ENV), slack_user_of

    def handle(self, method: str, signature: str, body: bytes) -> Answer:
        if method != "POST":
            return 405, {"ok": False, "error": "POST the webhook"}
        if not verified(self.secret, signature, body):
            log.warning("pagerduty_webhook_refused", reason="signature")
            return 401, {"ok": False, "error": f"bad or missing {SIGNATURE_HEADER}"}
        try:
            event = parse(body)
        except ValueError as exc:
            return 400, {"ok": False, "error": str(exc)}
        incident_id = incident_of(event.incident_key)
        if event.event_type not in (ACKNOWLEDGED, RESOLVED) or incident_id is None:
            return 200, {"ok": True, "ignored": "not an acknowledgement or resolve of Tocsin's"}
        try:
            return 200, self._act(incident_id, event)
        except IncidentNotFound:
            return 200, {"ok": True, "ignored": f"no incident {incident_id}"}
        except redis.RedisError as exc:
            log.error("pagerduty_webhook_not_applied", error=type(exc).__name__)
            return 503, {"ok": False, "error": "storage unavailable; retry"}

    def _act(self, incident_id: str, event: PdEvent) -> dict[str, Any]:
        incident = self.engine.store.get(incident_id)
        wanted = Status.ACKNOWLEDGED if event.event_type == ACKNOWLEDGED else Status.RESOLVED
        done = (Status.ACKNOWLEDGED, Status.MITIGATED, Status.RESOLVED)
        if incident.status is wanted or (wanted is Status.ACKNOWLEDGED and incident.status in done):
            return {"ok": True, "ignored": f"already {incident.status.value}"}  # our own echo
        actor = self.slack_user_of(event.agent_id, event.agent_name) or service_actor(
            incident.paged, event.agent_name
        )
        if wanted is Status.ACKNOWLEDGED:
            outcome = self.engine.acknowledge(incident_id, actor)
        else:
            outcome = self.engine.resolve(incident_id, actor)
        verb = "acknowledged" if wanted is Status.ACKNOWLEDGED else "resolved"
        number = f" (#{event.pd_number})" if event.pd_number is not None else ""
        said = f"{event.agent_name} {verb} it in PagerDuty{number}"
        note = said if outcome.ok else f"{said}; not applied here: {outcome.message}"
        self.engine.note(incident_id, actor, note)
        log.info("pagerduty_webhook", incident_id=incident_id, action=verb, ok=outcome.ok)
        return {"ok": outcome.ok, "incident_id": incident_id, "message": outcome.message}
