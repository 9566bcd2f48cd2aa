"""The text of the bot's messages (pages, announcements, reminders, refusals) and of its
replies to `/incident`, worded from domain values. The rest of render/ words the learning
loop, runbooks, on-call, stats, modals and Block Kit. Not yet here: the engine
(bot.incident.commands), deliveries (bot.incident.delivery) and action items
(bot.learning.actions) still word some timeline entries and refusals themselves,
bot.slack.on_command words its usage and error replies, and bot.slack.home its App Home.

User-supplied text goes through `escape` before it reaches mrkdwn, so a title such as
`<!channel>` or `<https://evil|x>` shows as typed and pings nobody. Block Kit structures
live in `bot.render.blocks`, built with `slack_sdk.models` so Slack's limits are checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.domain.alerts.sources import DRILL_SCHEDULE, source_of
from bot.domain.durations import format_duration
from bot.domain.incident import Action, Incident, Status, TransitionRefused
from bot.domain.notify import SLACK
from bot.domain.outbox import OutboxKind
from bot.domain.policy import TargetKind, service_target
from bot.domain.privacy import visible_to
from bot.domain.timeline import BOT, Entry, Kind
from bot.domain.updates import StatusUpdate
from bot.domain.words import position

PAGERDUTY_ACTOR = f"{TargetKind.PAGERDUTY.value}:"  # an actor acting from PagerDuty

SEVERITY_EMOJI = {
    "sev1": ":red_circle:",
    "sev2": ":large_orange_circle:",
    "sev3": ":large_yellow_circle:",
}
KIND_EMOJI = {
    Kind.ACKNOWLEDGED: ":white_check_mark:",
    Kind.ESCALATED: ":arrow_double_up:",
    Kind.MITIGATED: ":shield:",
    Kind.RESOLVED: ":tada:",
    Kind.REOPENED: ":leftwards_arrow_with_hook:",
    Kind.SEVERITY_CHANGED: ":rotating_light:",
    Kind.ROLE_ASSIGNED: ":bust_in_silhouette:",
    Kind.PAGE_REQUESTED: ":pager:",
    Kind.STATUS_UPDATE: ":memo:",
}


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def who(user: str) -> str:
    """A person as a mention; an alert source that acted as "alerts from <source>"; the
    scheduler of drills as "the drill schedule"; somebody who acted in PagerDuty and is not
    known on Slack (bot.inbound.pagerduty) as "<service or name> (PagerDuty)"."""
    source = source_of(user)
    if source is None and user.startswith(PAGERDUTY_ACTOR):
        return f"{escape(user.removeprefix(PAGERDUTY_ACTOR))} (PagerDuty)"
    if source is None:
        return f"<@{user}>"
    return "the drill schedule" if source == DRILL_SCHEDULE else f"alerts from {escape(source)}"


def recipient(paged: str) -> str:
    """Somebody paged, as a mention; an outside service a step notified (`pagerduty:ops`) as
    `PagerDuty service ops` or `webhook audit`, never as a Slack mention."""
    service = service_target(paged)
    if service is None:
        return f"<@{paged}>"
    kind = "PagerDuty service" if service.kind is TargetKind.PAGERDUTY else "webhook"
    return f"{kind} {escape(service.ref)}"


def paged_line(to: str, method: str, how: str) -> str:
    """The timeline's record of one page sent: `paged <@U1> by sms (step 1, via …)`, or
    `notified PagerDuty service ops (step 2, via …)`."""
    if service_target(to) is not None:
        return f"notified {recipient(to)} ({how})"
    by = "" if method == SLACK else f" by {method}"
    return f"paged <@{to}>{by} ({how})"


def slack_date(ts: float, fmt: str = "{time}", fallback: str | None = None) -> str:
    """A date Slack shows in each reader's own timezone."""
    shown = fallback or datetime.fromtimestamp(ts).strftime("%H:%M UTC")  # noqa: DTZ006
    return f"<!date^{int(ts)}^{fmt}|{shown}>"


