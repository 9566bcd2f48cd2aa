"""Delivering what the bot owes people: pages (DMs) and announcements (channel posts).

A `Pager` delivers one outbox item and can tell whether an item was delivered before:
after a worker dies between sending and recording, the retry asks `find` instead of
sending again. That is what makes a page exactly-once rather than at-least-once.
"""

from __future__ import annotations

from typing import Protocol

from bot.domain.incident import Incident
from bot.state.store import OutboxItem


class DeliveryError(Exception):
    """Delivery failed for now, in a way worth retrying: Slack down or rate limited after
    the client's retries, or the incident's channel not created yet.

    `wide`: the failure is not this item's (Slack unreachable, 5xx, the token refused), so
    the items after it would fail too and are not attempted in this drain. Otherwise only
    the items behind it to the same destination wait (their order is the story's order).
    `retry_after`: the earliest sensible retry in seconds, when the sender said (429).
    """

    def __init__(self, message: str, *, wide: bool = False, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.wide = wide
        self.retry_after = retry_after


class Undeliverable(Exception):
    """This item can never be delivered as it is (an unknown or deactivated user, an archived
    channel, a message Slack refuses): it fails alone, and everything else goes on.

    `code` is the provider's error code (`user_disabled`); `reason` says it in words.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


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

    def revise(self, page: OutboxItem, incident: Incident) -> None:
        """Rewrite the page already delivered at `page.ref` to show `incident` as it is."""
        ...
