"""Incident commands: declare, acknowledge, escalate, mitigate, resolve, reopen, re-severity.

Each command reads the incident under WATCH, checks the state machine and the tier's
decision rights, and commits the change with its timeline entry atomically. Of twenty
simultaneous clicks one commits; the others re-read and are told who got there first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import structlog
from redis.client import Pipeline

from bot import clock
from bot.domain import incident as machine
from bot.domain import policy as planner
from bot.domain.incident import Action, Incident, Status, TransitionRefused
from bot.domain.policy import EscalationState, EscalationStatus
from bot.domain.timeline import Entry, Kind
from bot.escalation import BOT, Escalation

log = structlog.get_logger(__name__)


Change = Callable[[Incident, Pipeline, datetime], Incident]


class UserError(Exception):
    """Something the person asked for cannot be done; the message says why, kindly."""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    incident: Incident
    message: str


def _starting(now: datetime) -> EscalationState:
    """Escalation that pages step 1 as soon as the first tick runs."""
    return EscalationState(EscalationStatus.ACTIVE, -1, 0, now.timestamp())


class Engine:
    def __init__(self, escalation: Escalation) -> None:
        self.esc = escalation
        self.store = escalation.store

    def declare(
        self,
        *,
        title: str,
        service: str,
        severity: str,
        declared_by: str,
        private: bool = False,
        drill: bool = False,
    ) -> Incident:
        now = clock.now()
        catalog = self.esc.catalog()
        try:
            catalog.tier(severity)
        except KeyError as exc:
            raise UserError(str(exc.args[0])) from None
        if not title.strip():
            raise UserError("an incident needs a title")
        policy = catalog.policy_for(service, severity)
        day = now.strftime("%Y%m%d")
        incident = Incident(
            id=f"{day}-{self.store.next_number(day)}",
            title=title.strip(),
            service=service,
            severity=severity,
            declared_by=declared_by,
            declared_at=now,
            private=private,
            drill=drill,
            policy=policy,
            escalation=_starting(now) if policy else EscalationState.idle(),
            token=1,
        )
        with self.store.r.pipeline() as pipe:
            self.store.put(incident, pipe)
            text = f"declared {severity} on {service} by <@{declared_by}>"
            self.store.record(incident.id, Entry(now, Kind.DECLARED, declared_by, text), pipe)
            if policy is None:
                note = f"no escalation policy routes {service} at {severity}: nobody is paged"
                self.store.record(incident.id, Entry(now, Kind.NOTE, BOT, note), pipe)
            pipe.execute()
        log.info("incident_declared", incident_id=incident.id, severity=severity, service=service)
        if policy is not None:
            self.esc.timers.schedule_tick(incident.id, incident.token, None)
        return incident

    def _command(
        self,
        incident_id: str,
        user: str,
        action: Action,
        change: Change,
        kind: Kind,
        text: str,
    ) -> Outcome:
        now = clock.now()
        catalog = self.esc.catalog()

        def run(incident: Incident, pipe: Pipeline) -> Outcome:
            try:
                machine.check_transition(incident, action)
            except TransitionRefused as refused:
                return Outcome(False, incident, refused.reason)
            rights = catalog.tier(incident.severity).rights
            groups = self.esc.directory.groups_of(user)
            allowed, rule = machine.authorize(rights, action, incident, user, groups)
            if not allowed:
                entry = Entry(now, Kind.REFUSED, user, f"{action.value} refused: {rule}")
                self.store.record(incident.id, entry, pipe)
                return Outcome(
                    False, incident, f"You may not {action.value} this incident: {rule}."
                )
            updated = change(incident, pipe, now)
            self.store.record(incident.id, Entry(now, kind, user, text), pipe)
            self.store.put(updated, pipe)
            return Outcome(True, updated, text)

        outcome = self.store.update(incident_id, run)
        log.info(
            "incident_command",
            incident_id=incident_id,
            user_id=user,
            action=action.value,
            ok=outcome.ok,
        )
        if outcome.ok:
            self.esc.after_commit(outcome.incident)
        return outcome

    def acknowledge(self, incident_id: str, user: str) -> Outcome:
        return self._command(
            incident_id,
            user,
            Action.ACKNOWLEDGE,
            lambda inc, pipe, now: machine.acknowledge(inc, user, now),
            Kind.ACKNOWLEDGED,
            f"acknowledged by <@{user}>",
        )

    def mitigate(self, incident_id: str, user: str) -> Outcome:
        return self._command(
            incident_id,
            user,
            Action.MITIGATE,
            lambda inc, pipe, now: machine.mitigate(inc, user, now),
            Kind.MITIGATED,
            f"mitigated by <@{user}>",
        )

    def resolve(self, incident_id: str, user: str, summary: str = "") -> Outcome:
        text = f"resolved by <@{user}>" + (f": {summary}" if summary else "")
        return self._command(
            incident_id,
            user,
            Action.RESOLVE,
            lambda inc, pipe, now: machine.resolve(inc, user, now),
            Kind.RESOLVED,
            text,
        )

    def reopen(self, incident_id: str, user: str) -> Outcome:
        def change(inc: Incident, pipe: Pipeline, now: datetime) -> Incident:
            reopened = machine.reopen(inc)
            if reopened.policy is None:
                return replace(reopened, token=inc.token + 1)
            return replace(reopened, escalation=_starting(now), token=inc.token + 1)

        return self._command(
            incident_id, user, Action.REOPEN, change, Kind.REOPENED, f"reopened by <@{user}>"
        )

    def escalate(self, incident_id: str, user: str, reason: str = "") -> Outcome:
        def change(inc: Incident, pipe: Pipeline, now: datetime) -> Incident:
            if inc.policy is None:
                raise UserError("this incident has no escalation policy to walk")
            plan = planner.escalate(inc.policy, inc.escalation, now, self.esc.lookup)
            if plan.exhausted and inc.escalation.status is EscalationStatus.EXHAUSTED:
                raise UserError(plan.notes[0] if plan.notes else "the policy is exhausted")
            stepped = self.esc.apply(inc, plan, pipe, now, actor=user)
            return replace(stepped, status=Status.TRIGGERED)

        text = f"escalated by <@{user}>" + (f": {reason}" if reason else "")
        return self._command(incident_id, user, Action.ESCALATE, change, Kind.ESCALATED, text)

    def change_severity(
        self, incident_id: str, user: str, severity: str, reason: str = ""
    ) -> Outcome:
        catalog = self.esc.catalog()
        try:
            catalog.tier(severity)
        except KeyError as exc:
            raise UserError(str(exc.args[0])) from None

        def change(inc: Incident, pipe: Pipeline, now: datetime) -> Incident:
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
                escalation=_starting(now),
                token=inc.token + 1,
            )

        text = f"severity {severity} set by <@{user}>" + (f": {reason}" if reason else "")
        return self._command(
            incident_id, user, Action.CHANGE_SEVERITY, change, Kind.SEVERITY_CHANGED, text
        )