def sev(incident: Incident) -> str:
    return (
        f"{SEVERITY_EMOJI.get(incident.severity, ':rotating_light:')} {incident.severity.upper()}"
    )


def incident_label(incident: Incident, *, redact: bool = False) -> str:
    """`SEV2 <id> · <title>`; `redact`: `SEV2 private incident <id>`, for a non-member."""
    if redact:
        return f"{incident.severity.upper()} private incident {incident.id}"
    return f"{incident.severity.upper()} {incident.id} · {escape(incident.title)}"


# What each action is, finishing "You may not ...".
ACTION_WORDS = {
    Action.ACKNOWLEDGE: "acknowledge this incident",
    Action.ESCALATE: "escalate this incident",
    Action.MITIGATE: "mark this incident mitigated",
    Action.RESOLVE: "resolve this incident",
    Action.REOPEN: "reopen this incident",
    Action.CHANGE_SEVERITY: "change this incident's severity",
    Action.PAGE: "page people for this incident",
    Action.ASSIGN_ROLE: "assign this incident's roles",
    Action.UPDATE: "post status updates on this incident",
    Action.NOTE: "add notes to this incident",
    Action.CORRECT_MILESTONE: "correct a milestone of this incident",
    Action.ADD_ACTION_ITEM: "add action items to this incident",
    Action.CLOSE_ACTION_ITEM: "close this incident's action items",
    Action.COMPLETE_REVIEW: "complete this incident's review",
    Action.CONTAIN: "run this incident's containment actions",
}
ROLE_WORDS = {"commander": "the commander", "comms": "the comms lead", "scribe": "the scribe"}
_RULE = re.compile(r"^(?P<tier>\S+) rights\.(?P<field>\w+) allows only (?P<who>.*)$")


def principal_words(principal: str) -> str:
    """A decision-rights principal as people say it: `role:commander` -> the commander."""
    kind, _, ref = principal.partition(":")
    if principal == "responder":
        return "responders"
    if kind == "role":
        return ROLE_WORDS.get(ref, f"the {ref}")
    if kind == "user":
        return f"<@{ref}>"
    if kind == "usergroup":
        return f"<!subteam^{ref}>"
    return principal


def rule_words(rule: str) -> str:
    """The rule that refused a right (`sev2 rights.resolve allows only role:commander`), in
    words, with where it is configured: on sev2 only the commander may (rights.resolve)."""
    found = _RULE.match(rule)
    if found is None:
        return rule
    who = [principal_words(p.strip()) for p in found["who"].split(",") if p.strip()]
    listed = " or ".join(who) if len(who) < 3 else ", ".join(who[:-1]) + " or " + who[-1]
    return (
        f"on {found['tier']} incidents only {listed or 'nobody'} may "
        f"(rights.{found['field']} of {found['tier']} in severities.yaml)"
    )


def not_allowed(action: Action, rule: str) -> str:
    """The answer to a person the decision rights refuse."""
    return f"You may not {ACTION_WORDS[action]}: {rule_words(rule)}."


def service_words(service: str) -> str:
    """A service as people read it: `*` (the catch-all) is any service."""
    return "any service" if service == "*" else escape(service)


def page_how(key: str, step: int, loop: int, via: str) -> str:
    """How a page came about, for the timeline: `step 1, via the x on-call schedule`, or
    `a page by @frank` for a page by hand (its outbox key is `page:manual:...`)."""
    if key.startswith("page:manual:"):
        return via_words(via)
    return f"{position(step, loop)}, via {via_words(via)}"


def service_phrase(service: str) -> str:
    """`service checkout`, or `any service` for the catch-all."""
    return "any service" if service == "*" else f"service {escape(service)}"


