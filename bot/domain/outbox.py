"""What an outbox item is and where it stands (the values stored in its JSON)."""

from __future__ import annotations

from enum import StrEnum


class OutboxKind(StrEnum):
    PAGE = "page"  # a DM to one person
    ANNOUNCE = "announce"  # a post in a channel (the incident's, stakeholders', ...)
    # Bring the incident's page DMs already sent up to date with it (who acknowledged or
    # resolved it, which buttons still apply): each is rewritten from the incident as it is
    # when the edit is made, so a retried or late edit never shows an older state.
    EDIT = "edit"
    # Tell an outside service a step notified how the incident moved on (PagerDuty's alert
    # acknowledged or resolved with Tocsin's incident): `text` is the action.
    FOLLOW = "follow"


class OutboxStatus(StrEnum):
    PENDING = "pending"  # owed: a drain delivers it
    SENT = "sent"
    FAILED = "failed"  # can never be delivered (the channel was told)
    SKIPPED = "skipped"  # a later notification rule, not sent: somebody acknowledged first
