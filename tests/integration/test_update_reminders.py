"""Overdue status-update reminders on a real Redis, in-process with frozen time: who is asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from bot.runtime import Runtime

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)


def second_reminder(runtime: Runtime, comms: str | None) -> str:
    """Declare a sev2 (30 min cadence) and run the stage-2 reminder 15 minutes after it is due."""
    with freeze_time(T0):
        inc = runtime.engine.declare(
            title="Checkout errors", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        if comms:
            assert runtime.engine.assign_role(inc.id, "U0ERIN001", "comms", comms).ok
    token = runtime.store.get(inc.id).update_token
    with freeze_time(T0 + timedelta(minutes=46)):
        assert runtime.updates.remind(inc.id, token, 2) == "reminded"
    (item,) = [i for i in runtime.store.outbox(inc.id) if i.key == f"remind:{token}:2"]
    return item.text


class TestSecondReminder:
    def test_without_a_comms_lead_the_commander_is_not_called_comms_lead(
        self, runtime: Runtime
    ) -> None:
        text = second_reminder(runtime, comms=None)
        assert "<@U0ERIN001>" in text
        assert "comms lead" not in text
        assert "Please post one now with `/incident update`" in text

    def test_with_a_comms_lead_the_comms_lead_is_asked_as_such(self, runtime: Runtime) -> None:
        text = second_reminder(runtime, comms="U0BOB0001")
        assert text.startswith(":alarm_clock: <@U0BOB0001>,")
        assert "As comms lead, please post one with `/incident update`" in text