def via_words(via: str) -> str:
    """How a page reached somebody (the policy target that named them, or a page by hand),
    in words: `user:U1` -> <@U1> directly, `schedule:x` -> the x on-call schedule."""
    kind, _, ref = via.partition(":")
    if via.startswith("page by "):
        return f"a page by <@{via.removeprefix('page by ')}>"
    if kind == "user":
        return f"<@{ref}> directly"
    if kind == "schedule":
        return f"the {escape(ref)} on-call schedule"
    if kind == "usergroup":
        return f"the <!subteam^{ref}> group"
    if kind == "role":
        return ROLE_WORDS.get(ref, f"the {escape(ref)}")
    if service_target(via) is not None:
        return recipient(via)
    return escape(via)


def _at(when: datetime | None) -> str:
    return f" at {when:%H:%M:%S} UTC" if when else ""


def refusal(refused: TransitionRefused) -> str:
    """Why an action does not apply to the incident as it is, as its taker is told: a
    resolved incident says who resolved it (not who acknowledged it before)."""
    incident = refused.incident
    if incident.status is Status.RESOLVED and incident.resolved_by:
        by = f"<@{incident.resolved_by}>{_at(incident.resolved_at)}"
        if refused.action in (Action.ACKNOWLEDGE, Action.RESOLVE, Action.ESCALATE):
            return f"the incident is already resolved, by {by}"
        return f"the incident was resolved by {by}; reopen it first"
    if refused.action is Action.ACKNOWLEDGE and incident.acknowledged_by:
        by = f"<@{incident.acknowledged_by}>{_at(incident.acknowledged_at)}"
        return f"already acknowledged by {by}"
    if incident.status is Status.RESOLVED:
        return refused.reason
    return f"cannot {ACTION_WORDS[refused.action]}: it is {incident.status.value}"


def page_text(incident: Incident, step: int, loop: int, via: str) -> str:
    """The notification text of a page (what a phone shows)."""
    where = f" in <#{incident.channel_id}>" if incident.channel_id else ""
    ask = (
        f"<@{incident.acknowledged_by}> acknowledged it and escalated for more help."
        if incident.status is Status.ACKNOWLEDGED
        else "Acknowledge to stop escalation."
    )
    return (
        f":rotating_light: You are paged for {incident_label(incident)}{where} "
        f"({position(step, loop)}, via {via_words(via)}). {ask}"
    )


def no_step_left(incident: Incident) -> str:
    """Why an acknowledged incident cannot be escalated further by its policy."""
    name = incident.policy.name if incident.policy else "the policy"
    return (
        f"{name} has no step after the last one paged, and <@{incident.acknowledged_by}> "
        "has acknowledged: to pull in more people, use `/incident page @person`"
    )


def manual_page_text(incident: Incident, by: str, message: str) -> str:
    where = f" in <#{incident.channel_id}>" if incident.channel_id else ""
    said = f": “{escape(message)}”" if message else ""
    return f":pager: <@{by}> pages you for {incident_label(incident)}{where}{said}"


def exhausted_text(incident: Incident, *, redact: bool = False) -> str:
    """Escalation ran out; `redact` leaves a private incident's details out."""
    policy = incident.policy.name if incident.policy else "the escalation policy"
    label = incident_label(incident, redact=redact)
    where = f" (<#{incident.channel_id}>)" if incident.channel_id and not redact else ""
    return (
        f":warning: {label}{where}: {policy} is exhausted and nobody has "
        "acknowledged. Somebody must take this incident now."
    )


def announcement(kind: Kind, text: str) -> str:
    """What the incident channel is told when somebody acts."""
    return f"{KIND_EMOJI.get(kind, ':information_source:')} {text[:1].upper()}{text[1:]}"


def stakeholder_declared(incident: Incident, label: str) -> str:
    if incident.private:
        return f"{sev(incident)} A private incident was declared ({label}). Details are restricted."
    where = f" · <#{incident.channel_id}>" if incident.channel_id else ""
    return (
        f"{sev(incident)} *{escape(incident.title)}* ({label}) on "
        f"*{service_words(incident.service)}* declared by {who(incident.declared_by)}{where}"
    )


