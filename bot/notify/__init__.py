"""Reaching people off Slack: the methods a page goes out by besides a Slack DM.

A person's notification rules (escalation_policies/people.yaml, or their own from the App
Home) say which methods page them and how long after the page each one starts: Slack at
once, SMS after 2 minutes, a call after 5, until somebody acknowledges. Each (incident,
step, loop, person, method) is one outbox item, delivered exactly once like a Slack page.

This module holds the seam every method is written against:

- `Notice`: what one page by one method says, and the outbox key that makes it once;
- `Method`: a provider (Twilio SMS or voice, SMTP email, Apprise, PagerDuty Events v2, a
  signed webhook) that sends a notice to an address and can tell whether it already did;
- `Follows`: a method whose alert follows the incident (PagerDuty acknowledged, resolved);
- `Replies`: how an inbound acknowledgement (an SMS reply, a keypress, an email link, a
  PagerDuty webhook) finds the page it answers.

A method raises `bot.paging.DeliveryError` for a failure worth retrying (the provider down,
a 5xx or 429; `wide=True` when every send by this method would fail now) and
`bot.paging.Undeliverable` for one that never will (an invalid number, a bounced address,
a 4xx): the person's next method then starts at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Notice:
    """One page to one person (or one outside service) by one method."""

    incident_id: str
    key: str  # the outbox key: unique per (step, loop, person, method) in its incident
    title: str  # the incident's title, plain text (not mrkdwn)
    severity: str  # "sev1"
    service: str
    summary: str  # one plain-text line saying what the page is and how to acknowledge
    user: str | None = None  # the Slack user id paged; None for a service (pagerduty:<name>)
    ack_url: str | None = None  # a signed one-time acknowledge link, when the method shows one
    reply_code: str | None = None  # a short code a reply or keypress acknowledges with


class Method(Protocol):
    """A way to reach somebody: `name` is how notification rules and policies name it."""

    name: str  # "sms" | "voice" | "email" | "apprise" | "pagerduty" | "webhook"

    def send(self, notice: Notice, address: str) -> str:
        """Send `notice` to `address` (a phone number, an email address, an Apprise URL, a
        configured PagerDuty or webhook name); return the provider's reference for it."""
        ...

    def find(self, notice: Notice, address: str, since: float) -> str | None:
        """The reference of an earlier send of `notice` to `address` after `since` (POSIX s),
        if the provider can tell; None when it was not sent or the provider cannot say."""
        ...


@runtime_checkable
class Follows(Protocol):
    """A method whose service keeps an alert of its own that follows Tocsin's incident
    (PagerDuty: acknowledged and resolved with it)."""

    def follow(self, action: str, address: str, incident_id: str) -> str:
        """Apply `action` ("acknowledge" | "resolve") to the incident's alert at the service
        named `address`; return the provider's reference."""
        ...


class Replies(Protocol):
    """Which page an inbound acknowledgement answers."""

    def page_for(self, method: str, address: str, code: str | None) -> tuple[str, str] | None:
        """(incident_id, user) of the latest page sent by `method` to `address` that is not
        yet acknowledged (the one with `code`, when a code was given), or None."""
        ...
