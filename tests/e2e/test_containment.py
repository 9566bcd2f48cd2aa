"""Containment actions end to end: the runbook's button, the signed webhook it sends to the
sandbox's automation receiver over HTTP, and what the thread and the timeline say."""

from __future__ import annotations

import copy
import json
import urllib.request
from typing import Any

import redis

from bot.state import keys
from bot.state.store import Store
from bot.state.timers import Timers, make_queue
from tests.e2e.support import Stack, wait_for
from tests.e2e.test_declare_flow import declare
from tests.reliability.slack_helpers import click, ephemeral_texts

ROLLBACK = "contain:rollback"


def runbook_post(stack: Stack, channel: str) -> dict[str, Any]:
    """The runbook's post in the incident channel (the one carrying the action buttons)."""

    def found() -> dict[str, Any] | None:
        for message in stack.emulator.transcript(channel):
            ids = [
                e.get("action_id")
                for b in message.get("blocks", [])
                for e in b.get("elements", [])
                if isinstance(e, dict)
            ]
            if ROLLBACK in ids:
                return message
        return None

    return wait_for(found)


def replies(stack: Stack, channel: str, ts: str) -> list[str]:
    message = next(m for m in stack.emulator.transcript(channel) if m["ts"] == ts)
    return [r["text"] for r in message.get("replies", [])]


def fail_next(stack: Stack, *statuses: int) -> None:
    body = json.dumps({"statuses": list(statuses)}).encode()
    url = stack.emulator.root_url + "sandbox/automation/fail"
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - the emulator
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - the local emulator
        pass


def timeline_texts(stack: Stack, channel: str) -> list[str]:
    store = Store(redis.Redis.from_url(stack.env["REDIS_URL"], decode_responses=True))
    incident = store.incident_in_channel(channel)
    assert incident is not None
    return [e.text for e in store.timeline(incident.id) if e.kind.value == "containment"]


class TestContainmentButton:
    def test_a_click_sends_one_signed_webhook_and_tells_the_outcome(self, stack: Stack) -> None:
        """The commander's click lands once at the receiver, signed; the thread and the
        timeline say HTTP 200; the body carries the runbook's params."""
        cid = declare(stack)
        post = runbook_post(stack, cid)
        button = post["blocks"][-1]["elements"][0]
        assert button["confirm"]["text"]["text"].startswith("Roll checkout back")
        assert click(stack, "U0ERIN001", post, ROLLBACK).status == 200
        said = wait_for(lambda: replies(stack, cid, post["ts"]))
        assert said[0].startswith(":white_check_mark: *Roll back checkout*: HTTP 200")
        arrivals = stack.emulator.automation.snapshot()
        assert len(arrivals) == 1
        assert arrivals[0]["signed"]
        assert arrivals[0]["effect"]
        assert arrivals[0]["body"]["params"] == {"service": "checkout", "target": "previous"}
        assert arrivals[0]["body"]["requested_by"] == "U0ERIN001"
        recorded = timeline_texts(stack, cid)
        assert any("run by <@U0ERIN001>" in t for t in recorded)
        assert any("HTTP 200" in t for t in recorded)

    def test_5xx_then_200_is_retried_to_one_effect(self, stack: Stack) -> None:
        """Two 503s then a 200: three arrivals under one idempotency key, one effect."""
        cid = declare(stack)
        post = runbook_post(stack, cid)
        fail_next(stack, 503, 503)
        click(stack, "U0ERIN001", post, ROLLBACK)
        said = wait_for(lambda: replies(stack, cid, post["ts"]), timeout=20)
        assert "HTTP 200 after 3 attempts" in said[0]
        arrivals = stack.emulator.automation.snapshot()
        assert [a["status"] for a in arrivals] == [503, 503, 200]
        assert len({a["key"] for a in arrivals}) == 1
        assert [a["effect"] for a in arrivals] == [False, False, True]

    def test_without_the_contain_right_nothing_is_sent(self, stack: Stack) -> None:
        """Somebody who is not a responder is refused, naming the rule; the receiver hears nothing."""
        cid = declare(stack)
        post = runbook_post(stack, cid)
        click(stack, "U0GRACE01", post, ROLLBACK)
        refused = wait_for(lambda: ephemeral_texts(stack, "U0GRACE01"))
        assert "run this incident's containment actions" in refused[-1]
        assert "contain" in refused[-1]
        assert stack.emulator.automation.snapshot() == []

    def test_a_repeat_within_the_window_asks_again_then_runs(self, stack: Stack) -> None:
        """A second press within the window asks; a third runs it again: two effects in all."""
        cid = declare(stack)
        post = runbook_post(stack, cid)
        click(stack, "U0ERIN001", post, ROLLBACK)
        wait_for(lambda: replies(stack, cid, post["ts"]))
        click(stack, "U0ERIN001", post, ROLLBACK)
        asked = wait_for(lambda: ephemeral_texts(stack, "U0ERIN001"))
        assert "press it again to run it again" in asked[-1]
        assert len(stack.emulator.automation.snapshot()) == 1
        click(stack, "U0ERIN001", post, ROLLBACK)
        wait_for(lambda: len(replies(stack, cid, post["ts"])) == 2 or None)
        assert [a["effect"] for a in stack.emulator.automation.snapshot()] == [True, True]

    def test_forged_values_are_refused(self, stack: Stack) -> None:
        """A value naming another incident, or an action not in the runbook, sends nothing."""
        cid = declare(stack)
        post = runbook_post(stack, cid)
        other = "2020-01-01-1|rollback"
        click(stack, "U0ERIN001", post, ROLLBACK, value=other)
        incident_id = post["blocks"][-1]["elements"][0]["value"].split("|")[0]
        forged = copy.deepcopy(post)  # a crafted payload: a button the runbook never had
        forged["blocks"][-1]["elements"][0]["action_id"] = "contain:drop-db"
        click(stack, "U0ERIN001", forged, "contain:drop-db", value=f"{incident_id}|drop-db")
        wait_for(lambda: len(ephemeral_texts(stack, "U0ERIN001")) >= 2 or None)
        told = ephemeral_texts(stack, "U0ERIN001")
        assert "belongs to another incident" in told[0]
        assert "not in this incident's runbook" in told[1]
        assert stack.emulator.automation.snapshot() == []

    def test_a_run_retried_after_a_crash_mid_send_is_not_sent_again(self, stack: Stack) -> None:
        """A run whose marker says it began sending (the worker died before recording) is
        said to have been interrupted, and the receiver hears nothing more."""
        cid = declare(stack)
        post = runbook_post(stack, cid)
        conn = redis.Redis.from_url(stack.env["REDIS_URL"], decode_responses=True)
        incident = Store(conn).incident_in_channel(cid)
        assert incident is not None
        conn.set(keys.containment_send("crashed-run"), "sending")
        timers = Timers(make_queue(redis.Redis.from_url(stack.env["REDIS_URL"]), "tocsin"))
        timers.run_containment(incident.id, "rollback", "crashed-run", "U0ERIN001", post["ts"])
        said = wait_for(lambda: replies(stack, cid, post["ts"]))
        assert "was interrupted after it began sending, so it was not sent again" in said[0]
        assert stack.emulator.automation.snapshot() == []
