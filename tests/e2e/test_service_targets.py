"""A policy step that names services outside Slack: `pagerduty:ops` triggers one alert in
the sandbox's PagerDuty (dedup key per incident) that follows the incident's ack and
resolve, and PagerDuty's webhook echoing that ack back changes nothing; `webhook:audit`
gets one signed POST. The real stack: `tocsin web`, an rq worker, the Slack emulator, the
sandbox's PagerDuty, a local HTTP receiver."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from bot.domain.outbox import OutboxKind, OutboxStatus
from bot.notify.pagerduty import dedup_key
from bot.notify.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify
from bot.sandbox.pagerduty import PdIncident
from bot.state.server import connect
from bot.state.store import Store
from tests.e2e.support import Stack, wait_for
from tests.e2e.test_declare_flow import declare, texts
from tests.receiver import Receiver

ALICE, ERIN = "U0ALICE01", "U0ERIN001"
ROUTING_KEY = "d" * 32
HOOK_SECRET = "audit-hook-secret"
PD_WEBHOOK_SECRET = "pd-services-webhook-secret"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def stack_settings() -> dict[str, str]:
    return {
        "TOCSIN_PD_OPS_KEY": ROUTING_KEY,
        "TOCSIN_WEBHOOK_AUDIT_SECRET": HOOK_SECRET,
        "TOCSIN_PAGERDUTY_WEBHOOK_SECRET": PD_WEBHOOK_SECRET,
    }


@pytest.fixture
def stack_policies(receiver: Receiver) -> dict[str, str]:
    """Step 1 alice (2 s), step 2 the ops PagerDuty service and the audit webhook."""
    policy = """\
name: checkout
services: [checkout]
steps:
  - notify: [user:U0ALICE01]
    wait: 2s
  - notify: [pagerduty:ops, webhook:audit]
    wait: 5m
repeat: 0
fallback_channel: C0INCIDENTS
"""
    services = f"""\
pagerduty:
  ops: {{routing_key_env: TOCSIN_PD_OPS_KEY}}
webhooks:
  audit: {{url: "{receiver.url}/hook", secret_env: TOCSIN_WEBHOOK_AUDIT_SECRET}}
