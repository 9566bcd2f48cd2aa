"""The escalation engine: apply the planner's decisions durably, deliver pages once.

Flow of a step: `tick` re-reads the incident under WATCH, exits if its fencing token moved
on, asks the pure planner what is due, and commits in one transaction the new state, the
bumped token, the pages owed (outbox) and the timeline. Only then does it schedule the
next tick and deliver the outbox. Delivery claims each item with a lease, records the
attempt before sending, and after a crash asks the pager whether the earlier attempt
landed, so each page goes out exactly once per (incident, step, loop, person).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import structlog
from redis.client import Pipeline

from bot import clock
from bot.directory import Directory
from bot.domain import policy as planner
from bot.domain.catalog import Catalog
from bot.domain.incident import Incident
from bot.domain.policy import EscalationStatus, Plan, Target, TargetKind
from bot.domain.schedule import on_call
from bot.domain.timeline import Entry, Kind
from bot.paging import DeliveryError, Pager
from bot.slack import messages
from bot.store import PREFIX, OutboxItem, Store
from bot.timers import Timers

log = structlog.get_logger(__name__)
BOT = "tocsin"


@dataclass
class Escalation:
    store: Store
    catalog: Callable[[], Catalog]
    pager: Pager
    directory: Directory
    timers: Timers
    lease_s: float = 30.0
    owner: str = "tocsin"
    inline_delivery: bool = True  # workers deliver at once; the web process enqueues a drain
    # Bring the pinned header up to date in this process (a worker with Slack), or None to
    # leave it to a job (the web process) — or to nobody when there is no Slack at all.
    refresh_inline: Callable[[str], None] | None = None
    has_headers: bool = True

    def refresh_header(self, incident_id: str) -> None:
        """After a change: the header shows status, who is paged next and when."""
        if not self.has_headers:
            return
        if self.refresh_inline is None:
            self.timers.refresh_header(incident_id)
            return
        try:
            self.refresh_inline(incident_id)
        except Exception:  # Slack down: a job with retries takes it over
            log.warning("header_refresh_deferred", incident_id=incident_id, exc_info=True)
            self.timers.refresh_header(incident_id)

    # --- resolving targets ---------------------------------------------------------------
    def lookup(self, target: Target, at: datetime) -> Sequence[str]:
        if target.kind is TargetKind.SCHEDULE:
            schedule = self.catalog().schedules.get(target.ref)
            return on_call(schedule, at) if schedule else ()
        if target.kind is TargetKind.USERGROUP:
            return self.directory.usergroup_members(target.ref)
        if target.is_email:
            user = self.directory.user_by_email(target.ref)
            return (user,) if user else ()
        return (target.ref,)

    # --- applying a plan -----------------------------------------------------------------
    def apply(
        self, incident: Incident, plan: Plan, pipe: Pipeline, now: datetime, actor: str = BOT
    ) -> Incident:
        """Queue on `pipe` the writes that make `plan` durable; return the new incident."""
        new_paged = [p.user for p in plan.pages if p.user not in incident.paged]
        updated = replace(
            incident,
            escalation=plan.state,
            token=incident.token + 1,
            paged=incident.paged + tuple(dict.fromkeys(new_paged)),
        )
        items = [
            OutboxItem(
                key=(f"page:r{plan.state.run}:" if plan.state.run else "page:")
                + f"{p.step}:{p.loop}:{p.user}",
                kind="page",
                to=p.user,
                text=messages.page_text(updated, p.step, p.loop, p.via),
                step=p.step,
                loop=p.loop,
                via=p.via,
                created_at=now.timestamp(),
            )
            for p in plan.pages
        ]
        for note in plan.notes:
            kind = Kind.EXHAUSTED if "exhausted" in note else Kind.STEP_SKIPPED
            self.store.record(incident.id, Entry(now, kind, BOT, note), pipe)
        if plan.pages:
            first = plan.pages[0]
            who = ", ".join(f"<@{p.user}>" for p in plan.pages)
            text = f"step {first.step + 1} (loop {first.loop + 1}): paging {who}"
            data = {"step": first.step, "loop": first.loop, "users": [p.user for p in plan.pages]}
            self.store.record(
                incident.id, Entry(now, Kind.ESCALATION_STEP, actor, text), pipe, data
            )
        if plan.exhausted:
            items += self._exhaustion_announcements(updated, now)
        self.store.add_outbox(incident.id, items, pipe)
        self.store.put(updated, pipe)
        return updated

    def _exhaustion_announcements(self, incident: Incident, now: datetime) -> list[OutboxItem]:
        """Never silent: the incident channel (once it exists) and the policy's fallback hear."""
        full = messages.exhausted_text(incident)
        targets = [("@incident", full)]
        fallback = incident.policy.fallback_channel if incident.policy else None
        if fallback:
            targets.append((fallback, messages.exhausted_text(incident, redact=incident.private)))
        loop = incident.escalation.loop
        return [
            OutboxItem(
                f"announce:exhausted:{incident.token}:{ch}",
                "announce",
                ch,
                text,
                0,
                loop,
                created_at=now.timestamp(),
            )
            for ch, text in targets
        ]

    def after_commit(self, incident: Incident) -> None:
        """Schedule the next tick (if escalation goes on) and deliver what is owed."""
        esc = incident.escalation
        if esc.status is EscalationStatus.ACTIVE:
            self.timers.schedule_tick(incident.id, incident.token, esc.due_at)
        if self.inline_delivery:
            self.drain(incident.id)
        else:
            self.timers.schedule_drain(incident.id)

    # --- the tick job --------------------------------------------------------------------
    def tick(self, incident_id: str, token: int) -> str:
        now = clock.now()

        def change(incident: Incident, pipe: Pipeline) -> tuple[str, Incident]:
            if incident.token != token or incident.policy is None:
                return "stale", incident
            plan = planner.on_due(incident.policy, incident.escalation, now, self.lookup)
            if plan is None:
                return "not_due", incident
            return "stepped", self.apply(incident, plan, pipe, now)

        outcome, incident = self.store.update(incident_id, change)
        log.info("escalation_tick", incident_id=incident_id, token=token, outcome=outcome)
        if outcome == "stepped":
            self.after_commit(incident)
            self.refresh_header(incident_id)  # "paged next" moved on
        elif outcome == "not_due" and incident.escalation.status is EscalationStatus.ACTIVE:
            # Fired early (or by the reconciler): make sure a timer waits for the due time.
            self.timers.schedule_tick(incident_id, token, incident.escalation.due_at, "-early")
            self.drain(incident_id)
        else:
            self.drain(incident_id)  # a retry of a step that committed still owes its pages
        return outcome

    # --- delivering the outbox -----------------------------------------------------------
    def drain(self, incident_id: str) -> int:
        """Deliver every pending outbox item this worker can claim; return how many sent.

        Pages go first: announcements share paced channels (1 post/s per channel), and a
        page must not wait behind the stakeholder channel's queue in an incident storm.
        """
        sent, failures = 0, []
        pending = self.store.outbox(incident_id)
        incident: Incident | None = None  # read once per drain, when something is to be sent
        for listed in sorted(pending, key=lambda i: i.kind != "page"):  # stable: pages first
            if listed.status != "pending":
                continue
            claimed, item = self.store.claim_and_read(
                incident_id, listed.key, self.owner, self.lease_s
            )
            if not claimed:
                continue
            keeper = self._keep_claim(incident_id, listed.key)
            released = False
            try:
                if item is None or item.status != "pending":  # re-read under the claim
                    continue
                incident = incident or self.store.get(incident_id)
                self._deliver(incident, item)
                sent, released = sent + 1, True
            except DeliveryError as exc:
                failures.append(f"{listed.key}: {exc}")
                if str(exc).startswith("slack"):
                    break  # Slack is failing: the rest would too; free the worker for due steps
            finally:
                keeper.set()
                if not released:
                    self.store.release(incident_id, listed.key)
        if failures:
            raise DeliveryError("; ".join(failures))
        return sent

    def _keep_claim(self, incident_id: str, key: str) -> threading.Event:
        """Renew the claim while this (live) worker is still sending; set the event to stop.

        The lease says "the holder is alive", not "the holder is fast": a send slowed by
        Slack's retries or our pacer must not let a second worker send the same item. A
        SIGKILLed worker stops renewing, and its lease runs out as before.
        """
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.lease_s / 3):
                try:
                    if not self.store.renew_claim(incident_id, key, self.owner, self.lease_s):
                        return
                except Exception:  # a Redis blip: try again next period
                    log.warning("claim_renew_failed", incident_id=incident_id, key=key)

        threading.Thread(target=renew, name=f"claim-{key}", daemon=True).start()
        return stop

    def _deliver(self, incident: Incident, item: OutboxItem) -> None:
        """Send one claimed item (unless an earlier attempt landed), then record and release."""
        incident_id, key = incident.id, item.key
        ref = None
        if item.attempts:
            ref = self.pager.find(item, incident, since=item.created_at - 5)
        if ref is None:
            item.attempts += 1
            self.store.save_outbox_item(incident_id, item)  # the attempt is known before it is made
            try:
                ref = self.pager.deliver(item, incident)
            except DeliveryError as exc:
                first_failure = item.last_error is None
                item.last_error = str(exc)
                self.store.save_outbox_item(incident_id, item)
                if first_failure:  # once per item: retries through an outage are not news
                    self.store.record(
                        incident_id,
                        Entry(clock.now(), Kind.PAGE_FAILED, BOT, f"{item.key} failed: {exc}"),
                    )
                if str(exc).startswith("slack"):  # Slack down or refusing, not "no channel yet"
                    self.store.r.set(_gap_key(incident_id), clock.now_ts(), nx=True, ex=7 * 86400)
                raise
        now = clock.now()
        item.status, item.sent_at, item.ref = "sent", now.timestamp(), ref
        with self.store.r.pipeline(transaction=False) as pipe:  # one round trip for the record
            pipe.hset(self.store.outbox_key(incident_id), key, item.to_json())
            if item.kind == "page":
                text = (
                    f"paged <@{item.to}> (step {item.step + 1}, loop {item.loop + 1}, "
                    f"via {item.via})"
                )
                data = {"user": item.to, "step": item.step, "loop": item.loop, "via": item.via}
                self.store.record(incident_id, Entry(now, Kind.PAGED, BOT, text), pipe, data)
            elif item.to != "@incident":  # in-channel posts are the record themselves
                text = f"announced in <#{item.to}>"
                entry = Entry(now, Kind.ANNOUNCED, BOT, text)
                self.store.record(incident_id, entry, pipe, {"key": key})
            pipe.getdel(_gap_key(incident_id))
            pipe.delete(f"{PREFIX}:claim:{incident_id}:{key}")
            gap_started = pipe.execute()[-2]
        self._close_gap(incident_id, now, gap_started)
        log.info("delivered", incident_id=incident_id, key=key, ref=ref, attempts=item.attempts)

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


def _gap_key(incident_id: str) -> str:
    return f"{PREFIX}:inc:{incident_id}:slack_gap"
