"""Invariant 6, the ways around decision rights: lowering a severity to escape its rights, paging
oneself into `responder`, and buttons or modals forged to name another incident. Every request
goes over signed HTTP to the real `tocsin web`, with workers and the Slack emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis

from bot.domain.timeline import Kind
from bot.render.blocks import ACK, ESCALATE, RESOLVE, UPDATE
from bot.state import counters
from bot.state.store import Store
from tests.e2e.support import ROOT, Stack, wait_for
from tests.e2e.test_declare_flow import texts
from tests.reliability.conftest import MakeStack
from tests.reliability.slack_helpers import click, declare, ephemeral_texts, header

pytestmark = pytest.mark.integration

FRANK, DAVE, ERIN, ALICE = "U0FRANK01", "U0DAVE001", "U0ERIN001", "U0ALICE01"
SECRET_TITLE = "Tenant rows exposed qv83"
UPDATE_VALUES = {
    "status": "identified",
    "symptoms": "forged symptoms",
    "actions": "a",
    "next_steps": "n",
    "next_in": "1800",
}


def shipped_severities(config: Path) -> None:
    """Use the severities.yaml shipped in escalation_policies/, as the issue saw it."""
    (config / "severities.yaml").write_text(
        (ROOT / "escalation_policies" / "severities.yaml").read_text()
    )


def kinds_by(store: Store, incident_id: str, user: str) -> list[Kind]:
    return [e.kind for e in store.timeline(incident_id) if e.actor == user]


def opened_views(stack: Stack, user: str, callback_id: str) -> list[dict[str, Any]]:
    return [v for v in stack.emulator.views(user) if v["callback_id"] == callback_id]


def refusals(stack: Stack, user: str) -> list[str]:
    return [t for t in ephemeral_texts(stack, user) if "belongs to" in t]


def open_view(stack: Stack, user: str, callback_id: str, count: int = 1) -> dict[str, Any]:
    """The `count`-th modal `callback_id` opened for `user`, as the submission payload needs it."""
    entries = wait_for(lambda: opened_views(stack, user, callback_id)[count - 1 :])
    return {**entries[0]["view"], "id": entries[0]["id"]}


def declare_private(stack: Stack, r: redis.Redis, user: str = ALICE) -> tuple[str, str]:
    """Declare a private sev3 through the modal; (incident id, channel id)."""
    store = Store(r)
    before = set(store.open_ids())
    stack.driver().slash(user, "")
    view = open_view(stack, user, "declare_incident")
    stack.driver().submit_view(
        user,
        view,
        {
            "title": SECRET_TITLE,
            "service": "checkout",
            "users_affected": "none",
            "severity": "sev3",
            "private": ["private"],
        },
    )
    (incident_id,) = wait_for(lambda: set(store.open_ids()) - before, timeout=10)
    channel = wait_for(lambda: store.get(incident_id).channel_id, timeout=30)
    wait_for(lambda: stack.emulator.pins(channel), timeout=30)
    return incident_id, channel


class TestSeverityAndResponders:
    def test_frank_cannot_walk_around_the_shipped_sev2_rights(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """The issue's sequence: frank's self-page makes him no responder, so he can neither
        lower the sev2 nor resolve it; the incident stays an open sev2."""
        stack = make_stack(config=shipped_severities)
        incident_id, channel = declare(stack)
        driver = stack.driver()
        replies = [
            driver.slash(FRANK, text, channel_id=channel).text
            for text in ("resolve", f"page <@{FRANK}>", "sev sev3 not that bad", "resolve done")
        ]
        assert "You may not resolve" in replies[0]
        assert "You may not change this incident's severity" in replies[2]
        assert "on sev2 incidents only responders may" in replies[2]
        assert "You may not resolve" in replies[3]
        assert replies[1] == "", replies[1]  # the page itself goes, said in the channel
        said = wait_for(lambda: [t for t in texts(stack, channel) if "no responder rights" in t])
        assert f"<@{FRANK}> paged <@{FRANK}>" in said[0]
        incident = Store(r).get(incident_id)
        assert (incident.severity, incident.is_open) == ("sev2", True)
        assert FRANK in incident.paged
        assert FRANK not in incident.responders()
        assert Kind.REFUSED not in kinds_by(Store(r), incident_id, FRANK)  # refusals write nothing
        refused = {
            (labels["action"], labels["reason"]): value
            for name, labels, value in counters.read(r)
            if name == "refused"
        }
        assert refused == {("resolve", "rights"): 2, ("change_severity", "rights"): 1}

    def test_a_page_by_a_non_responder_grants_nothing_a_responders_page_does(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """frank (page open to anyone) pages dave: dave may not ack; once the commander pages
        dave, he may."""
        stack = make_stack(config=shipped_severities)
        incident_id, channel = declare(stack)
        driver = stack.driver()
        paged = driver.slash(FRANK, f"page <@{DAVE}> help", channel_id=channel).text
        assert "You may not acknowledge" in driver.slash(DAVE, "ack", channel_id=channel).text
        assert paged == ""
        wait_for(lambda: [t for t in texts(stack, channel) if "no responder rights" in t])
        assert (
            "You may not change this incident's severity"
            in driver.slash(DAVE, "sev sev3", channel_id=channel).text
        )
        again = driver.slash(ERIN, f"page <@{DAVE}> please", channel_id=channel).text
        assert again == ""
        acked = driver.slash(DAVE, "ack", channel_id=channel).text
        assert acked == "", acked
        assert Store(r).get(incident_id).acknowledged_by == DAVE

    def test_a_severity_change_needs_the_right_on_both_tiers(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """alice, paged by the policy, holds change_severity on the sev2 but not on sev1
        (commander or engineering managers): raising it is refused; lowering to sev3 is not."""
        stack = make_stack(config=shipped_severities)
        incident_id, channel = declare(stack)
        store = Store(r)
        wait_for(lambda: ALICE in store.get(incident_id).paged, timeout=15)
        driver = stack.driver()
        raised = driver.slash(ALICE, "sev sev1 worse", channel_id=channel).text
        assert "You may not change this incident's severity" in raised
        assert "on sev1 incidents only the commander or <!subteam^S0ENGMGRS> may" in raised
        assert store.get(incident_id).severity == "sev2"
        lowered = driver.slash(ALICE, "sev sev3 recovering", channel_id=channel).text
        assert lowered == "", lowered
        assert store.get(incident_id).severity == "sev3"


class TestForgedInteractions:
    def test_a_header_button_naming_another_incident_is_refused(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """frank's Escalate and Post update on a public incident's header, forged to carry a
        private incident's id: refused, nothing written, no modal showing its title."""
        stack = make_stack()
        public_id, public_channel = declare(stack, "declare sev3 Checkout slow", user=ERIN)
        private_id, _ = declare_private(stack, r)
        store = Store(r)
        message = header(stack, public_channel)
        for action in (ESCALATE, UPDATE, RESOLVE):
            click(stack, FRANK, message, action, value=private_id)
        texts = wait_for(lambda: refusals(stack, FRANK)[2:] and refusals(stack, FRANK), timeout=10)
        assert all(SECRET_TITLE not in t for t in texts)
        assert opened_views(stack, FRANK, "status_update") == []
        assert opened_views(stack, FRANK, "resolve_incident") == []
        assert kinds_by(store, private_id, FRANK) == []
        assert Kind.ESCALATED not in [e.kind for e in store.timeline(private_id)]
        assert r.keys(f"tocsin:idem:act:*:{FRANK}:*") == []  # not even an idempotency key
        # The same buttons carrying their own incident still work.
        click(stack, FRANK, message, UPDATE)
        assert SECRET_TITLE not in str(open_view(stack, FRANK, "status_update"))
        assert public_id in str(open_view(stack, FRANK, "status_update"))

    def test_a_page_dm_button_naming_an_incident_never_paged_to_the_clicker_is_refused(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """frank, paged for the public incident, forges his page DM's Acknowledge to name the
        private one he was never paged for: refused, nothing written."""
        stack = make_stack()
        _, public_channel = declare(stack, "declare sev3 Checkout slow", user=ERIN)
        private_id, _ = declare_private(stack, r)
        stack.driver().slash(ERIN, f"page <@{FRANK}> look", channel_id=public_channel)
        page = wait_for(lambda: stack.emulator.dms(FRANK).get(FRANK), timeout=15)[0]
        click(stack, FRANK, page, ACK, value=private_id)
        wait_for(lambda: refusals(stack, FRANK))
        store = Store(r)
        assert kinds_by(store, private_id, FRANK) == []
        assert store.get(private_id).acknowledged_by is None


class TestForgedModals:
    def test_a_modal_submitted_with_another_incidents_metadata_is_refused(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """frank opens the update and resolve modals of a public incident and submits them with
        private_metadata naming a private one: refused in the modal, nothing written; the
        unforged update goes through."""
        stack = make_stack()
        public_id, public_channel = declare(stack, "declare sev3 Checkout slow", user=ERIN)
        private_id, _ = declare_private(stack, r)
        store = Store(r)
        driver = stack.driver()
        # Paged by the commander, frank is a responder, so the resolve form opens for him.
        driver.slash(ERIN, f"page <@{FRANK}> look", channel_id=public_channel)
        driver.slash(FRANK, "update", channel_id=public_channel)
        update = open_view(stack, FRANK, "status_update")
        click(stack, FRANK, header(stack, public_channel), RESOLVE)
        resolve = open_view(stack, FRANK, "resolve_incident")
        answers = [
            driver.submit_view(FRANK, {**update, "private_metadata": private_id}, UPDATE_VALUES),
            driver.submit_view(
                FRANK,
                {
                    **update,
                    "private_metadata": update["private_metadata"].replace(public_id, private_id),
                },
                UPDATE_VALUES,
            ),
            driver.submit_view(
                FRANK, {**resolve, "private_metadata": private_id}, {"summary": "x"}
            ),
        ]
        for answer in answers:
            assert answer.status == 200
            refused = answer.json or {}  # an accepted submission is answered with no body
            assert refused.get("response_action") == "errors", f"accepted: {answer.text!r}"
            assert "this form" in str(refused["errors"]).lower(), answer.text
        assert kinds_by(store, private_id, FRANK) == []
        incident = store.get(private_id)
        assert (incident.updates, incident.is_open) == (0, True)
        honest = driver.submit_view(FRANK, update, UPDATE_VALUES)
        assert honest.status == 200
        assert not honest.text, honest.text
        wait_for(lambda: store.get(public_id).updates == 1)
