"""The `/incident` listener: parse, check where it was typed, act through the engine, reply.

Replies are ephemeral (the ack body), sent once what the command wrote is committed.
Anything that talks to Slack on the bot's behalf runs in RQ jobs, except opening a modal,
which must happen within the trigger's 3 s: it runs right after the answer (bot.slack.after).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import structlog
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import clock
from bot.domain.contacts import contact_matrix
from bot.domain.incident import Action, Incident
from bot.domain.updates import StatusUpdate
from bot.incident.notes import Moved, Retried
from bot.incident.spec import Outcome, UserError
from bot.oncall.changes import Refused
from bot.render import messages, schedule_changes, views
from bot.render.oncall import oncall_blocks, oncall_text
from bot.render.schedule_changes import changes_text
from bot.runtime import Runtime
from bot.slack import belongs, edge, on_learning
from bot.slack import commands as cmd
from bot.slack.after import AfterAnswer

log = structlog.get_logger(__name__)
Reply = str | dict[str, Any]


def usage_reply(error: cmd.UsageError) -> str:
    lines = [f":warning: {error.message}"]
    if error.suggestion:
        lines.append(error.suggestion)
    if error.usage:
        lines.append(f"Usage: {error.usage}")
    return "\n".join(lines)


def outcome_reply(outcome: Outcome) -> str:
    return messages.answer(outcome.ok, outcome.message, announced=outcome.announced)


def guess_service(title: str, services: list[str]) -> str:
    """The first known service named in the title (`Checkout errors` -> checkout), else `*`."""
    words = set(re.findall(r"[a-z0-9][a-z0-9_-]*", title.lower()))
    for service in services:
        if service.lower() in words:  # whole words: `auth` is not named by "author"
            return service
    return "*"


class CommandHandler:
    def __init__(self, rt: Runtime, after: AfterAnswer) -> None:
        self.rt = rt
        self.after = after
        self.seal = belongs.Seal.from_settings(rt.settings)

    def services(self) -> list[str]:
        names = {s for p in self.rt.catalog().policies.values() for s in p.services if s != "*"}
        return sorted(names)

    def people(self, mentions: tuple[cmd.Mention, ...]) -> list[str]:
        users: list[str] = []
        for m in mentions:
            if m.id is None:
                raise UserError(
                    f"I could not tell who @{m.name} is: pick them from Slack's @-autocomplete"
                )
            directory = self.rt.escalation.directory
            if m.kind == "usergroup":
                members = directory.usergroup_members(m.id)
                if not members:
                    raise UserError(f"usergroup <!subteam^{m.id}> does not exist or has no members")
                users += members
            elif problem := directory.cannot_page(m.id):
                raise UserError(f"I cannot page <@{m.id}>: {problem}")
            else:
                users.append(m.id)
        return users

    def open_declare(
        self,
        client: WebClient,
        inv: edge.Slash,
        title: str | None,
        sev: str | None,
        respond: Respond | None,
    ) -> None:
        catalog = self.rt.catalog()
        origin = self.seal.seal(views.DECLARE, inv.channel_id, inv.user_id)  # announced there
        view = views.declare_modal(
            self.services(), catalog.tiers, title=title, severity=sev, channel=origin
        )
        self.after.open_view(client, inv.trigger_id, view, respond)

    def handle(
        self,
        command: cmd.Command,
        inv: edge.Slash,
        client: WebClient,
        ack: Ack,
        here: Incident | None = None,
        respond: Respond | None = None,
        limited: object = None,
    ) -> None:
        """`here`: the channel's incident, if already read; `limited`: the write limiter's
        answer for a note, asked with that read (`Engine.limit_for`)."""
        if isinstance(command, cmd.OpenDeclareModal):
            ack()
            self.open_declare(client, inv, None, None, respond)
            return
        if isinstance(command, cmd.Declare) and not (command.severity and command.title):
            ack()
            self.open_declare(client, inv, command.title, command.severity, respond)
            return
        if isinstance(command, cmd.Update) and command.text is None:
            incident = self.incident_here(inv, here)
            if refused := self.rt.engine.refusal(incident, inv.user_id, Action.UPDATE):
                raise UserError(refused)  # before the form, not after filling it
            ack()
            cadence = self.rt.catalog().tier(incident.severity).update_every_s
            sealed = self.seal.seal(views.UPDATE, incident.id, inv.user_id)
            view = views.update_modal(incident, cadence, sealed)
            self.after.open_view(client, inv.trigger_id, view, respond)
            return
        reply = self.reply(command, inv, here, limited)
        if reply:
            ack(text=reply)
        else:
            ack()  # the channel's message answers it

    def first_time(
        self, command: cmd.Command, inv: edge.Slash, ack: Ack
    ) -> tuple[Incident | None, object] | None:
        """None once `command` is answered here: Slack re-sent it, or it is a note written
        (or refused by the write limit) in one round trip; else the channel's incident if it
        was read on the way, and a note's write-limit answer if asked (`Engine.limit_for`)."""
        rt, key = self.rt, f"cmd:{inv.trigger_id}"
        note = command.text.strip() if isinstance(command, cmd.Note) else ""
        quick = rt.engine.quick_note(inv.channel_id, inv.user_id, note, key) if note else None
        if isinstance(quick, Outcome):
            ack(text=outcome_reply(quick))
            return None
        if isinstance(quick, Moved):  # its retry key is taken, its limit asked
            return quick.incident, quick.limited
        here, limited = None, None
        if isinstance(quick, Retried):
            first = False
        else:
            ask = rt.engine.limit_for(inv.user_id) if note else None
            first, here, limited = rt.store.first_delivery_in(key, inv.channel_id, also=ask)
        if not first:
            ack()  # Slack re-sent a command we already handled
            if here is not None and limited is not None:
                rt.engine.not_run(here.id, inv.user_id, limited)
            log.info("duplicate_delivery", trigger_id=inv.trigger_id)
            return None
        return here, limited

    def incident_here(self, inv: edge.Slash, here: Incident | None = None) -> Incident:
        incident = here or self.rt.store.incident_in_channel(inv.channel_id)
        if incident is None:
            open_ones = [self.rt.store.find(i) for i in self.rt.store.open_ids()]
            listed = ", ".join(f"<#{i.channel_id}>" for i in open_ones if i and i.channel_id)
            raise UserError("this works in an incident channel" + (f": {listed}" if listed else ""))
        return incident

    def reply(
        self,
        command: cmd.Command,
        inv: edge.Slash,
        here: Incident | None = None,
        limited: object = None,
    ) -> Reply:
        rt, user = self.rt, inv.user_id
        if isinstance(command, cmd.Declare):
            if not (command.title and command.severity):  # without them, `ack` opened the form
                raise ValueError("a declaration needs a severity and a title")
            incident = rt.engine.declare(
                title=command.title,
                severity=command.severity,
                declared_by=user,
                service=guess_service(command.title, self.services()),
                origin=inv.channel_id,
            )
            return messages.declared(incident)
        if isinstance(command, cmd.Drill):
            drill = rt.drills.start(user, command.policy, command.severity, command.scenario)
            return messages.declared(drill)
        if isinstance(command, cmd.Help):
            return cmd.help_text(command.topic, severities=rt.catalog().tier_names)
        if isinstance(command, cmd.ListIncidents):
            return self.list_open(user)
        if isinstance(command, cmd.OnCall):
            return self.oncall(command.target)
        if isinstance(command, cmd.OnCallNote):
            names = rt.handoffs.note(user, command.text)
            if not names:
                raise UserError("you are not on call now: a note is for your own handoff")
            listed = ", ".join(f"*{messages.escape(n)}*" for n in names)
            return f":memo: Noted for the next handoff of {listed}."
        if isinstance(command, (cmd.OnCallOverride, cmd.OnCallSwap, cmd.OnCallRemove)):
            return self.change_schedule(command, user)
        if isinstance(command, cmd.Stats):
            return on_learning.stats_reply(rt, command)
        incident = self.incident_here(inv, here)
        return self.in_channel(command, incident, user, limited if incident is here else None)

    def in_channel(
        self, command: cmd.Command, incident: Incident, user: str, limited: object = None
    ) -> Reply:
        rt, iid = self.rt, incident.id
        actions: dict[type, Callable[[], Outcome]] = {
            cmd.Ack: lambda: rt.engine.acknowledge(iid, user),
            cmd.Mitigate: lambda: rt.engine.mitigate(iid, user),
            cmd.Reopen: lambda: rt.engine.reopen(iid, user),
        }
        if type(command) in actions:
            return outcome_reply(actions[type(command)]())
        if isinstance(command, cmd.Escalate):
            return outcome_reply(rt.engine.escalate(iid, user, command.reason))
        if isinstance(command, cmd.Resolve):
            return outcome_reply(rt.engine.resolve(iid, user, command.summary))
        if isinstance(command, cmd.ChangeSeverity):
            return outcome_reply(
                rt.engine.change_severity(iid, user, command.severity, command.reason)
            )
        if isinstance(command, cmd.AssignRole):
            who = self.people((command.user,))[0]
            return outcome_reply(rt.engine.assign_role(iid, user, command.role, who))
        if isinstance(command, cmd.Handoff):
            who = self.people((command.user,))[0]
            return outcome_reply(rt.engine.assign_role(iid, user, "commander", who))
        if isinstance(command, cmd.Note):
            return outcome_reply(rt.engine.note(iid, user, command.text, incident, limited))
        if isinstance(command, cmd.Page):
            return outcome_reply(
                rt.updates.page(iid, user, self.people(command.targets), command.message)
            )
        if isinstance(command, cmd.Update):
            cadence = rt.catalog().tier(incident.severity).update_every_s
            status = "monitoring" if incident.status.value == "mitigated" else "investigating"
            update = StatusUpdate(
                status, command.text or "", "see the thread", "see the thread", cadence
            )
            return outcome_reply(rt.updates.post(iid, user, update))
        if isinstance(command, cmd.Status):
            return self.status(incident)
        if isinstance(command, cmd.Timeline):
            return self.timeline(incident)
        if isinstance(command, cmd.Runbook):
            runbook = rt.runbooks().for_service(incident.service)
            if runbook is None:
                return f"No runbook matches service {messages.escape(incident.service)}."
            rt.queue.enqueue("bot.jobs.post_runbook", iid)
            return f"Posting the runbook *{messages.escape(runbook.title)}* in the channel."
        if isinstance(command, (cmd.AddAction, cmd.Milestone)):
            return on_learning.in_channel(rt, command, incident, user, self.people)
        raise UserError(f"`/incident {command.subcommand}` cannot be used here")

    def oncall(self, target: str | None) -> Reply:
        now, catalog = clock.now(), self.rt.oncall.catalog()
        try:
            rows = contact_matrix(catalog, now, target=target)
        except LookupError as exc:
            raise UserError(str(exc.args[0])) from None
        shown = {r.name: r.timezone for r in rows if r.timezone is not None}
        text = changes_text(self.rt.oncall.changes.all(), shown, now)
        extra = [text] if text else []
        return {
            "text": oncall_text(rows, now, extra),
            "blocks": oncall_blocks(rows, now, extra=extra),
        }

    def change_schedule(
        self, command: cmd.OnCallOverride | cmd.OnCallSwap | cmd.OnCallRemove, user: str
    ) -> str:
        editor = self.rt.oncall
        try:
            if isinstance(command, cmd.OnCallRemove):
                return schedule_changes.removed(editor.remove(user, command.change_id), user)
            if isinstance(command, cmd.OnCallOverride):
                who = self.people((command.user,))[0]
                done = editor.override(user, command.schedule, who, command.start, command.end)
            else:
                first, second = self.people((command.first, command.second))
                done = editor.swap(user, command.schedule, first, second, command.at)
        except Refused as exc:
            raise UserError(str(exc)) from None
        return schedule_changes.made(done.change, done.timezone)

    def list_open(self, user: str) -> str:
        incidents = [i for i in (self.rt.store.find(x) for x in self.rt.store.open_ids()) if i]
        return messages.open_list(incidents, user)

    def status(self, incident: Incident) -> str:
        channels = self.rt.channels
        return messages.status(incident, channels.next_page(incident) if channels else None)

    def timeline(self, incident: Incident) -> str:
        return messages.timeline(incident, self.rt.store.timeline(incident.id))


def register(app: App, rt: Runtime, after: AfterAnswer) -> None:
    handler = CommandHandler(rt, after)

    @app.command("/incident")
    def incident_command(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        inv = edge.slash(body)
        try:
            command = cmd.parse(inv.text, severities=rt.catalog().tier_names)
        except cmd.UsageError as error:
            ack(text=usage_reply(error))
            return
        # A note in one round trip when it can be; else the retry check, with the channel's
        # incident when its link is known and a note's write-limit answer (see first_time).
        here, limited = None, None
        if inv.trigger_id:
            first = handler.first_time(command, inv, ack)
            if first is None:
                return
            here, limited = first
        try:
            handler.handle(command, inv, client, ack, here, respond, limited)
        except UserError as error:
            ack(text=f":no_entry: {error}")
