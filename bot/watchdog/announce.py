"""The watchdog's announcements ("down", "recovered"), each sent once to each destination.

What is owed is in Redis before anybody sends it (`bot.state.watchdog`). The process holding
the sending lease (renewed while it lives) sends each owed announcement to each destination
as the outbox sends a page (`bot.state.once.send_once`): it records the attempt, sends,
then records the reference. A process that takes the lease over from one that died between the
send and the record finds the attempt recorded and asks the destination first:

- a Slack channel (TOCSIN_WATCHDOG_CHANNEL) is asked by the key in the message's metadata
  (`bot.slack_api.history.find_posted`); found, it is not posted again;
- a webhook cannot be asked: it is sent again with the same `id` (and `X-Tocsin-Event-Id`),
  so a receiver that keeps the ids it has seen pages once;
- a PagerDuty service (TOCSIN_WATCHDOG_PAGERDUTY, a `services.yaml` name) cannot be asked
  either, and needs not be: "down" triggers and "recovered" resolves one alert whose
  dedup key names the outage, and PagerDuty merges a trigger resent while it is open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog
from slack_sdk import WebClient

from bot import clock
from bot.config.settings import Settings, SettingsError
from bot.notify import Notice, pagerduty
from bot.notify.pagerduty import PagerDutyEvents
from bot.paging import DeliveryError, Undeliverable
from bot.slack_api.history import find_posted, tag
from bot.state.leases import Leases
from bot.state.once import SendLedger, send_once
from bot.state.watchdog import SENDING, SENDS, WatchdogState
from bot.watchdog.webhook import send

log = structlog.get_logger(__name__)
EVENT_TYPE = "tocsin_watchdog"
TAGGED_AS = "watchdog"  # the metadata's incident_id: no incident, the watchdog's own


@dataclass(frozen=True)
class Announcement:
    key: str  # "down:<since>" / "recovered:<since>": one per outage and event
    at: float  # when it was decided
    why: str  # for "down": what is missing

    @property
    def event(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def since(self) -> float:
        return float(self.key.split(":", 1)[1])

    def text(self) -> str:
        if self.event == "down":
            return f"Tocsin cannot escalate: {self.why}. Pages are not being sent."
        return f"Tocsin escalates again after {self.at - self.since:.0f} s down."


class SendFailed(Exception):
    """The destination did not take the announcement now; the next tick tries again."""


class Destination(Protocol):
    name: str  # how its sends are recorded: "slack:<channel>", "webhook:<n>"

    def send(self, announcement: Announcement) -> str:
        """Send it; where it landed. SendFailed when it did not."""
        ...

    def find(self, announcement: Announcement, since: float) -> str | None:
        """Where an earlier send after `since` landed; None when none did or none can tell."""
        ...


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


class Webhook:
    def __init__(self, n: int, url: str, secret: str) -> None:
        self.name, self.url, self.secret = f"webhook:{n}", url, secret

    def send(self, announcement: Announcement) -> str:
        payload = {
            "id": announcement.key,
            "event": f"tocsin.{announcement.event}",
            "text": announcement.text(),
            "since": _iso(announcement.since),
            "at": _iso(announcement.at),
            "why": announcement.why,
        }
        if not send(self.url, self.secret, payload, event_id=announcement.key):
            raise SendFailed(self.name)
        return announcement.key

    def find(self, announcement: Announcement, since: float) -> str | None:
        return None  # a webhook cannot be asked: the resend carries the same id


class PagerDutyAlert:
    """The outage as one PagerDuty alert (Events v2, `bot.notify.pagerduty`): its dedup key
    `tocsin/watchdog-<since>` makes a resend of either event change nothing."""

    def __init__(self, events: PagerDutyEvents, service: str) -> None:
        self.name, self.events, self.service = f"pagerduty:{service}", events, service

    def send(self, announcement: Announcement) -> str:
        outage = f"watchdog-{announcement.since!r}"
        try:
            if announcement.event == "down":
                text = announcement.text()
                notice = Notice(outage, announcement.key, text, "sev1", "tocsin", text)
                return self.events.send(notice, self.service)
            return self.events.resolve(self.service, outage)
        except (DeliveryError, Undeliverable) as exc:
            raise SendFailed(f"{self.name}: {exc}") from exc

    def find(self, announcement: Announcement, since: float) -> str | None:
        return None  # the Events API cannot be asked; a resend is merged by its dedup key


class SlackChannel:
    def __init__(self, client: WebClient, channel: str) -> None:
        self.name, self.client, self.channel = f"slack:{channel}", client, channel

    def send(self, announcement: Announcement) -> str:
        icon = ":rotating_light:" if announcement.event == "down" else ":white_check_mark:"
        try:
            answer = self.client.chat_postMessage(
                channel=self.channel,
                text=f"{icon} {announcement.text()}",
                metadata=tag(EVENT_TYPE, (TAGGED_AS, announcement.key)),
            )
        except Exception as exc:  # SlackApiError or the network: tried again next tick
            raise SendFailed(f"{self.name}: {type(exc).__name__}") from exc
        return str(answer["ts"])

    def find(self, announcement: Announcement, since: float) -> str | None:
        tagged = (TAGGED_AS, announcement.key)
        try:
            return find_posted(self.client, self.channel, since, tagged, limit=200)
        except Exception as exc:  # cannot tell: do not send blind, ask again next tick
            raise SendFailed(f"{self.name}: history: {type(exc).__name__}") from exc


def destinations_from(settings: Settings, slack: WebClient | None) -> list[Destination]:
    """The webhooks of TOCSIN_WATCHDOG_URLS, the PagerDuty service TOCSIN_WATCHDOG_PAGERDUTY,
    then the channel TOCSIN_WATCHDOG_CHANNEL. SettingsError for a PagerDuty service that
    `services.yaml` does not define."""
    found: list[Destination] = []
    secret = settings.watchdog_secret
    if secret is not None:
        found += [Webhook(n, url, secret) for n, url in enumerate(settings.watchdog_urls, 1)]
    if settings.watchdog_pagerduty:
        events = pagerduty.build(settings)
        if events is None or settings.watchdog_pagerduty not in events.services:
            raise SettingsError(
                "TOCSIN_WATCHDOG_PAGERDUTY: no PagerDuty service "
                f"{settings.watchdog_pagerduty!r} in services.yaml"
            )
        found.append(PagerDutyAlert(events, settings.watchdog_pagerduty))
    if settings.watchdog_channel and slack is not None:
        found.append(SlackChannel(slack, settings.watchdog_channel))
    return found


class Announcer:
    """Sends what is owed, from the process holding the sending lease for `lease_s`."""

    def __init__(
        self,
        state: WatchdogState,
        destinations: list[Destination],
        owner: str,
        lease_s: float,
        confirm: Callable[[str], object] | None = None,
    ) -> None:
        self.state, self.destinations = state, destinations
        self.owner, self.lease_s = owner, lease_s
        self.leases = Leases(state.r)
        self.ledger = SendLedger(state.r, SENDS, confirm=confirm)  # confirm: WAIT (SendLedger)

    def send_owed(self) -> int:
        """Send every owed announcement to every destination that lacks it; how many sent."""
        owed = self.state.owed()
        if not owed:
            return 0
        with self.leases.kept(SENDING, self.owner, self.lease_s) as held:
            return self._send(owed) if held else 0

    def _send(self, owed: list[tuple[str, float, str]]) -> int:
        sent = 0
        announcements = [Announcement(key, at, why) for key, at, why in owed]
        for destination in self.destinations:
            for announcement in announcements:
                result = self._once(announcement, destination)
                sent += result == "sent"
                if result == "failed":
                    break  # its "recovered" never goes out before its "down"
        for announcement in announcements:
            if self._all_sent(announcement):
                self.state.settled(announcement.key)
                self.ledger.forget(*(f"{announcement.key}|{d.name}" for d in self.destinations))
        return sent

    def _all_sent(self, announcement: Announcement) -> bool:
        return all(
            self.ledger.ref(f"{announcement.key}|{d.name}") is not None for d in self.destinations
        )

    def _once(self, announcement: Announcement, destination: Destination) -> str:
        """Send `announcement` to `destination` unless it has it: "sent" (now), "had" (sent
        before, or found there) or "failed" (not now: the next tick tries again)."""
        try:
            result = send_once(
                self.ledger,
                f"{announcement.key}|{destination.name}",
                lambda: destination.send(announcement),
                lambda since: destination.find(announcement, since),
                clock.now_ts(),
            )
        except SendFailed as exc:
            log.warning("watchdog_announcement_failed", key=announcement.key, error=str(exc))
            return "failed"
        log.info(f"watchdog_announcement_{result}", key=announcement.key, to=destination.name)
        return result
