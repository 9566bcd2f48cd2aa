"""Outside alerts that follow Tocsin's incident: each PagerDuty service a policy step
notified has its alert (dedup key `tocsin/<incident>`) acknowledged when the incident is
acknowledged and resolved when it is resolved, by whatever path (a button, a command, an
inbound acknowledgement).

Each is an outbox item (`OutboxKind.FOLLOW`) queued in the same transaction as the change,
so it is retried and sent once like a page. Every service paged is told, whether or not its
trigger went out (an acknowledgement raced it): PagerDuty drops an event for a dedup key
with no open alert. PagerDuty's own webhook echoing the change back finds the incident
already so and changes nothing (`bot.inbound.pagerduty`).
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.incident import Incident, Status
from bot.domain.outbox import OutboxKind
from bot.domain.policy import TargetKind, service_target
from bot.state.store import OutboxItem

ACKNOWLEDGE, RESOLVE = "acknowledge", "resolve"


def follow_action(before: Status, after: Status) -> str | None:
    """What a change of the incident from `before` to `after` asks of PagerDuty: acknowledge
    (first taken in hand, or mitigated while still triggered), resolve, or nothing."""
    if before is after:
        return None
    if after is Status.RESOLVED:
        return RESOLVE
    if before is Status.TRIGGERED and after in (Status.ACKNOWLEDGED, Status.MITIGATED):
        return ACKNOWLEDGE
    return None


def follow_items(before: Incident, after: Incident, now: datetime, tag: str) -> list[OutboxItem]:
    """The outbox items that tell each PagerDuty service paged for the incident how it moved
    on; `tag` makes their keys unique to this change (the same across WATCH retries)."""
    action = follow_action(before.status, after.status)
    if action is None:
        return []
    return [
        OutboxItem(
            key=f"follow:{tag}:{action}:{paged}",
            kind=OutboxKind.FOLLOW,
            to=paged,
            text=action,
            created_at=now.timestamp(),
            method=service.kind.value,
            address=service.ref,
        )
        for paged in after.paged
        if (service := service_target(paged)) is not None and service.kind is TargetKind.PAGERDUTY
    ]
