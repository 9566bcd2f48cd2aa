"""Delivering outboxes: every page and announcement the bot owes, sent exactly once, and
the edits that keep the page DMs already sent in step with their incident.

A drain claims each pending item with a lease (renewed while this live worker sends),
re-reads it under the claim, records the attempt before sending, and after a crash asks
the pager whether the earlier attempt landed. Several incidents' outboxes are drained in
one go (a `tick_many` batch): their outboxes, claims and re-reads take one round trip
each for the whole batch, and only the attempt and the sent record are per item.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import structlog

from bot import clock
from bot.domain.incident import Incident, Status
from bot.domain.notify import SLACK
from bot.domain.outbox import OutboxKind, OutboxStatus
from bot.domain.policy import service_target
from bot.domain.timeline import BOT, Entry, Kind
from bot.incident.spec import ORIGIN_KEY
from bot.paging import Deferred, DeliveryError, Pager, Undeliverable
from bot.render import blocks, messages
from bot.state.store import OutboxItem, Store
from bot.state.timeline import Row
from bot.state.timers import Timers

log = structlog.get_logger(__name__)
DEFER_AFTER_S = 0.25  # a post paced for longer is left for a later drain, not waited for


def page_position(key: str) -> tuple[int, int, int] | None:
    """(run, step, loop) of a policy page's outbox key `page:[r<run>:]<step>:<loop>:<user>`
    (the user may be a service, `pagerduty:ops`); None for other items (a page by hand is
    `page:manual:...`)."""
    head, _, rest = key.partition(":")
    if head != "page":
        return None
    run = "r0"
    if rest.startswith("r"):
        run, _, rest = rest.partition(":")
    parts = rest.split(":", 2)
    if len(parts) != 3 or not parts[2]:
        return None
    if ":" in parts[2] and service_target(page_base(parts[2])) is None:
        return None  # a person's id has no colon
    try:
        return int(run.removeprefix("r")), int(parts[0]), int(parts[1])
    except ValueError:
        return None


def page_base(key: str) -> str:
    """The key of a page without its method's slot: every method of one page to one person
    shares it (`page:0:0:U1|email` -> `page:0:0:U1`; a Slack DM's key is its base)."""
    return key.partition("|")[0]


def later_rule(item: OutboxItem) -> bool:
    """A page by a notification rule beyond today's Slack DM at once: another method, or a
    DM that waits. Acknowledging the incident stops it."""
    return item.kind is OutboxKind.PAGE and (
        item.method != SLACK or item.not_before > item.created_at
    )


def owed_before_ack(item: OutboxItem, incident: Incident) -> bool:
    """A step's page decided before the incident was acknowledged and not sent by then (its
    drain was slow or Slack was down): nobody needs waking any more. A page decided after
    the acknowledgement (an escalation to pull more people in, a page by hand) still goes."""
    acked = incident.acknowledged_at
    return (
        item.kind is OutboxKind.PAGE
        and not item.key.startswith("page:manual:")
        and acked is not None
        and item.created_at < acked.timestamp()
    )


def _failed_words(item: OutboxItem) -> str:
    """What failed for good, for the timeline: `could not page <@U1> by sms`, `could not
    notify PagerDuty service ops`, `could not post in <#C1>`."""
    if item.kind is OutboxKind.FOLLOW:
        return f"could not tell {messages.recipient(item.to)} to {item.text}"
    if item.kind is not OutboxKind.PAGE:
        return f"could not post in <#{item.to}>"
    if service_target(item.to) is not None:
        return f"could not notify {messages.recipient(item.to)}"
    return f"could not page <@{item.to}>" + ("" if item.method == SLACK else f" by {item.method}")


def _linked(item: OutboxItem, incident: Incident) -> OutboxItem:
    """`item` with the incident channel's link in place of its stand-in, if it has one, and
    led by the DRILL mark when the incident is a drill (every page and post of one)."""
    text = messages.drill_marked(incident, item.text)
    if messages.INCIDENT_CHANNEL in text and incident.channel_id is not None:
        text = text.replace(messages.INCIDENT_CHANNEL, f"<#{incident.channel_id}>")
    return item if text == item.text else replace(item, text=text)


Position = tuple[str, int, int, int]  # (incident, run, step, loop) of a policy step


@dataclass
class Drained:
    """What a drain did, and what it leaves to its caller."""

    sent: int = 0
    failures: dict[str, list[str]] = field(default_factory=dict)  # per incident
    # Steps none of whose pages can ever be delivered: nobody of them can be reached.
    unreachable: list[Position] = field(default_factory=list)
    # Incidents with items given up on: each owes a drain for the notice of it just queued.
    notices: list[str] = field(default_factory=list)


class ClaimLost(Exception):
    """Our claim on an item ran out before we sent it and another worker may hold it now."""


class Delivery:
    """Sends outbox items for one worker (`owner`), holding each claim for `lease_s`."""

    def __init__(
        self, store: Store, pager: Pager, timers: Timers, owner: str, lease_s: float
    ) -> None:
        self.store, self.pager, self.timers = store, pager, timers
        self.owner, self.lease_s = owner, lease_s

    def drain_many(
        self, incident_ids: Sequence[str], known: Mapping[str, Incident] | None = None
    ) -> Drained:
        """Drain several incidents' outboxes: how many sent, failures per incident, and
        the steps found unreachable (for the caller to skip, before the notices' drain).

        Pages go first: announcements share paced channels (1 post/s per channel), and a
        page must not wait behind the stakeholder channel's queue in an incident storm.
        One item's failure holds up only what must wait for it:
        - an item that can never go (an unknown or deactivated user, an archived channel)
          fails alone: it is marked failed, said in the incident channel and on the
          timeline, and a step whose every page failed so is returned as unreachable;
        - an item that failed for now holds back only the items behind it to the same
          destination by the same method of the same incident (the channel's story keeps
          its order); one rate limited comes back when Slack's Retry-After has passed;
        - when a method itself fails (Slack unreachable, 5xx, the token refused; the SMTP
          server down) the rest by it would too: they are reported as not attempted, and
          the other methods go on (Slack down does not hold up email, nor the reverse);
        - a page by a later notification rule waits for its time (a drain is scheduled
          for it), and is skipped once somebody has acknowledged.
        A post to a shared channel that is paced (a stakeholder channel every incident of a
        storm announces in) is not waited for: a drain job is scheduled for when its slot
        frees, and this worker goes on to pages.
        """
        store = self.store
        now_ts = clock.now_ts()
        pending: list[tuple[str, OutboxItem]] = []
        waiting: dict[str, float] = {}
        for incident_id, items in zip(incident_ids, store.outboxes(incident_ids), strict=True):
            for item in items:
                if item.status is not OutboxStatus.PENDING:
                    continue
                if item.not_before > now_ts:  # a later rule: the drain when it falls due
                    first = waiting.get(incident_id, item.not_before)
                    waiting[incident_id] = min(first, item.not_before)
                else:
                    pending.append((incident_id, item))
        for incident_id, at in waiting.items():
            self.timers.schedule_drain_at(incident_id, at)
        if not pending:
            return Drained()
        pending.sort(key=lambda p: (p[1].kind is not OutboxKind.PAGE, p[1].created_at, p[1].key))
        held = store.claim_many([(i, item.key) for i, item in pending], self.owner, self.lease_s)
        keeper = self._keep_claims([(i, key) for i, key, _ in held])
        todo = [
            (i, item)
            for i, _, item in held
            if item is not None and item.status is OutboxStatus.PENDING
        ]
        incidents = dict(known or {})
        incidents.update(store.get_many({i for i, _ in todo} - incidents.keys()))
        sent, failures, done = 0, defaultdict(list), set()
        later: dict[str, float] = {}
        # (incident, destination, method) -> the item it waits for
        blocked: dict[tuple[str, str, str], str] = {}
        down: set[str] = set()  # methods failing for every send (Slack down, SMTP unreachable)
        gave_up: list[tuple[str, OutboxItem]] = []
        owed: set[str] = set()  # incidents owing a drain: a notice queued, a method pulled in
        try:
            for incident_id, item in todo:
                incident = incidents.get(incident_id)
                if incident is None:
                    log.warning("outbox_without_incident", incident_id=incident_id, key=item.key)
                    continue
                if (
                    item.method == SLACK
                    and messages.INCIDENT_CHANNEL in item.text
                    and incident.channel_id is None
                ):
                    continue  # it links the channel: the drain after the channel opens sends it
                if item.method in down:
                    name = "Slack" if item.method == SLACK else item.method
                    failures[incident_id].append(f"{item.key}: not attempted ({name} failing)")
                    continue
                if (incident_id, item.to, item.method) in blocked:
                    waits_for = blocked[incident_id, item.to, item.method]
                    failures[incident_id].append(f"{item.key}: waits for {waits_for}")
                    continue
                if incident.status is not Status.TRIGGERED and (
                    later_rule(item) or owed_before_ack(item, incident)
                ):
                    self._skip(incident, item)  # somebody acknowledged: no need to wake anyone
                    done.add((incident_id, item.key))
                    continue
                try:
                    self._deliver(incident, item)
                    sent += 1
                    done.add((incident_id, item.key))
                except ClaimLost:
                    log.warning("claim_lost", incident_id=incident_id, key=item.key)
                    done.add((incident_id, item.key))  # not ours to release any more
                    blocked[incident_id, item.to, item.method] = (
                        item.key
                    )  # what follows it waits too
                except Deferred as paced:
                    later[incident_id] = max(later.get(incident_id, 0.0), paced.seconds)
                    blocked[incident_id, item.to, item.method] = item.key
                except Undeliverable as never:
                    self._give_up(incident, item, never)
                    owed.add(incident_id)
                    done.add((incident_id, item.key))
                    gave_up.append((incident_id, item))
                except DeliveryError as exc:
                    blocked[incident_id, item.to, item.method] = item.key
                    if exc.retry_after:
                        later[incident_id] = max(later.get(incident_id, 0.0), exc.retry_after)
                    else:
                        failures[incident_id].append(f"{item.key}: {exc}")
                    if exc.wide:  # the rest by this method would fail too; others go on
                        down.add(item.method)
        finally:
            keeper.set()
            store.release_many([(i, key) for i, key, _ in held if (i, key) not in done], self.owner)
        for incident_id, seconds in later.items():
            self.timers.schedule_drain_in(incident_id, seconds)
        return Drained(sent, dict(failures), self._unreachable(gave_up), sorted(owed))

    def _keep_claims(self, claims: list[tuple[str, str]]) -> threading.Event:
        """Renew our claims while this (live) worker is still sending; set the event to stop.

        The lease says "the holder is alive", not "the holder is fast": a send slowed by
        Slack's retries or our pacer must not let a second worker send the same item. A
        SIGKILLed worker stops renewing, and its leases run out as before.
        """
        stop = threading.Event()

        def renew() -> None:
            while claims and not stop.wait(self.lease_s / 3):
                for incident_id, key in list(claims):
                    try:
                        if not self.store.renew_claim(incident_id, key, self.owner, self.lease_s):
                            claims.remove((incident_id, key))
                    except Exception:  # a Redis blip: try again next period
                        log.warning("claim_renew_failed", incident_id=incident_id, key=key)

        if claims:
            threading.Thread(target=renew, name="claim-keeper", daemon=True).start()
        return stop

    def _deliver(self, incident: Incident, item: OutboxItem) -> None:
        """Send one claimed item (unless an earlier attempt landed), then record and release."""
        incident_id, key = incident.id, item.key
        # a shared channel (stakeholders, fallback) busy: come back later
        if item.kind is OutboxKind.ANNOUNCE and item.to != "@incident":
            paced_for = self.pager.ready_in(item, incident)
            if paced_for > DEFER_AFTER_S:
                raise Deferred(paced_for)
        ref = None
        if item.attempts and item.kind is not OutboxKind.EDIT:  # an edit is simply made again
            ref = self.pager.find(item, incident, since=item.created_at - 5)
        if ref is None:
            item.attempts += 1
            # the attempt is known before it is made, and only while the claim is still ours:
            # a worker whose lease ran out (it was slow) leaves the item to whoever took it
            if not self.store.attempting(incident_id, item, self.owner):
                raise ClaimLost(key)
            # and held by a replica: after a failover a retry looks for the sent page (find)
            # instead of sending it again
            self.store.replicated("send_attempt")
            try:
                if item.kind is OutboxKind.EDIT:
                    ref = self._revise_pages(incident)
                else:
                    ref = self.pager.deliver(_linked(item, incident), incident)
            except DeliveryError as exc:
                first_failure = item.last_error is None
                item.last_error = str(exc)
                self.store.save_outbox_item(incident_id, item)
                if first_failure:  # once per item: retries through an outage are not news
                    self.store.record(
                        incident_id,
                        Entry(clock.now(), Kind.PAGE_FAILED, BOT, f"{item.key} failed: {exc}"),
                    )
                if exc.wide and item.method == SLACK:  # Slack down or refusing the bot
                    self.store.slack_gap_began(incident_id, clock.now_ts())
                raise
        now = clock.now()
        item.status, item.sent_at, item.ref = OutboxStatus.SENT, now.timestamp(), ref
        record: Row | None = None
        if item.kind is OutboxKind.PAGE:
            how = messages.page_how(base := page_base(item.key), item.step, item.loop, item.via)
            text = messages.paged_line(item.to, item.method, how)
            data = {"user": item.to, "step": item.step, "loop": item.loop, "via": item.via}
            if item.method != SLACK:
                data |= {"method": item.method, "page": base}
            record = Entry(now, Kind.PAGED, BOT, text), data
        elif item.kind is OutboxKind.FOLLOW:
            text = f"told {messages.recipient(item.to)}: {item.text}"
            record = Entry(now, Kind.NOTE, BOT, text), {"key": key, "to": item.to}
        elif item.kind is OutboxKind.ANNOUNCE and item.to != "@incident":
            # in-channel posts are the record themselves; so are edits
            record = Entry(now, Kind.ANNOUNCED, BOT, f"announced in <#{item.to}>"), {"key": key}
        slack = item.method == SLACK
        gap_started = self.store.delivered(incident_id, item, record, self.owner, slack=slack)
        self._close_gap(incident_id, now, gap_started)
        log.info("delivered", incident_id=incident_id, key=key, ref=ref, attempts=item.attempts)

    def _revise_pages(self, incident: Incident, rounds: int = 3) -> str:
        """Rewrite every page DM of the incident already sent to show it as it is now; how
        many were rewritten, as the edit's reference.

        The incident is read again after the edits: if it moved meanwhile (this worker read
        it before a later change whose own edit may already have landed), the DMs are
        rewritten from the newer state, so the last edit to land never shows an older one.
        A DM that can no longer be edited (deleted) is passed over; anything else failing
        leaves the edit to be retried whole (rewriting a DM twice with the same state is
        harmless)."""
        edited: set[str] = set()
        for _ in range(rounds):
            pages = [
                p
                for p in self.store.outbox(incident.id)
                if p.kind is OutboxKind.PAGE
                and p.method == SLACK
                and p.status is OutboxStatus.SENT
                and p.ref
            ]
            for page in pages:
                try:
                    self.pager.revise(_linked(page, incident), incident)
                    edited.add(page.key)
                except Undeliverable as gone:
                    log.info(
                        "page_not_revised", incident_id=incident.id, key=page.key, error=gone.code
                    )
            fresh = self.store.find(incident.id)
            if fresh is None or blocks.page_state(fresh) == blocks.page_state(incident):
                break
            incident = fresh
        return f"{len(edited)} page DMs"

    def _give_up(self, incident: Incident, item: OutboxItem, never: Undeliverable) -> None:
        """Mark `item` failed for good and say so on the timeline; one transaction.

        A page with other methods for the same person moves on to the next of them at once;
        only when every one of them failed is it said, in the incident channel and the
        fallback channel, that the person could not be reached. Anything else that fails
        (a page by Slack alone, a post) is said in the incident channel (unless it was for
        the incident channel itself)."""
        now = clock.now()
        item.status, item.last_error = OutboxStatus.FAILED, never.code
        entry_kind = Kind.PAGE_FAILED if item.kind is OutboxKind.PAGE else Kind.NOTE
        entry = Entry(now, entry_kind, BOT, f"{_failed_words(item)}: {never.reason}")
        data = {"key": item.key, "to": item.to, "error": never.code}
        others = self._other_methods(incident.id, item)
        # a service a step notified is said unreachable like a person (`_next_method`)
        service = item.kind is OutboxKind.PAGE and service_target(item.to) is not None
        with self.store.transaction() as pipe:
            self.store.save_outbox_item(incident.id, item, pipe)
            self.store.record(incident.id, entry, pipe, data)
            if not (others or service) and item.to != "@incident" and item.key != ORIGIN_KEY:
                notice = OutboxItem(
                    f"announce:failed:{item.key}",
                    OutboxKind.ANNOUNCE,
                    "@incident",
                    messages.undeliverable_text(item.kind, item.to, never.reason),
                    created_at=now.timestamp(),
                )
                self.store.add_outbox(incident.id, [notice], pipe)
            self.store.release_many([(incident.id, item.key)], self.owner, pipe)
        log.warning(
            "delivery_failed_for_good", incident_id=incident.id, key=item.key, error=never.code
        )
        if others or service:
            self._next_method(incident, item)

    def _other_methods(self, incident_id: str, item: OutboxItem) -> list[OutboxItem]:
        """The items of the same page to the same person by its other methods."""
        if item.kind is not OutboxKind.PAGE:
            return []
        base = page_base(item.key)
        return [
            i
            for i in self.store.outbox(incident_id)
            if i.kind is OutboxKind.PAGE and i.key != item.key and page_base(i.key) == base
        ]

    def _next_method(self, incident: Incident, failed: OutboxItem) -> None:
        """`failed` was one of several methods of a page (or a service's one page): start the
        next one still waiting now, or, when every one of them failed, say the person (the
        service) could not be reached (read
        after this failure was saved, so of two failing at once the later one says it)."""
        now = clock.now()
        rest = self._other_methods(incident.id, failed)
        at = now.timestamp()
        waiting = sorted(
            (i for i in rest if i.status is OutboxStatus.PENDING and i.not_before > at),
            key=lambda i: (i.not_before, i.key),
        )
        if waiting:
            self.store.pull_in(incident.id, waiting[0].key, at)
            return
        if not all(i.status is OutboxStatus.FAILED for i in rest):
            return  # another method is being sent, or was
        base = page_base(failed.key)
        notices = [
            OutboxItem(
                f"announce:unreached:{base}",
                OutboxKind.ANNOUNCE,
                "@incident",
                messages.unreachable_person_text(incident, failed.to),
                created_at=now.timestamp(),
            )
        ]
        fallback = incident.policy.fallback_channel if incident.policy else None
        if fallback and not incident.drill:
            text = messages.unreachable_person_text(incident, failed.to, redact=incident.private)
            notices.append(
                OutboxItem(
                    f"announce:unreached:{base}:{fallback}",
                    OutboxKind.ANNOUNCE,
                    fallback,
                    text,
                    created_at=now.timestamp(),
                )
            )
        with self.store.transaction() as pipe:
            self.store.add_outbox(incident.id, notices, pipe)  # once each (HSETNX)

    def _skip(self, incident: Incident, item: OutboxItem) -> None:
        """Somebody acknowledged before this page went (a later rule's, or a step's page
        still owed at the acknowledgement): it is not sent (the timeline shows the pages
        that were)."""
        item.status = OutboxStatus.SKIPPED
        with self.store.transaction() as pipe:
            self.store.save_outbox_item(incident.id, item, pipe)
            self.store.release_many([(incident.id, item.key)], self.owner, pipe)
        log.info("page_skipped_acknowledged", incident_id=incident.id, key=item.key)

    def _unreachable(self, gave_up: list[tuple[str, OutboxItem]]) -> list[Position]:
        """Of the steps with pages just given up on, those none of whose pages can ever be
        delivered: nobody of them is reachable."""
        steps = {
            (incident_id, position)
            for incident_id, item in gave_up
            if (position := page_position(item.key)) is not None
        }
        found = []
        for incident_id, (run, step, loop) in sorted(steps):
            pages = [
                i
                for i in self.store.outbox(incident_id)
                if i.kind is OutboxKind.PAGE and page_position(i.key) == (run, step, loop)
            ]
            if pages and all(i.status is OutboxStatus.FAILED for i in pages):
                found.append((incident_id, run, step, loop))
        return found

    def _close_gap(self, incident_id: str, now: datetime, started: str | None) -> None:
        """Slack answers again: put how long it was unreachable on the timeline, once."""
        if started is None:
            return
        since = datetime.fromtimestamp(float(started), UTC)
        text = (
            f"Slack unreachable from {since:%H:%M:%S} to {now:%H:%M:%S} UTC "
            f"({(now - since).total_seconds():.0f}s); the deliveries it held up are now sent"
        )
        data = {"slack_gap": [since.timestamp(), now.timestamp()]}
        self.store.record(incident_id, Entry(now, Kind.NOTE, BOT, text), data=data)
