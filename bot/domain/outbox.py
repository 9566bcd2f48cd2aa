"""What an outbox item is and where it stands (the values stored in its JSON)."""

from __future__ import annotations

from enum import StrEnum


class OutboxKind(StrEnum):
    PAGE = "page"  # a DM to one person
    ANNOUNCE = "announce"  # a post in a channel (the incident's, stakeholders', ...)


class OutboxStatus(StrEnum):
    PENDING = "pending"  # owed: a drain delivers it
    SENT = "sent"
    FAILED = "failed"  # can never be delivered (the channel was told)
