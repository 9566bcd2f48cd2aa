"""What a timer job did: it logs this and returns it (rq keeps it as the job's result)."""

from __future__ import annotations

from enum import StrEnum


class JobOutcome(StrEnum):
    STEPPED = "stepped"  # an escalation step was taken
    MOVED_ON = "moved_on"  # escalation had already left the step the job was about
    REMINDED = "reminded"  # the reminder was sent (or queued in the outbox)
    STALE = "stale"  # the job's token is no longer current, or its subject is gone
    NOT_DUE = "not_due"  # the job woke early; its timer is set again
    ALREADY = "already"  # another run of the job is sending the same reminder
