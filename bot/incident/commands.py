"""Incident commands: declare, acknowledge, escalate, mitigate, resolve, reopen, re-severity.

Each command reads the incident under WATCH, checks the state machine and the tier's
decision rights, and commits the change, its timeline entry and the announcement it owes
the incident channel in one transaction. Of twenty simultaneous clicks one commits; the
others re-read and are told who got there first. Slack side effects run later, in jobs.

A command refused by the state machine, the rights or the write rate limit (bot.state.write_limits)
writes nothing but a counter: it is answered from one plain read, before any transaction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

import structlog
from redis.client import Pipeline

from bot import clock
from bot.domain import incident as machine
from bot.domain import policy as planner
from bot.domain.alerts.sources import source_may_act, source_of
from bot.domain.incident import Action, Incident, Roles, Status, TransitionRefused
from bot.domain.outbox import OutboxKind
from bot.domain.policy import EscalationState, EscalationStatus, Policy
from bot.domain.timeline import BOT, Entry, Kind
from bot.incident.escalation import Escalation
from bot.incident.follow import follow_items
from bot.incident.notes import QuickAnswer, QuickNote, note_text, write_limited
from bot.incident.spec import (
    ORIGIN_KEY,
    Authorize,
    CommandSpec,
    Outcome,
    UserError,
    revise_pages,
    say,
    starting,
)
from bot.render import blocks, messages
from bot.state.store import Also, OutboxItem
from bot.state.write_limits import WriteLimiter

log = structlog.get_logger(__name__)


def _announced_where_declared(incident: Incident, origin: str, stakeholders: str | None) -> bool:
    """Whether a declaration is announced in `origin`, the channel it was typed in: not in a
    DM (the declarer's answer says it), not where the stakeholders hear of it anyway, and
    never for a private incident (its stakeholder notice, without details, is all that is
    said outside its channel)."""
    return not (
        incident.private or incident.drill or origin.startswith("D") or origin == stakeholders
    )


class Engine:
    def __init__(
        self,
        escalation: Escalation,
        limiter: WriteLimiter | None = None,
        retention_s: float | None = None,
        on_resolve: Sequence[Callable[[Incident], None]] = (),
    ) -> None:
        self.esc = escalation
        self.store = escalation.store
        self.limiter = limiter  # None: people's writes are not rate-limited
        self.quick = QuickNote(self.store, self.esc.config)
        self.retention_s = (
            retention_s  # a closed incident's keys go after this (bot.state.retention)
        )
        # Told after a resolve commits (the post-incident review window, bot.learning.review).
        self.on_resolve = tuple(on_resolve)

    def expired(self, incident: Incident, now: datetime) -> bool:
        """True once a resolved incident is past its retention (its outbox may be gone)."""
        closed = incident.resolved_at
        if self.retention_s is None or closed is None or incident.is_open:
            return False
        return (now - closed).total_seconds() >= self.retention_s

    def declare(
        self,
        *,
        title: str,
        service: str,
        severity: str,
        declared_by: str,
        private: bool = False,
        drill: bool = False,
        description: str = "",
        origin: str | None = None,
        route: Policy | None = None,
    ) -> Incident:
        """Declare an incident; `origin`: the channel the declaration was typed in, where it
        is announced too (see `_announced_where_declared`); `route`: the policy to page by
        instead of the one routing the service (a drill of a named policy).

        A drill says nothing outside its own channel and the pages: no stakeholder notice,
        no announcement where it was declared."""
        now = clock.now()
        by_source = source_of(declared_by) is not None  # an alert source commands nothing
        catalog = self.esc.catalog()
        try:
            tier = catalog.tier(severity)
        except KeyError as exc:
            raise UserError(str(exc.args[0])) from None
        if not title.strip():
            raise UserError("an incident needs a title")
        policy = route or catalog.policy_for(service, severity)
        day = now.strftime("%Y%m%d")
        incident = Incident(
            id=f"{day}-{self.store.next_number(day)}",
            title=title.strip()[:150],
            service=service,
            severity=severity,
            declared_by=declared_by,
            declared_at=now,
            private=private,
            drill=drill,
            roles=Roles(commander=None if by_source else declared_by),
            policy=policy,
            escalation=starting(now) if policy else EscalationState.idle(),
            token=1,
            description=description.strip(),
            update_token=1,
            update_due_at=now.timestamp() + tier.update_every_s,
        )
        items = []
        if tier.stakeholder_channel and not drill:
            text = messages.stakeholder_declared(incident, tier.label)
            items.append(
                OutboxItem(
                    "stakeholder:declared",
                    OutboxKind.ANNOUNCE,
                    tier.stakeholder_channel,
                    text,
                    created_at=now.timestamp(),
                )
            )
        if origin and _announced_where_declared(incident, origin, tier.stakeholder_channel):
            text = messages.declared_here(incident, tier.label)
            items.append(
                OutboxItem(
                    ORIGIN_KEY, OutboxKind.ANNOUNCE, origin, text, created_at=now.timestamp()
                )
            )
        with self.store.transaction() as pipe:
            self.store.put(incident, pipe)
            text = f"declared {severity} on {service} by {messages.who(declared_by)}"
            self.store.record(incident.id, Entry(now, Kind.DECLARED, declared_by, text), pipe)
            if policy is None:
                note = f"no escalation policy routes {service} at {severity}: nobody is paged"
                self.store.record(incident.id, Entry(now, Kind.NOTE, BOT, note), pipe)
            self.store.add_outbox(incident.id, items, pipe)
        self.store.replicated("declare")  # before anyone is told, or paged
        log.info("incident_declared", incident_id=incident.id, severity=severity, service=service)
        timers = self.esc.timers
        timers.open_channel(incident.id)
        if policy is not None:
            timers.schedule_tick(incident.id, incident.token, None)
        if incident.update_due_at is None:
            raise RuntimeError(f"declared incident {incident.id} has no status update due")
        timers.schedule_remind(incident.id, incident.update_token, 1, incident.update_due_at)
        if items:
            timers.schedule_drain(incident.id)
        return incident

    def command(
        self,
        incident_id: str,
        user: str,
        spec: CommandSpec,
        current: Incident | None = None,
        limited: object = None,
    ) -> Outcome:
        """Run `spec` for `user` atomically. `current` (the incident as just read) answers a
        refusal and is what a record-only command records on; a change re-reads under WATCH.
        `limited`: the write limiter's answer (as Redis gave it) when the caller asked it
        already, with its read (`limit_for`); only for an action that nothing refuses
        before the limiter (a note)."""
        now = clock.now()
        action, kind, text, authorize = spec.action, spec.kind, spec.text, spec.authorize
        tag = uuid.uuid4().hex[:12]  # the same across WATCH retries
        say_key, edit_key = f"say:{kind.value}:{tag}", f"edit:pages:{tag}"

        def refusal(incident: Incident, conn: Pipeline | None) -> Outcome | None:
            return self._refusal(incident, user, action, authorize, now, conn)

        def run(incident: Incident, pipe: Pipeline, checked: bool = False) -> Outcome:
            refused = None if checked else refusal(incident, pipe)
            if refused is not None:
                return refused
            updated = spec.change(incident, pipe, now)
            said = text(updated) if callable(text) else text
            entry = Entry(now, kind, user, said)
            self.store.record(incident.id, entry, pipe, drill=incident.drill)
            announce = spec.announce
            shout = announce if announce is not None else messages.announcement(kind, said)
            items = [say(shout, now, key=say_key)] if shout else []
            items += spec.outbox(updated, now) if spec.outbox else []
            if incident.paged and blocks.page_state(updated) != blocks.page_state(incident):
                items.append(revise_pages(now, key=edit_key))
            items += follow_items(incident, updated, now, tag)  # PagerDuty told once
            self.store.add_outbox(incident.id, items, pipe)
            if spec.record_only:
                if updated is not incident:
                    raise RuntimeError("a record-only command changed the incident")
            else:
                self.store.put(updated, pipe)
                if updated.token != incident.token:  # the old token's timer is moot
                    self.esc.timers.cancel_tick(incident.id, incident.token, pipe)
            return Outcome(True, updated, said, any(i.to == "@incident" for i in items))

        seen = current or self.store.get(incident_id)  # a refusal is answered from this read
        outcome = refusal(seen, None) or self._throttled(seen, user, action, limited)
        if outcome is None and spec.record_only:  # nothing of the incident is written, so
            with self.store.transaction() as pipe:  # nothing to WATCH: one MULTI for the entry
                outcome = run(seen, pipe, checked=True)  # `refusal(seen)` said None
        elif outcome is None:
            outcome = self.store.update(incident_id, run)
        # A change is logged; a note (already on the timeline) or a refusal by the
        # incident's state (an ack storm's late clicks) only at debug level.
        changed = outcome.ok and not spec.record_only
        # At debug: only when the stdlib logger would take it (what filter_by_level asks,
        # bot.logs), so a debug line below the level costs no event at all.
        if changed or logging.getLogger(__name__).isEnabledFor(logging.DEBUG):
            (log.info if changed else log.debug)(
                "incident_command",
                incident_id=incident_id,
                user_id=user,
                action=action.value,
                ok=outcome.ok,
            )
        if outcome.ok:
            if not spec.record_only:
                self.store.replicated(action.value)  # before the person is answered
                self.esc.after_commit(outcome.incident)
                self.esc.refresh_header(incident_id)
            if spec.after:
                spec.after(outcome.incident)
        return outcome

    def refusal(
        self, incident: Incident, user: str, action: Action, authorize: Authorize | None = None
    ) -> str | None:
        """Why `user` may not take `action` on the incident as it is now (None: they may), so a
        modal leading to it is refused before it opens; the submission is checked again."""
        refused = self._refusal(incident, user, action, authorize, clock.now(), None)
        return None if refused is None else refused.message

    def _refusal(
        self,
        incident: Incident,
        user: str,
        action: Action,
        authorize: Authorize | None,
        now: datetime,
        conn: Pipeline | None,
    ) -> Outcome | None:
        """Why `user` may not `action` the incident as it is; counted, never recorded."""
        try:
            machine.check_transition(incident, action)
        except TransitionRefused as refused:
            return Outcome(False, incident, messages.refusal(refused))
        if action is Action.REOPEN and self.expired(incident, now):
            days = f"{(self.retention_s or 0) / 86400:g}"
            return Outcome(False, incident, messages.reopen_expired(incident, days))
        if source_of(user) is not None:  # an alert source acts only on what it declared
            allowed, rule = source_may_act(incident.declared_by, user)
        elif authorize is None:
            rights = self.esc.config().tier(incident.severity).rights
            # A usergroup only adds rights: ask for the person's groups (a directory call
            # once its cache is stale) only when their own rights do not suffice.
            allowed, rule = machine.authorize(rights, action, incident, user)
            if not allowed:
                groups = self.esc.directory.groups_of(user)
                allowed, rule = machine.authorize(rights, action, incident, user, groups)
        else:
            allowed, rule = authorize(incident, self.esc.directory.groups_of(user))
        if allowed:
            return None
        self.store.count("refused", conn, action=action.value, reason="rights")
        log.warning("action_refused", incident_id=incident.id, user_id=user, rule=rule)
        return Outcome(False, incident, messages.not_allowed(action, rule))

    def limit_for(self, user: str) -> Also | None:
        """The write limiter's question about `user`, for a caller to queue in a round trip
        of its own (`Store.first_delivery_in`) and hand its answer to a note (`limited`);
        None when nothing limits their writes."""
        limiter = self.limiter
        if limiter is None or source_of(user) is not None:
            return None
        return lambda pipe, incident_id: limiter.queue(pipe, incident_id, user)

    def not_run(self, incident_id: str, user: str, limited: object) -> None:
        """A note whose limiter was asked (`limit_for`) will not run after all (Slack re-sent
        it): the write the limiter counted, if it counted one, is given back."""
        if self.limiter is not None and self.limiter.seconds(limited) == 0:
            self.limiter.give_back(incident_id, user)

    def _throttled(
        self, incident: Incident, user: str, action: Action, limited: object = None
    ) -> Outcome | None:
        """A refusal when `user` writes to the incident faster than the limit allows
        (`limited`: the limiter's answer, already asked)."""
        limiter = self.limiter
        if source_of(user) is not None:  # bounded by its groups' changes, not by a rate
            return None
        if limiter is None:
            return None
        wait = limiter.take(incident.id, user) if limited is None else limiter.seconds(limited)
        if not wait:
            return None
        return write_limited(self.store, limiter, incident, user, action, wait)

    def acknowledge(self, incident_id: str, user: str, current: Incident | None = None) -> Outcome:
        """`current`: the incident as the caller just read it; a refusal is answered from it
        (the change itself is made under WATCH on a fresh read)."""
        return self.command(
            incident_id,
            user,
            CommandSpec(
                Action.ACKNOWLEDGE,
                lambda inc, pipe, now: machine.acknowledge(inc, user, now),
                Kind.ACKNOWLEDGED,
                f"acknowledged by {messages.who(user)}",
            ),
            current,
        )

    def mitigate(self, incident_id: str, user: str) -> Outcome:
        return self.command(
            incident_id,
            user,
            CommandSpec(
                Action.MITIGATE,
                lambda inc, pipe, now: machine.mitigate(inc, user, now),
                Kind.MITIGATED,
                f"mitigated by {messages.who(user)}",
            ),
        )

    def resolve(self, incident_id: str, user: str, summary: str = "") -> Outcome:
        text = f"resolved by {messages.who(user)}" + (
            f": {messages.escape(summary)}" if summary else ""
        )
        return self.command(
            incident_id,
            user,
            CommandSpec(
                Action.RESOLVE,
                lambda inc, pipe, now: machine.resolve(inc, user, now),
                Kind.RESOLVED,
                text,
                after=self._resolved,
            ),
        )

    def _resolved(self, incident: Incident) -> None:
        for observer in self.on_resolve:
            observer(incident)

    def reopen(self, incident_id: str, user: str) -> Outcome:
        def change(inc: Incident, pipe: Pipeline, now: datetime) -> Incident:
            reopened = replace(machine.reopen(inc), token=inc.token + 1)
            if reopened.policy is None:
                return reopened
            return replace(reopened, escalation=starting(now, inc.escalation))

        spec = CommandSpec(
            Action.REOPEN, change, Kind.REOPENED, f"reopened by {messages.who(user)}"
        )
        return self.command(incident_id, user, spec)

    def escalate(self, incident_id: str, user: str, reason: str = "") -> Outcome:
        def change(inc: Incident, pipe: Pipeline, now: datetime) -> Incident:
            if inc.policy is None:
                raise UserError("this incident has no escalation policy to walk")
            plan = planner.escalate(inc.policy, inc.escalation, now, self.esc.lookup)
            if plan.exhausted and inc.escalation.status is EscalationStatus.EXHAUSTED:
                raise UserError(plan.notes[0] if plan.notes else "the policy is exhausted")
            if inc.status is not Status.ACKNOWLEDGED:  # the walk goes on from the new step
                return self.esc.apply(inc, plan, pipe, now, actor=user)
            # Acknowledged: page the next step and stop there; nobody is announced as missing.
            if plan.exhausted:
                raise UserError(messages.no_step_left(inc))
            return self.esc.apply(inc, replace(plan, state=plan.state.stopped()), pipe, now, user)

        why = f": {messages.escape(reason)}" if reason else ""
        spec = CommandSpec(Action.ESCALATE, change, Kind.ESCALATED, f"escalated by <@{user}>{why}")
        return self.command(incident_id, user, spec)

    def change_severity(
        self, incident_id: str, user: str, severity: str, reason: str = ""
    ) -> Outcome:
        catalog = self.esc.catalog()
        try:
            target = catalog.tier(severity)
        except KeyError as exc:
            raise UserError(str(exc.args[0])) from None

        def authorize(inc: Incident, groups: frozenset[str]) -> tuple[bool, str]:
            rights = catalog.tier(inc.severity).rights
            return machine.authorize_severity_change(
                rights, severity, target.rights, inc, user, groups
            )

        def change(inc: Incident, pipe: Pipeline, now: datetime) -> Incident:
            if inc.severity == severity:
                raise UserError(f"the incident is already {severity}")
            routed = catalog.policy_for(inc.service, severity)
            updated = replace(inc, severity=severity)
            old = inc.policy.name if inc.policy else None
            if routed is None or routed.name == old or inc.status is Status.MITIGATED:
                return updated
            note = (
                f"{severity} routes {inc.service} to policy {routed.name}: "
                "paging restarts at step 1"
            )
            self.store.record(inc.id, Entry(now, Kind.REROUTED, BOT, note), pipe)
            return replace(
                updated,
                policy=routed,
                status=Status.TRIGGERED,
                escalation=starting(now, inc.escalation),
                token=inc.token + 1,
            )

        why = f": {messages.escape(reason)}" if reason else ""
        return self.command(
            incident_id,
            user,
            CommandSpec(
                Action.CHANGE_SEVERITY,
                change,
                Kind.SEVERITY_CHANGED,
                f"severity set to {severity} by {messages.who(user)}{why}",
                authorize=authorize,
            ),
        )

    def assign_role(self, incident_id: str, user: str, role: str, assignee: str) -> Outcome:
        if role not in ("commander", "comms", "scribe"):
            raise UserError(f"unknown role {role!r}: use commander, comms or scribe")

        def change(inc: Incident, pipe: Pipeline, now: datetime) -> Incident:
            return replace(inc, roles=replace(inc.roles, **{role: assignee}))

        text = f"<@{assignee}> is now {role} (set by <@{user}>)"
        return self.command(
            incident_id, user, CommandSpec(Action.ASSIGN_ROLE, change, Kind.NOTE, text)
        )

    def note(
        self,
        incident_id: str,
        user: str,
        text: str,
        incident: Incident | None = None,
        limited: object = None,
    ) -> Outcome:
        """A note on the timeline; `incident`: as just read by the caller (saves a read);
        `limited`: the write limiter's answer, asked with that read (`limit_for`; a note is
        refused by nothing before the limiter, so asking first changes no answer)."""
        clean = messages.escape(text.strip())
        if not clean:
            raise UserError("a note needs some text")
        spec = CommandSpec(
            Action.NOTE,
            lambda inc, pipe, now: inc,
            Kind.NOTE,
            note_text(user, clean),
            announce="",
            record_only=True,  # its 3 enqueues were 1/3 of a note's web time (BENCHMARKS.md)
        )
        return self.command(incident_id, user, spec, current=incident, limited=limited)

    def quick_note(
        self, channel_id: str, user: str, text: str, retry_key: str
    ) -> QuickAnswer | None:
        """A note typed in `channel_id`, in one round trip when this process has read the
        channel's incident before and may decide on that read (bot.incident.notes); None
        when it cannot be (nothing was asked: the usual path runs, retry check first)."""
        return self.quick(channel_id, user, text, retry_key, self.limiter)
