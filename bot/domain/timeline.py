"""Kinds of entries on an incident's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

BOT = "tocsin"  # the actor of the entries the bot itself writes
TIMELINE_MAX = 5000  # entries an incident's timeline keeps; the oldest are dropped first


class Kind(StrEnum):
    DECLARED = "declared"
    ESCALATION_STEP = (
        "escalation_step"  # a step fell due (or was escalated to) and pages were ordered
    )
    PAGED = "paged"  # one page delivered
    PAGE_FAILED = "page_failed"
    STEP_SKIPPED = "step_skipped"
    EXHAUSTED = "exhausted"
    ANNOUNCED = "announced"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"  # manual escalation
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    SEVERITY_CHANGED = "severity_changed"
    REROUTED = "rerouted"  # a severity change selected another policy
    REFUSED = "refused"  # an action refused by decision rights
    NOTE = "note"
    ROLE_ASSIGNED = "role_assigned"
    STATUS_UPDATE = "status_update"
    REMINDED = "reminded"  # a status update was overdue and somebody was reminded
    PAGE_REQUESTED = "page_requested"  # somebody paged people by hand (/incident page)
    CHANNEL_OPENED = "channel_opened"
    RECONCILED = "reconciled"  # a lost timer rebuilt
    MILESTONE_CORRECTED = "milestone_corrected"  # a commander corrected ack/mitigated/resolved
    REVIEW_DUE = "review_due"  # the post-incident review window opened (on resolve)
    REVIEW_DONE = "review_done"
    ACTION_ADDED = "action_added"  # a follow-up action item
    ACTION_CLOSED = "action_closed"
    CONTAINMENT = "containment"  # a runbook's containment action asked for, or its outcome


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: Kind
    actor: str  # a user id, or BOT for the bot itself
    text: str