# Stands for the incident channel's link in an announcement made before the channel exists;
# the announcement waits for the channel and is sent with the link (bot.incident.delivery).
INCIDENT_CHANNEL = "<#@incident>"


def declared_here(incident: Incident, label: str) -> str:
    """A declaration, announced in the channel it was typed in (a public incident only)."""
    commander = incident.roles.commander or incident.declared_by
    return (
        f"{sev(incident)} *{escape(incident.title)}* ({escape(label)}) on "
        f"*{service_words(incident.service)}* declared by {who(incident.declared_by)}, "
        f"commander <@{commander}>: follow it in {INCIDENT_CHANNEL}"
    )


DRILL_MARK = ":test_tube: *DRILL*"  # leads everything a drill says: nobody takes it for real


def drill_marked(incident: Incident, text: str) -> str:
    """`text` led by the DRILL mark when `incident` is a drill (once: marking twice is a no-op)."""
    if not incident.drill or text.startswith(DRILL_MARK):
        return text
    return f"{DRILL_MARK} · {text}"


def topic(incident: Incident) -> str:
    commander = f"IC <@{incident.roles.commander}>" if incident.roles.commander else "no IC"
    parts = [incident.severity.upper(), incident.status.value, commander, escape(incident.title)]
    parts = ["DRILL", *parts] if incident.drill else parts
    return " · ".join(parts)[:250]


def update_text(incident: Incident, update: StatusUpdate, by: str, number: int) -> str:
    """The fixed status-update template, as mrkdwn."""
    due = incident.update_due_at
    next_at = slack_date(due, "{date_short_pretty} {time}") if due else "not scheduled"
    return (
        f":memo: *Update {number}* · {update.status} · by <@{by}>\n"
        f"*Symptoms observed:* {escape(update.symptoms)}\n"
        f"*Actions taken:* {escape(update.actions)}\n"
        f"*Next steps:* {escape(update.next_steps)}\n"
        f"*Next update:* {next_at} (in {format_duration(update.next_in_s)})"
    )


def stakeholder_update(incident: Incident, update: StatusUpdate, number: int) -> str:
    if incident.private:
        return f"{sev(incident)} Private incident: update {number} posted ({update.status})."
    title, symptoms = escape(incident.title), escape(update.symptoms)
    return f"{sev(incident)} *{title}* — update {number} ({update.status}): {symptoms}"


def reminder_text(incident: Incident, who: str | None, stage: int) -> str:
    """Stage 1 reminds the commander; stage 2 the comms lead, or the commander when none is set."""
    due = incident.update_due_at or 0
    whom = f"<@{who}>" if who else "Commander"
    if stage == 1:
        return (
            f":alarm_clock: {whom}, a status update was due {slack_date(due)}. "
            "Post one with `/incident update`."
        )
    as_comms = incident.roles.comms is not None and who == incident.roles.comms
    ask = "As comms lead, please post one" if as_comms else "Please post one now"
    return (
        f":alarm_clock: {whom}, the status update due {slack_date(due)} is still missing. "
        f"{ask} with `/incident update`."
    )


def undeliverable_text(kind: OutboxKind, to: str, reason: str) -> str:
    """Said in the incident channel when a page or post can never be delivered."""
    if kind is OutboxKind.PAGE:
        return f":warning: Could not page <@{to}>: {reason}. Page someone else if they are needed."
    if kind is OutboxKind.FOLLOW:
        return f":warning: Could not tell {recipient(to)} how the incident stands: {reason}."
    return f":warning: Could not post in <#{to}>: {reason}."


