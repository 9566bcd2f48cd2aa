"""Delivering what the bot owes people: pages (DMs) and announcements (channel posts).

A `Pager` delivers one outbox item and can tell whether an item was delivered before:
after a worker dies between sending and recording, the retry asks `find` instead of
sending again. That is what makes a page exactly-once rather than at-least-once.
"""

from __future__ import annotations

from typing import Protocol

from bot.domain.incident import Incident
from bot.store import OutboxItem


class DeliveryError(Exception):
    """Delivery failed in a way worth retrying (Slack down, rate limited after retries)."""


class Deferred(Exception):
    """Not now: the destination is paced for `seconds` more; deliver it later, not by waiting."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"paced for {seconds:.2f}s")
        self.seconds = seconds


class Pager(Protocol):
    def deliver(self, item: OutboxItem, incident: Incident) -> str:
        """Send `item`; return where it landed (an opaque reference)."""
        ...

    def find(self, item: OutboxItem, incident: Incident, since: float) -> str | None:
        """The reference of an earlier delivery of `item` sent after `since`, if any."""
        ...

    def ready_in(self, item: OutboxItem, incident: Incident) -> float:
        """Seconds until `item` could be sent without waiting on pacing (0: now)."""
        ...