"""
    return {"checkout.yaml": policy, "services.yaml": services}


def triggered(stack: Stack) -> tuple[Store, str, PdIncident]:
    """Declare; once step 1 went unanswered, the one PagerDuty incident step 2 triggered."""
    cid = declare(stack)
    store = Store(connect(stack.env["REDIS_URL"]))
    incident = store.incident_in_channel(cid)
    assert incident is not None
    pagerduty = stack.emulator.pagerduty
    [pd_incident] = wait_for(lambda: pagerduty.by_key(dedup_key(incident.id)), timeout=10)
    return store, cid, pd_incident


def step_two(store: Store, incident_id: str) -> dict[str, object]:
    return {
        i.key: (i.method, i.address, i.status)
        for i in store.outbox(incident_id)
        if i.kind is OutboxKind.PAGE and i.step == 1
    }


class TestServiceTargets:
    def test_pagerduty_is_triggered_once_then_follows_ack_and_resolve(
        self, stack: Stack, receiver: Receiver
    ) -> None:
        """No ack: step 2 triggers one PagerDuty alert keyed by the incident, said as the
        service on the timeline (never a Slack mention); alice's ack in Slack acknowledges it,
        PagerDuty's echo of that ack changes nothing, the commander's resolve resolves it."""
        store, cid, pd_incident = triggered(stack)
        incident = store.incident_in_channel(cid)
        assert incident is not None
        wait_for(lambda: len(receiver.requests) == 1, timeout=10)
        sent = {
            "page:1:0:pagerduty:ops": ("pagerduty", "ops", OutboxStatus.SENT),
            "page:1:0:webhook:audit": ("webhook", "audit", OutboxStatus.SENT),
        }
        # the receiver has the POST a moment before the worker records it sent
        wait_for(lambda: step_two(store, incident.id) == sent, timeout=10)
        assert (pd_incident.status, pd_incident.events) == ("triggered", ["trigger"])
        timeline = [e.text for e in store.timeline(incident.id)]
        assert "step 2: paging PagerDuty service ops, webhook audit" in timeline
        assert "notified PagerDuty service ops (step 2, via PagerDuty service ops)" in timeline
        assert "<@pagerduty:" not in json.dumps(timeline + texts(stack, cid))

        page = stack.emulator.dms(ALICE)[ALICE][0]
        clicked = stack.driver().click(ALICE, page, "incident_ack", channel_id=page["channel"])
        assert clicked.status == 200
        wait_for(lambda: pd_incident.status == "acknowledged", timeout=10)
        pagerduty = stack.emulator.pagerduty
        pagerduty.webhook_url = stack.url + "/notify/pagerduty"
        pagerduty.webhook_secret = PD_WEBHOOK_SECRET
        before = len(store.timeline(incident.id))
        echo = pagerduty.act(pd_incident.id, "acknowledge", "Alice in PagerDuty")
        assert echo == {"event_type": "incident.acknowledged", "status": 200}
        after = store.get(incident.id)
        assert (after.acknowledged_by, len(store.timeline(incident.id))) == (ALICE, before)

        resolved = stack.driver().slash(ERIN, "resolve rolled back", channel_id=cid)
        assert resolved.status == 200
        wait_for(lambda: pd_incident.status == "resolved", timeout=10)
        assert pd_incident.events == ["trigger", "acknowledge", "resolve"]
        assert len(pagerduty.by_key(dedup_key(incident.id))) == 1
        assert len(receiver.requests) == 1  # the webhook is notified once, not of the moves

    def test_the_webhook_gets_one_signed_post_naming_no_person(
        self, stack: Stack, receiver: Receiver
    ) -> None:
        """The audit webhook's POST verifies with its secret, carries the page's incident and
        outbox key as its Idempotency-Key, and names no Slack user nor a code to reply with."""
        store, cid, _ = triggered(stack)
        incident = store.incident_in_channel(cid)
        assert incident is not None
        [post] = wait_for(lambda: receiver.requests, timeout=10)
        headers = {k.lower(): v for k, v in post.headers.items()}
        assert (post.method, post.path) == ("POST", "/hook")
        assert verify(HOOK_SECRET, headers[SIGNATURE_HEADER.lower()], post.body, time.time())
        assert not verify("another", headers[SIGNATURE_HEADER.lower()], post.body, time.time())
        assert headers[IDEMPOTENCY_HEADER.lower()] == f"{incident.id}:page:1:0:webhook:audit"
        body = json.loads(post.body)
        assert (body["incident_id"], body["user"]) == (incident.id, None)
        assert body["title"] == "Checkout errors"
        assert body["summary"].endswith("Acknowledge in Slack.")  # no reply code to a service


class TestServiceUnreachable:
    @pytest.fixture
    def stack_settings(self) -> dict[str, str]:
        return {"TOCSIN_PD_OPS_KEY": "too-short"}  # PagerDuty answers 400: never deliverable

    @pytest.fixture
    def stack_policies(self) -> dict[str, str]:
        """Step 1 the ops PagerDuty service alone (5 m), step 2 bob."""
        policy = """\
name: checkout
services: [checkout]
steps:
  - notify: [pagerduty:ops]
    wait: 5m
  - notify: [user:U0BOB0001]
    wait: 5m
repeat: 0
fallback_channel: C0INCIDENTS
"""
        services = "pagerduty:\n  ops: {routing_key_env: TOCSIN_PD_OPS_KEY}\n"
        return {"checkout.yaml": policy, "services.yaml": services}

    def test_a_service_refusing_for_good_is_said_unreachable_and_its_step_skipped(
        self, stack: Stack
    ) -> None:
        """A step of a service alone is paged (not "resolved to nobody"); PagerDuty refusing
        the event is said in the incident and fallback channels as for a person nobody could
        reach, and bob is paged at once instead of after the step's 5 minutes."""
        cid = declare(stack)
        said = "Could not reach PagerDuty service ops by any method"
        wait_for(lambda: [t for t in texts(stack, cid) if said in t], timeout=10)
        wait_for(lambda: [t for t in texts(stack, "C0INCIDENTS") if said in t], timeout=10)
        wait_for(lambda: stack.emulator.dms("U0BOB0001").get("U0BOB0001"), timeout=10)
        store = Store(connect(stack.env["REDIS_URL"]))
        incident = store.incident_in_channel(cid)
        assert incident is not None
        timeline = [e.text for e in store.timeline(incident.id)]
        assert "step 1: paging PagerDuty service ops" in timeline
        assert "step 1: nobody could be reached, skipped" in timeline
        assert not [t for t in timeline if "resolved to nobody" in t or "<@pagerduty:" in t]
        assert [t for t in timeline if t.startswith("could not notify PagerDuty service ops: ")]
