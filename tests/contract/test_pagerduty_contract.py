"""Tocsin's PagerDuty parts against PagerDuty's published descriptions (pagerduty_published.json
says where each fact comes from): what the pagerduty method sends, what the sandbox's
emulator answers and sends back, and the v3 signature scheme the web edge checks."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.domain.services import OutsideServices, PagerDutyService
from bot.inbound.pagerduty import SIGNATURE_HEADER, parse, verified
from bot.notify import Notice
from bot.notify.pagerduty import EVENTS_URL_ENV, PagerDutyEvents, dedup_key
from bot.sandbox.pagerduty import problems
from tests.pd_emulator import KEY, running_pagerduty
from tests.receiver import Receiver

PUBLISHED = json.loads((Path(__file__).with_name("pagerduty_published.json")).read_text())
EVENTS, HOOKS = PUBLISHED["events_v2"], PUBLISHED["webhooks_v3"]


def conforms(value: dict[str, Any], properties: list[str], required: list[str]) -> None:
    """`value` uses only the published fields and has every required one."""
    assert set(value) <= set(properties), set(value) - set(properties)
    assert set(required) <= set(value), set(required) - set(value)


def post_json(url: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310  # the test's own local server
        url, json.dumps(data).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def sent_events(receiver: Receiver) -> list[dict[str, Any]]:
    receiver.statuses.extend([202, 202, 202])
    services = OutsideServices(pagerduty={"ops": PagerDutyService("ops", "KEY_ENV")})
    method = PagerDutyEvents.from_env(services, {"KEY_ENV": KEY, EVENTS_URL_ENV: receiver.url})
    notice = Notice("2026-11-27-9", "page:1", "Disk full", "sev3", "storage", "SEV3 Disk full")
    method.send(notice, "ops")
    method.acknowledge("ops", "2026-11-27-9")
    method.resolve("ops", "2026-11-27-9")
    assert [r.path for r in receiver.requests] == [EVENTS["path"]] * 3
    return [json.loads(r.body) for r in receiver.requests]


class TestWhatTocsinSends:
    def test_events_use_the_published_fields_and_values(self, receiver: Receiver) -> None:
        """Trigger, acknowledge and resolve bodies fit the Events v2 request and Payload schemas."""
        trigger, ack, resolve = sent_events(receiver)
        request = EVENTS["request"]
        for event in (trigger, ack, resolve):
            conforms(event, request["properties"], request["required"])
            assert event["dedup_key"] == dedup_key("2026-11-27-9")  # one key for all three
        assert [e["event_action"] for e in (trigger, ack, resolve)] == request["event_action"]
        payload = EVENTS["payload"]
        conforms(trigger["payload"], payload["properties"], payload["required"])
        assert trigger["payload"]["severity"] in payload["severity"]
        assert "payload" not in ack
        assert "payload" not in resolve


class TestTheEmulator:
    def test_answers_have_the_published_shapes(self) -> None:
        """202 success, 400 error with `errors`, and 429 come back as Events v2 documents them."""
        with running_pagerduty() as (emulator, url):
            good = {
                "routing_key": KEY,
                "event_action": "trigger",
                "payload": {"summary": "s", "source": "h", "severity": "info"},
            }
            status, body = post_json(url + EVENTS["path"], good)
            assert status == EVENTS["success"]["status"]
            conforms(body, EVENTS["success"]["properties"], EVENTS["success"]["required"])
            assert body["dedup_key"]  # made up when the trigger gave none
            status, body = post_json(url + EVENTS["path"], {"event_action": "acknowledge"})
            assert status == 400
            conforms(body, EVENTS["error"]["properties"], EVENTS["error"]["required"])
            assert body["errors"]
            emulator.faults.add("429", method="enqueue", nth=1)
            status, _ = post_json(url + EVENTS["path"], good)
            assert status == 429
            assert EVENTS["retry"]["429"]  # the published table: retry a 429

    @pytest.mark.parametrize(
        ("event", "why"),
        [
            ({"routing_key": KEY, "event_action": "snooze", "dedup_key": "k"}, "event_action"),
            ({"routing_key": KEY, "event_action": "resolve"}, "dedup_key"),
            ({"routing_key": "short", "event_action": "resolve", "dedup_key": "k"}, "routing_key"),
            (
                {
                    "routing_key": KEY,
                    "event_action": "trigger",
                    "payload": {"summary": "s", "source": "h", "severity": "fatal"},
                },
                "severity",
            ),
        ],
    )
    def test_refuses_what_the_schema_refuses(self, event: dict[str, Any], why: str) -> None:
        assert any(why in p for p in problems(event))

    def test_its_v3_webhook_has_the_published_envelope_and_signature(
        self, receiver: Receiver
    ) -> None:
        """Acting in the emulator sends `{event: {..., data: incident}}`, signed v1=HMAC(body)."""
        with running_pagerduty(webhook_url=receiver.url + "/in", webhook_secret="s3") as (
            emulator,
            url,
        ):
            services = OutsideServices(pagerduty={"ops": PagerDutyService("ops", "K")})
            method = PagerDutyEvents.from_env(services, {"K": KEY, EVENTS_URL_ENV: url})
            method.send(Notice("2026-11-27-9", "p", "T", "sev1", "s", "S"), "ops")
            [incident] = emulator.by_key(dedup_key("2026-11-27-9"))
            assert emulator.act(incident.id, "acknowledge", "Dana Example") is not None
        [got] = receiver.requests
        data = json.loads(got.body)
        assert set(data) == set(HOOKS["envelope"])
        event = data["event"]
        assert set(event) == set(HOOKS["event"])
        assert set(event["agent"]) == set(HOOKS["agent"])
        assert set(HOOKS["incident"]) <= set(event["data"])
        assert event["event_type"] in HOOKS["event_types"]
        assert event["data"]["status"] in HOOKS["incident_status"]
        headers = {k.lower(): v for k, v in got.headers.items()}  # names are case-insensitive
        header = headers[HOOKS["signature_header"].lower()]
        mac = hmac.new(b"s3", got.body, hashlib.sha256).hexdigest()
        assert header == HOOKS["signature_prefix"] + mac
        read = parse(got.body)
        assert (read.event_type, read.incident_key) == (
            "incident.acknowledged",
            dedup_key("2026-11-27-9"),
        )


class TestTheSignatureTocsinChecks:
    def test_one_of_several_listed_signatures_is_enough(self) -> None:
        """PagerDuty lists one v1= per active secret, comma-separated, while rotating."""
        assert HOOKS["signature_header"] == SIGNATURE_HEADER
        body = b'{"event": {}}'
        good = "v1=" + hmac.new(b"new", body, hashlib.sha256).hexdigest()
        old = "v1=" + hmac.new(b"old", body, hashlib.sha256).hexdigest()
        assert verified("new", f"{old},{good}", body)
        assert verified("new", good, body)
        assert not verified("new", old, body)
        assert not verified("new", good.replace("v1=", "v0="), body)
        assert not verified(None, good, body)
        assert not verified("new", "", body)
