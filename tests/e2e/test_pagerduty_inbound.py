"""Acknowledged in PagerDuty, acknowledged in Tocsin: the sandbox's PagerDuty sends a signed
v3 webhook to the running `tocsin web`, which acknowledges the incident through the engine,
under the tier's rights; a forged signature gets 401 and changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request

import pytest

from bot.domain.incident import Status
from bot.domain.services import OutsideServices, PagerDutyService
from bot.notify import Notice
from bot.notify.pagerduty import EVENTS_URL_ENV, PagerDutyEvents, dedup_key
from bot.sandbox.pagerduty import PdIncident, v3_webhook
from bot.state.server import connect
from bot.state.store import Store
from tests.e2e.support import Stack
from tests.e2e.test_declare_flow import declare

WEBHOOK_SECRET = "pd-e2e-webhook-secret"
ROUTING_KEY = "c" * 32


@pytest.fixture
def stack_settings() -> dict[str, str]:
    return {"TOCSIN_PAGERDUTY_WEBHOOK_SECRET": WEBHOOK_SECRET}


def paged_in_pagerduty(stack: Stack, redis_url: str) -> tuple[Store, str, PdIncident]:
    """A sev3 incident (anyone may acknowledge it; only its commander resolve) whose alert
    the pagerduty method triggered in the sandbox's PagerDuty, which posts its webhooks to
    the stack's web process."""
    cid = declare(stack, "declare sev3 Disk full on db-1")
    store = Store(connect(redis_url))
    incident = store.incident_in_channel(cid)
    assert incident is not None
    pagerduty = stack.emulator.pagerduty
    pagerduty.webhook_url, pagerduty.webhook_secret = (
        stack.url + "/notify/pagerduty",
        WEBHOOK_SECRET,
    )
    services = OutsideServices(pagerduty={"ops": PagerDutyService("ops", "KEY")})
    env = {"KEY": ROUTING_KEY, EVENTS_URL_ENV: stack.emulator.pagerduty_url}
    notice = Notice(incident.id, "k", incident.title, "sev3", incident.service, "SEV3")
    PagerDutyEvents.from_env(services, env).send(notice, "ops")
    [pd_incident] = pagerduty.by_key(dedup_key(incident.id))
    return store, incident.id, pd_incident


def post_forged(stack: Stack, pd_incident: PdIncident) -> list[int]:
    """The statuses `tocsin web` answers a webhook signed with the wrong secret, and unsigned."""
    body = json.dumps(v3_webhook(pd_incident, "incident.acknowledged", "Mallory")).encode()
    forged = "v1=" + hmac.new(b"not-the-secret", body, hashlib.sha256).hexdigest()
    statuses = []
    for headers in ({"X-PagerDuty-Signature": forged}, {}):
        request = urllib.request.Request(  # noqa: S310  # the stack's own web process
            stack.url + "/notify/pagerduty",
            body,
            {"Content-Type": "application/json", **headers},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)  # noqa: S310
        statuses.append(refused.value.code)
    return statuses


class TestPagerDutyWebhooksIn:
    def test_a_signed_acknowledgement_acknowledges_and_a_forged_one_changes_nothing(
        self, stack: Stack, redis_url: str
    ) -> None:
        """A forged or unsigned webhook gets 401; PagerDuty's signed incident.acknowledged acks
        the incident, with a timeline note naming who pressed it there."""
        store, incident_id, pd_incident = paged_in_pagerduty(stack, redis_url)
        assert post_forged(stack, pd_incident) == [401, 401]
        assert store.get(incident_id).status is Status.TRIGGERED
        assert not [e.text for e in store.timeline(incident_id) if "PagerDuty" in e.text]

        sent = stack.emulator.pagerduty.act(pd_incident.id, "acknowledge", "Dana Example")
        assert sent == {"event_type": "incident.acknowledged", "status": 200}
        incident = store.get(incident_id)
        assert incident.status is Status.ACKNOWLEDGED
        assert incident.acknowledged_by == "pagerduty:Dana Example"
        texts = [e.text for e in store.timeline(incident_id)]
        assert "acknowledged by Dana Example (PagerDuty)" in texts
        noted = f"Dana Example acknowledged it in PagerDuty (#{pd_incident.number})"
        assert len([t for t in texts if noted in t]) == 1

        # the same news again (as PagerDuty echoes Tocsin's own acknowledge) changes nothing
        again = stack.emulator.pagerduty.act(pd_incident.id, "acknowledge", "Dana Example")
        assert again == {"event_type": "incident.acknowledged", "status": 200}
        assert len([e for e in store.timeline(incident_id) if "PagerDuty" in e.text]) == 2

    def test_a_resolve_without_the_right_is_refused_and_said(
        self, stack: Stack, redis_url: str
    ) -> None:
        """A PagerDuty user unknown to Slack holds no sev3 resolve right (responders only), as
        a click would not: the incident stays open and the timeline says why."""
        store, incident_id, pd_incident = paged_in_pagerduty(stack, redis_url)
        sent = stack.emulator.pagerduty.act(pd_incident.id, "resolve", "Dana Example")
        assert sent == {"event_type": "incident.resolved", "status": 200}
        assert store.get(incident_id).status is Status.TRIGGERED
        notes = [e.text for e in store.timeline(incident_id)]
        assert any("resolved it in PagerDuty" in t and "not applied here" in t for t in notes)
