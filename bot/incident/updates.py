"""Status updates on a cadence, reminders when they are late, and pages by hand.

An update posts in the header's thread, is mirrored to the stakeholder channel, and
re-arms the reminder: a job at the due time reminds the commander; if the update is still
missing half a cadence later, a second reminds the comms lead. Reminders are fenced by the
incident's `update_token`, like escalation steps, and rebuilt by the reconciler.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

import structlog
from redis.client import Pipeline

from bot import clock
from bot.domain import incident as machine
from bot.domain.incident import Action, Incident
from bot.domain.outbox import OutboxKind
from bot.domain.outcomes import JobOutcome
from bot.domain.timeline import BOT, Entry, Kind
from bot.domain.updates import StatusUpdate, reminder_delay
from bot.incident.commands import Engine
from bot.incident.spec import CommandSpec, Outcome, UserError, say
from bot.render import messages
from bot.state.store import OutboxItem

log = structlog.get_logger(__name__)


class Updates:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.esc = engine.esc
        self.store = engine.store

    def post(self, incident_id: str, user: str, update: StatusUpdate) -> Outcome:
        problems = update.problems()
        if problems:
            raise UserError("; ".join(f"{k}: {v}" for k, v in problems.items()))
        catalog = self.esc.catalog()

        def change(inc: Incident, pipe: Pipeline, now: datetime) -> Incident:
            return replace(
                inc,
                updates=inc.updates + 1,
                update_token=inc.update_token + 1,
                update_due_at=now.timestamp() + update.next_in_s,
            )

        def items(inc: Incident, now: datetime) -> list[OutboxItem]:
            text = messages.update_text(inc, update, user, inc.updates)
            out = [say(text, now, key=f"update:{inc.updates}", thread=True)]
            channel = catalog.tier(inc.severity).stakeholder_channel
            if channel and not inc.drill:  # a drill never reaches the stakeholders
                mirror = messages.stakeholder_update(inc, update, inc.updates)
                out.append(
                    OutboxItem(
                        f"stakeholder:update:{inc.updates}",
                        OutboxKind.ANNOUNCE,
                        channel,
                        mirror,
                        created_at=now.timestamp(),
                    )
                )
            return out

        def rearm(inc: Incident) -> None:
            if inc.update_due_at is None:
                raise RuntimeError(f"incident {inc.id} has no status update due")
            self.esc.timers.schedule_remind(inc.id, inc.update_token, 1, inc.update_due_at)

        return self.engine.command(
            incident_id,
            user,
            CommandSpec(
                Action.UPDATE,
                change,
                Kind.STATUS_UPDATE,
                f"status update by <@{user}>: {update.status}; {messages.escape(update.symptoms)}",
                announce="",
                outbox=items,
                after=rearm,
            ),
        )

    def page(self, incident_id: str, user: str, people: list[str], message: str) -> Outcome:
        """Page people by hand (`/incident page @x @group`): each gets a DM with the buttons."""
        if not people:
            raise UserError("name at least one person or usergroup to page")
        batch = uuid.uuid4().hex[:8]
        catalog = self.esc.catalog()

        def change(inc: Incident, pipe: Pipeline, now: datetime) -> Incident:
            rights = catalog.tier(inc.severity).rights
            groups = self.esc.directory.groups_of(user)
            grant = machine.page_grants_rights(rights, inc, user, groups)
            return machine.record_pages(inc, people, grant=grant, pager=user)

        def items(inc: Incident, now: datetime) -> list[OutboxItem]:
            text = messages.manual_page_text(inc, user, message)
            return [  # by each person's notification rules, as a page by the policy is
                item
                for p in dict.fromkeys(people)
                for item in self.esc.page_items(
                    f"page:manual:{batch}:{p}", p, text, now, via=f"page by {user}"
                )
            ]

        who = ", ".join(f"<@{p}>" for p in dict.fromkeys(people))
        said = f"<@{user}> paged {who}" + (f": {messages.escape(message)}" if message else "")

        def text(inc: Incident) -> str:
            unentitled = [p for p in dict.fromkeys(people) if p not in inc.responders()]
            if not unentitled:
                return said
            return said + (
                f" (this page gives {', '.join(f'<@{p}>' for p in unentitled)} no responder "
                f"rights: only a page by a responder, or by someone {inc.severity} rights.page "
                "names, does, and never one's own)"
            )

        spec = CommandSpec(Action.PAGE, change, Kind.PAGE_REQUESTED, text, outbox=items)
        return self.engine.command(incident_id, user, spec)

    def remind(self, incident_id: str, token: int, stage: int) -> JobOutcome:
        """The reminder job: fenced by the update token; stage 1 then stage 2."""
        now = clock.now()
        catalog = self.esc.catalog()

        def run(inc: Incident, pipe: Pipeline) -> tuple[JobOutcome, Incident]:
            if inc.update_token != token or not inc.is_open or inc.update_due_at is None:
                return JobOutcome.STALE, inc
            cadence = catalog.tier(inc.severity).update_every_s
            due = inc.update_due_at + reminder_delay(stage, cadence)
            if now.timestamp() < due - 1.0:
                return JobOutcome.NOT_DUE, inc
            who = inc.roles.commander if stage == 1 else (inc.roles.comms or inc.roles.commander)
            text = messages.reminder_text(inc, who, stage)
            key = f"remind:{token}:{stage}"
            self.store.add_outbox(inc.id, [say(text, now, key=key, thread=True)], pipe)
            entry = Entry(now, Kind.REMINDED, BOT, f"status update overdue: reminded <@{who}>")
            self.store.record(inc.id, entry, pipe)
            return JobOutcome.REMINDED, inc

        outcome, incident = self.store.update(incident_id, run)
        log.info("update_reminder", incident_id=incident_id, stage=stage, outcome=outcome)
        if outcome is JobOutcome.REMINDED:
            if stage == 1 and incident.update_due_at is not None:
                cadence = catalog.tier(incident.severity).update_every_s
                at = incident.update_due_at + reminder_delay(2, cadence)
                self.esc.timers.schedule_remind(incident_id, token, 2, at)
            self.esc.deliver(incident_id)
        elif outcome is JobOutcome.NOT_DUE and incident.update_due_at is not None:
            cadence = catalog.tier(incident.severity).update_every_s
            at = incident.update_due_at + reminder_delay(stage, cadence)
            self.esc.timers.schedule_remind(incident_id, token, stage, at, suffix="-early")
        return outcome
