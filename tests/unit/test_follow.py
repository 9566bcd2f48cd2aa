"""What PagerDuty is told when Tocsin's incident moves, and how a service paged reads."""

from __future__ import annotations

import pytest

from bot.domain.incident import Status
from bot.incident.follow import follow_action
from bot.render import messages


@pytest.mark.parametrize(
    ("before", "after", "action"),
    [
        (Status.TRIGGERED, Status.ACKNOWLEDGED, "acknowledge"),
        (Status.TRIGGERED, Status.MITIGATED, "acknowledge"),
        (Status.ACKNOWLEDGED, Status.MITIGATED, None),  # PagerDuty's alert is acknowledged
        (Status.ACKNOWLEDGED, Status.RESOLVED, "resolve"),
        (Status.TRIGGERED, Status.RESOLVED, "resolve"),
        (Status.RESOLVED, Status.TRIGGERED, None),  # a reopen pages again by its own trigger
        (Status.ACKNOWLEDGED, Status.ACKNOWLEDGED, None),
    ],
)
def test_acknowledge_on_first_hands_on_and_resolve_on_resolve(
    before: Status, after: Status, action: str | None
) -> None:
    """The change of status alone says what PagerDuty's alert must do."""
    assert follow_action(before, after) == action


def test_a_service_paged_is_named_as_a_service_never_as_a_mention() -> None:
    """`pagerduty:ops` reads `PagerDuty service ops`, `webhook:a<b` escaped; a person stays
    a mention; the timeline line of a page says `notified` for a service."""
    assert messages.recipient("pagerduty:ops") == "PagerDuty service ops"
    assert messages.recipient("webhook:a<b") == "webhook a&lt;b"
    assert messages.recipient("U0ALICE01") == "<@U0ALICE01>"
    how = messages.page_how("page:1:0:pagerduty:ops", 1, 0, "pagerduty:ops")
    assert messages.paged_line("pagerduty:ops", "pagerduty", how) == (
        "notified PagerDuty service ops (step 2, via PagerDuty service ops)"
    )
    assert messages.paged_line("U1", "sms", "step 1") == "paged <@U1> by sms (step 1)"
