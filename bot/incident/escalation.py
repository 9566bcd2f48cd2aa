"""Escalation: apply the planner's decisions durably, and deliver what they owe.

Flow of a step: `tick` re-reads the incident under WATCH, exits if its fencing token moved
on, asks the pure planner what is due, and commits in one transaction the new state, the
bumped token, the pages owed (outbox), the timeline and the next step's timer. Then it
delivers the outbox (`bot.incident.delivery`: each page exactly once per (incident, step, loop,
person)). `tick_many` does the same for a batch of steps that fell due together, with one
WATCH/MULTI for the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import structlog
from redis.client import Pipeline
from redis.exceptions import RedisError

from bot import clock
from bot.domain import policy as planner
from bot.domain.catalog import Catalog
from bot.domain.incident import Incident, record_pages
from bot.domain.notify import SLACK, People, Person, Rule, Send, sends
from bot.domain.outbox import OutboxKind
from bot.domain.outcomes import JobOutcome
from bot.domain.policy import EscalationStatus, Plan, Target
from bot.domain.timeline import BOT, Entry, Kind
from bot.domain.words import position
from bot.incident import targets
from bot.incident.channel import HeaderRefresh
from bot.incident.delivery import Delivery, Drained
from bot.paging import DeliveryError
from bot.render import messages
from bot.slack_api.directory import Directory
from bot.state.own_rules import OwnRules
from bot.state.store import OutboxItem, Store
from bot.state.timers import Timers

log = structlog.get_logger(__name__)
__all__ = ["Escalation"]


@dataclass
class Escalation:
    store: Store
    catalog: Callable[[], Catalog]  # with the schedule changes made from Slack (a Redis read)
    # The config's own catalog: tiers, rights and routes are never changed from Slack, so
    # what needs only them reads no Redis (bot.runtime.CatalogSource).
    config: Callable[[], Catalog]
    directory: Directory
    timers: Timers
    delivery: Delivery
    headers: HeaderRefresh
    inline_delivery: bool = True  # workers deliver at once; the web process enqueues a drain
    # the methods pages can go out by (bot.notify's registry); a rule naming another is left out
    methods: frozenset[str] = frozenset({SLACK})
    own_rules: OwnRules | None = None  # rules people set from the App Home, over the file's

    def refresh_header(self, incident_id: str) -> None:
        """After a change: the header shows status, who is paged next and when."""
        self.headers(incident_id)

    # --- delivering ---------------------------------------------------------------------
    def deliver(self, incident_id: str) -> None:
        """Deliver what the incident owes: at once in a worker, by a drain job from the web
        process (`inline_delivery`)."""
        if self.inline_delivery:
            self.drain(incident_id)
        else:
            self.timers.schedule_drain(incident_id)

    def drain(self, incident_id: str) -> int:
        """Deliver every pending outbox item this worker can claim; return how many sent."""
        drained = self.drain_many([incident_id])
        if drained.failures:
            raise DeliveryError("; ".join(drained.failures[incident_id]))
        return drained.sent

    def drain_many(
        self, incident_ids: Sequence[str], known: Mapping[str, Incident] | None = None
    ) -> Drained:
        """Deliver several incidents' outboxes (`Delivery.drain_many`), skip the steps found
        unreachable, then enqueue the drain of the notices owed for what could not go (after
        the skip, so that drain sends the next step's pages too)."""
        drained = self.delivery.drain_many(incident_ids, known)
        for incident_id, run, step, loop in drained.unreachable:
            self.step_unreachable(incident_id, run, step, loop)
        for incident_id in drained.notices:
            self.timers.schedule_drain(incident_id)
        return drained

    # --- resolving targets ---------------------------------------------------------------
    def lookup(self, target: Target, at: datetime) -> Sequence[str]:
        return targets.lookup(self.catalog, self.directory, target, at)

    # --- applying a plan -----------------------------------------------------------------
    def apply(
        self, incident: Incident, plan: Plan, pipe: Pipeline, now: datetime, actor: str = BOT
    ) -> Incident:
        """Queue on `pipe` the writes that make `plan` durable; return the new incident."""
        updated = replace(
            record_pages(incident, [p.user for p in plan.pages]),
            escalation=plan.state,
            token=incident.token + 1,
        )
        items = [
            item
            for p in plan.pages
            for item in self.page_items(
                (f"page:r{plan.state.run}:" if plan.state.run else "page:")
                + f"{p.step}:{p.loop}:{p.user}",
                p.user,
                messages.page_text(updated, p.step, p.loop, p.via),
                now,
                step=p.step,
                loop=p.loop,
                via=p.via,
            )
        ]
        for note in plan.notes:
            kind = Kind.EXHAUSTED if "exhausted" in note else Kind.STEP_SKIPPED
            self.store.record(incident.id, Entry(now, kind, BOT, note), pipe)
        if plan.pages:
            first = plan.pages[0]
            who = ", ".join(messages.recipient(p.user) for p in plan.pages)
            text = f"{position(first.step, first.loop)}: paging {who}"
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
        """Never silent: the incident channel (once it exists) and the policy's fallback hear
        (not a drill's: a drill stays in its own channel)."""
        full = messages.exhausted_text(incident)
        targets = [("@incident", full)]
        fallback = incident.policy.fallback_channel if incident.policy else None
        fallback = None if incident.drill else fallback
        if fallback:
            targets.append((fallback, messages.exhausted_text(incident, redact=incident.private)))
        loop = incident.escalation.loop
        return [
            OutboxItem(
                f"announce:exhausted:{incident.token}:{ch}",
                OutboxKind.ANNOUNCE,
                ch,
                text,
                0,
                loop,
                created_at=now.timestamp(),
            )
            for ch, text in targets
        ]

    def page_items(
        self,
        key: str,
        user: str,
        text: str,
        now: datetime,
        *,
        step: int = 0,
        loop: int = 0,
        via: str = "",
    ) -> list[OutboxItem]:
        """The outbox items of one page to `user`: one per method of their notification
        rules, the Slack DM's key `key`, each other's `key|<method>`, a later rule's not
        sent before its time. An outside service a step names (`pagerduty:ops`) gets one
        item, keyed `key`, by its own method."""
        service = planner.service_target(user)
        owed = (
            [Send(service.kind.value, service.ref, now.timestamp(), "")]
            if service is not None
            else self._sends(self.catalog().people, user, now)
        )
        return [
            OutboxItem(
                key=f"{key}|{send.slot}" if send.slot and send.method != SLACK else key,
                kind=OutboxKind.PAGE,
                to=user,
                text=text,
                step=step,
                loop=loop,
                via=via,
                created_at=now.timestamp(),
                method=send.method,
                address=None if send.method == SLACK else send.address,
                not_before=send.due_at if send.due_at > now.timestamp() else 0.0,
            )
            for send in owed
        ]

    def person(self, user: str) -> Person:
        """Slack user `user` as people.yaml lists them (by id, or by their email address)."""
        people = self.catalog().people
        email_of = self._user_by_email if any("@" in k for k in people.people) else None
        return people.person(user, email_of)

    def _sends(self, people: People, user: str, now: datetime) -> list[Send]:
        """What one page to `user` owes by their notification rules (their own from the
        App Home, else the file's), by the methods this bot can send by (Slack alone when
        none of theirs is)."""
        person = self.person(user)
        own = self._own_rules(user)
        if own:
            person = replace(person, rules=own)
        owed = [s for s in sends(people, person, user, now.timestamp()) if s.method in self.methods]
        return owed or [Send(SLACK, user, now.timestamp(), SLACK)]

    def _own_rules(self, user: str) -> tuple[Rule, ...] | None:
        """`user`'s own rules; None when they set none, or Redis cannot say now (the page
        then follows the file: a page is never held up for its rules)."""
        if self.own_rules is None:
            return None
        try:
            return self.own_rules.get(user)
        except RedisError:
            log.warning("own_rules_unreadable", user_id=user)
            return None

    def _user_by_email(self, email: str) -> str | None:
        """The Slack user of `email`; None when the directory cannot say now (Slack down
        must not stop a step: that person is then paged by their defaults)."""
        try:
            return self.directory.user_by_email(email)
        except Exception:
            log.warning("people_email_lookup_failed")
            return None

    def after_commit(self, incident: Incident) -> None:
        """Schedule the next tick (if escalation goes on) and deliver what is owed."""
        esc = incident.escalation
        if esc.status is EscalationStatus.ACTIVE:
            self.timers.schedule_tick(incident.id, incident.token, esc.due_at)
        self.deliver(incident.id)

    # --- the tick jobs ------------------------------------------------------------------
    def tick(self, incident_id: str, token: int) -> JobOutcome:
        """The step of (incident, token) fell due: take it, then deliver what is owed."""
        now = clock.now()
        outcome, incident = self.store.update(
            incident_id, lambda incident, pipe: self._step(incident, {token}, pipe, now)
        )
        log.info("escalation_tick", incident_id=incident_id, token=token, outcome=outcome)
        if outcome is JobOutcome.STEPPED:
            self.store.replicated("step")  # before its pages go out
        self._run_if_due(incident, outcome, now)
        self.deliver(incident_id)  # a retry of a step that committed still owes its pages
        if outcome is JobOutcome.STEPPED:
            self.refresh_header(incident_id)  # "paged next" moved on
        return outcome

    def tick_many(self, pairs: Iterable[tuple[str, int]]) -> dict[str, JobOutcome]:
        """Steps that fell due together: one WATCH/MULTI for the batch, then one drain.

        Each step commits with its next step's timer. If any incident of the batch changed
        meanwhile (an ack racing its step), each step is ticked on its own instead.
        """
        now = clock.now()
        wanted: dict[str, set[int]] = {}
        for incident_id, token in pairs:
            wanted.setdefault(incident_id, set()).add(int(token))
        ids = list(wanted)
        outcomes: dict[str, JobOutcome] = {}
        known: dict[str, Incident] = {}

        def step_all(incidents: list[Incident | None], pipe: Pipeline) -> None:
            for incident_id, incident in zip(ids, incidents, strict=True):
                if incident is None:
                    outcomes[incident_id] = JobOutcome.STALE
                    continue
                outcomes[incident_id], known[incident_id] = self._step(
                    incident, wanted[incident_id], pipe, now
                )

        if not self.store.update_all(ids, step_all):  # one of them changed meanwhile
            return {i: self.tick(i, t) for i, tokens in wanted.items() for t in tokens}
        if JobOutcome.STEPPED in outcomes.values():
            self.store.replicated("step")  # before their pages go out
        for incident_id, outcome in outcomes.items():
            log.info("escalation_tick", incident_id=incident_id, outcome=outcome, batch=len(ids))
            if incident_id in known:
                self._run_if_due(known[incident_id], outcome, now)
        if self.inline_delivery:
            failures = self.drain_many(ids, known).failures
            for incident_id in failures:  # a job of its own retries it with backoff
                self.timers.schedule_drain(incident_id)
        else:
            for incident_id in ids:
                self.timers.schedule_drain(incident_id)
        for incident_id, outcome in outcomes.items():
            if outcome is JobOutcome.STEPPED:
                self.refresh_header(incident_id)
        return outcomes

    def step_unreachable(self, incident_id: str, run: int, step: int, loop: int) -> None:
        """Every page of (run, step, loop) failed for good: if escalation still waits on that
        step, page the next one now instead of waiting out a wait nobody can answer."""
        now = clock.now()

        def change(incident: Incident, pipe: Pipeline) -> tuple[JobOutcome, Incident]:
            state = incident.escalation
            if (
                incident.policy is None
                or state.status is not EscalationStatus.ACTIVE
                or (state.run, state.step, state.loop) != (run, step, loop)
            ):
                return JobOutcome.MOVED_ON, incident
            plan = planner.escalate(incident.policy, state, now, self.lookup)
            note = f"{position(step, loop)}: nobody could be reached, skipped"
            updated = self.apply(incident, replace(plan, notes=(note, *plan.notes)), pipe, now)
            self._index_next(updated, pipe, now)
            return JobOutcome.STEPPED, updated

        outcome, incident = self.store.update(incident_id, change)
        log.info("escalation_step_unreachable", incident_id=incident_id, outcome=outcome)
        if outcome is JobOutcome.STEPPED:
            self.store.replicated("step")
            self._run_if_due(incident, outcome, now)
            self.refresh_header(incident_id)

    def _run_if_due(self, incident: Incident, outcome: JobOutcome, now: datetime) -> None:
        """A step just taken whose next step is already due (no wait) has no timer in the
        index: run that one as a job now. (A step not yet due was re-indexed by `_step`.)"""
        state = incident.escalation
        if outcome is not JobOutcome.STEPPED or state.status is not EscalationStatus.ACTIVE:
            return
        if state.due_at is None or state.due_at <= now.timestamp():
            self.timers.schedule_tick(incident.id, incident.token, None)

    def _step(
        self, incident: Incident, tokens: set[int], pipe: Pipeline, now: datetime
    ) -> tuple[JobOutcome, Incident]:
        """Take the step of `incident` if one of `tokens` is current and it is due, queuing
        on `pipe` (in MULTI) its writes and the timer of the step after it."""
        if incident.token not in tokens or incident.policy is None:
            return JobOutcome.STALE, incident
        self.timers.unbatch(incident.id, incident.token, pipe)  # the step runs now
        plan = planner.on_due(incident.policy, incident.escalation, now, self.lookup)
        if plan is None:
            due = incident.escalation.due_at
            if due is not None and due > now.timestamp():
                self.timers.schedule_tick(incident.id, incident.token, due, pipe=pipe)
            return JobOutcome.NOT_DUE, incident
        updated = self.apply(incident, plan, pipe, now)
        self._index_next(updated, pipe, now)
        return JobOutcome.STEPPED, updated

    def _index_next(self, updated: Incident, pipe: Pipeline, now: datetime) -> None:
        """Queue on `pipe` the due-index timer of the step after a step just taken (a step
        due now has none: `_run_if_due` runs it as a job after the commit)."""
        due = updated.escalation.due_at
        if updated.escalation.status is EscalationStatus.ACTIVE and due and due > now.timestamp():
            self.timers.schedule_tick(updated.id, updated.token, due, pipe=pipe)
