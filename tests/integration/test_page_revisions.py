"""Page DMs follow their incident: every DM already sent is rewritten through the outbox when
the incident is acknowledged or resolved, from the incident as it is when the edit is made.
In this process: the real runtime, Redis and the Slack emulator over HTTP (no workers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config.settings import Settings
from bot.domain.outbox import OutboxKind, OutboxStatus
from bot.render.blocks import ACK, ESCALATE
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from bot.sandbox.stack import stack_env
from tests.e2e.support import ROOT, write_config

ALICE, BOB, ERIN = "U0ALICE01", "U0BOB0001", "U0ERIN001"


@pytest.fixture
def slack() -> Iterator[Emulator]:
    emulator = Emulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def rt(redis_url: str, tmp_path: Path, slack: Emulator) -> Runtime:
    env = stack_env(redis_url, slack, write_config(tmp_path / "config"), ROOT / "runbooks", "s")
    return Runtime.build(Settings.from_env(env), owner="test", inline_delivery=False)


def page_dm(slack: Emulator, user: str) -> dict[str, Any]:
    (only,) = slack.dms(user)[user]  # edits rewrite the page; they never post another
    return only


def buttons(message: dict[str, Any]) -> list[str]:
    return [
        element["action_id"]
        for block in message.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def paged(rt: Runtime) -> str:
    """A sev2 on checkout: alice paged by the policy's first step, bob by hand."""
    incident = rt.engine.declare(
        title="Checkout errors", service="checkout", severity="sev2", declared_by=ERIN
    )
    assert rt.channels is not None
    rt.channels.open(incident.id)
    rt.escalation.tick(incident.id, incident.token)
    assert rt.updates.page(incident.id, ERIN, [BOB], "help").ok
    rt.escalation.drain(incident.id)
    return incident.id


class TestPageRevisions:
    def test_ack_then_resolve_rewrite_every_page_dm(self, rt: Runtime, slack: Emulator) -> None:
        """After bob's ack both DMs say so and offer only Escalate; after the resolve, no
        buttons and who resolved it."""
        incident_id = paged(rt)
        assert buttons(page_dm(slack, ALICE)) == [ACK, ESCALATE]
        assert rt.engine.acknowledge(incident_id, BOB).ok
        rt.escalation.drain(incident_id)
        for user in (ALICE, BOB):
            dm = page_dm(slack, user)
            assert "*Acknowledged* by <@U0BOB0001>" in str(dm["blocks"]), user
            assert buttons(dm) == [ESCALATE]
        assert rt.engine.resolve(incident_id, ERIN).ok
        rt.escalation.drain(incident_id)
        for user in (ALICE, BOB):
            dm = page_dm(slack, user)
            assert "*Resolved* by <@U0ERIN001>" in str(dm["blocks"]), user
            assert buttons(dm) == []

    def test_a_retried_or_late_edit_never_shows_an_older_state(
        self, rt: Runtime, slack: Emulator
    ) -> None:
        """The ack's edit was attempted by a worker that died; the resolve commits; a drain
        that read the incident before the resolve runs both edits: the DMs end resolved,
        and each edit is recorded sent once."""
        incident_id = paged(rt)
        acked = rt.engine.acknowledge(incident_id, BOB).incident
        (edit,) = [i for i in rt.store.outbox(incident_id) if i.kind is OutboxKind.EDIT]
        edit.attempts = 1  # claimed, attempt recorded, then the worker was killed
        rt.store.save_outbox_item(incident_id, edit)
        assert rt.engine.resolve(incident_id, ERIN).ok
        stale = {incident_id: acked}  # what a worker read before the resolve committed
        drained = rt.escalation.delivery.drain_many([incident_id], stale)
        assert drained.failures == {}
        for user in (ALICE, BOB):
            dm = page_dm(slack, user)
            assert "*Resolved* by <@U0ERIN001>" in str(dm["blocks"]), user
            assert buttons(dm) == []
        edits = [i for i in rt.store.outbox(incident_id) if i.kind is OutboxKind.EDIT]
        assert [(i.status, i.attempts) for i in edits] == [
            (OutboxStatus.SENT, 2),
            (OutboxStatus.SENT, 1),
        ]