def unreachable_person_text(incident: Incident, user: str, *, redact: bool = False) -> str:
    """Said in the incident channel and the fallback channel when every method of a page to
    `user` (or the one of an outside service) failed for good (`redact`: a private
    incident's details left out)."""
    label = incident_label(incident, redact=redact)
    where = f" (<#{incident.channel_id}>)" if incident.channel_id and not redact else ""
    return (
        f":warning: Could not reach {recipient(user)} by any method for {label}{where}. "
        "Page someone else if they are needed."
    )


def write_limited(per_minute: float, burst: int, wait_s: int) -> str:
    """The polite answer to a person writing to an incident faster than the limit allows."""
    return (
        f"Easy there: each person can make {per_minute:g} changes a minute to an incident "
        f"({burst} at once), and you have used them up for now. Try again in {wait_s} s."
    )


def reopen_expired(incident: Incident, days: str) -> str:
    return (
        f"{incident.id} was resolved more than {days} days ago (TOCSIN_RETENTION_DAYS), so "
        "its delivery records are gone and it cannot be reopened. Declare a new incident "
        f"and mention {incident.id} in it."
    )


def answer(ok: bool, message: str, *, announced: bool = False) -> str:
    """The answer to whoever acted in the incident channel: a refusal, or what was done when
    the channel is not told (a note); nothing when the channel's own message says it."""
    if ok and announced:
        return ""
    return (":white_check_mark: " if ok else ":no_entry: ") + message


def declared(incident: Incident) -> str:
    """The reply to `/incident declare` (and `/incident drill`, marked DRILL)."""
    return drill_marked(
        incident,
        f":rotating_light: Declared {incident.severity.upper()} `{incident.id}`: "
        f"*{escape(incident.title)}* ({service_phrase(incident.service)}). "
        "Opening the incident channel and paging now.",
    )


def open_list(incidents: Sequence[Incident], user: str) -> str:
    """The reply to `/incident list`, for `user`."""
    if not incidents:
        return "No open incidents. :relieved:"
    lines = [f"*Open incidents* ({len(incidents)})"]
    for i in sorted(incidents, key=lambda i: (i.severity, i.declared_at)):
        where = f"<#{i.channel_id}>" if i.channel_id else i.id
        # `list` answers anyone anywhere: a private incident shows its title and commander
        # only to the people its record names (no Slack call on this path), else neither.
        if visible_to(i, user):
            lead = f"IC <@{i.roles.commander}>" if i.roles.commander else "no IC"
            title = escape(i.title)
        else:
            lead, title = "details restricted", "(private incident)"
        lines.append(f"• {sev(i)} {where} *{title}* · {i.status.value} · {lead}")
    return "\n".join(lines)[:3000]


def status(incident: Incident, next_page: str | None) -> str:
    """The reply to `/incident status`; `next_page` as the header shows it."""
    due = incident.update_due_at
    roles = incident.roles
    commander = f"<@{roles.commander}>" if roles.commander else "—"
    comms = f"<@{roles.comms}>" if roles.comms else "—"
    return (
        f"{sev(incident)} *{escape(incident.title)}* · {incident.status.value}\n"
        f"Commander: {commander} · Comms: {comms}\n"
        f"Paged next: {next_page or '—'}\n"
        f"Next update due: {slack_date(due) if due else '—'}"
    )


def timeline(incident: Incident, entries: Iterable[Entry]) -> str:
    """The reply to `/incident timeline` (cut to Slack's 3000 characters)."""
    lines = [f"*Timeline of {incident.id}*"]
    for entry in entries:
        who = "" if entry.actor == BOT else f" <@{entry.actor}>"
        what = entry.kind.value.replace("_", " ")  # `severity changed`, not severity_changed
        lines.append(f"`{entry.at:%Y-%m-%d %H:%M:%S}Z` {what}{who}: {entry.text}")
    text = "\n".join(lines)
    return (
        text if len(text) <= 3000 else text[:2900] + "\n… (truncated; see the post-incident export)"
    )
