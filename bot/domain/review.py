"""The post-incident review, drafted in Markdown from the incident, its timeline and actions.

Blameless by construction: people appear with the role they held and the action they
took; nothing is phrased as fault. Times are shown in one IANA zone, and the timeline
states the date whenever it changes, so an incident that runs past midnight (or across a
DST change) reads unambiguously. A private incident's free text is redacted when asked.
Pure: no Redis, Slack, environment or clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.actions import ActionItem
from bot.domain.durations import format_duration
from bot.domain.incident import Incident
from bot.domain.milestones import Facts
from bot.domain.policy import service_target
from bot.domain.timeline import BOT, TIMELINE_MAX, Entry, Kind
from bot.domain.words import count

REDACTED = "[redacted: private incident]"
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_DATE = re.compile(r"<!date\^\d+\^[^|]*\|([^>]*)>")
_BOLD = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")  # Slack's *bold*
# Entries whose text ends in what somebody typed, after the first ": " (a note, a reason, a
# page's message, an action item): under `redact` only the part before it stays.
_FREE_TEXT = (
    Kind.NOTE,
    Kind.STATUS_UPDATE,
    Kind.RESOLVED,
    Kind.ESCALATED,
    Kind.SEVERITY_CHANGED,
    Kind.PAGE_REQUESTED,
    Kind.ACTION_ADDED,
    Kind.ACTION_CLOSED,
)
_DECISIONS = (Kind.SEVERITY_CHANGED, Kind.ESCALATED, Kind.MITIGATED, Kind.REROUTED)
SKIPPED_KINDS = (Kind.ANNOUNCED, Kind.RECONCILED)


@dataclass(frozen=True)
class ReviewInput:
    incident: Incident
    facts: Facts
    timeline: Sequence[Entry]
    actions: Sequence[ActionItem] = ()
    names: Mapping[str, str] = field(default_factory=dict)  # user id -> handle
    channels: Mapping[str, str] = field(default_factory=dict)  # channel id -> name
    tz: str = "UTC"
    redact: bool = False
    severity_label: str = ""
    generated_at: datetime | None = None
    dropped: int = 0  # the timeline's oldest entries dropped by its cap


def mentioned(incident: Incident, texts: Iterable[str]) -> tuple[set[str], set[str]]:
    """The user ids and channel ids a review of `incident` names, from its record and the
    mentions (`<@U…>`, `<#C…>`) in `texts`: what to look up once before drafting."""
    paged = {p for p in incident.paged if service_target(p) is None}  # not pagerduty:ops
    users = paged | incident.roles.holders() | {incident.declared_by}
    channels: set[str] = set()
    for text in texts:
        users.update(m.group(1) for m in _USER.finditer(text))
        channels.update(m.group(1) for m in _CHANNEL.finditer(text) if not m.group(2))
    return users - {BOT, ""}, channels


class _Writer:
    def __init__(self, data: ReviewInput) -> None:
        self.d = data
        self.zone = ZoneInfo(data.tz)
        roles = data.incident.roles
        self.roles: dict[str, list[str]] = {}
        for role, who in (("commander", roles.commander), ("comms lead", roles.comms)):
            if who:
                self.roles.setdefault(who, []).append(role)
        if roles.scribe:
            self.roles.setdefault(roles.scribe, []).append("scribe")

    def who(self, user: str | None, with_role: bool = True) -> str:
        if not user:
            return "—"
        name = "@" + self.d.names.get(user, user)
        held = self.roles.get(user)
        return f"{name} ({', '.join(held)})" if with_role and held else name

    def plain(self, text: str) -> str:
        """Slack mrkdwn as Markdown: mentions become @names and #channels, *bold* **bold**;
        escapes are undone."""
        text = _USER.sub(lambda m: self.who(m.group(1), with_role=False), text)
        text = _CHANNEL.sub(
            lambda m: "#" + (m.group(2) or self.d.channels.get(m.group(1), m.group(1))), text
        )
        text = _DATE.sub(lambda m: m.group(1), text)
        text = _BOLD.sub(r"**\1**", text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def free(self, text: str) -> str:
        return REDACTED if self.d.redact else self.plain(text)

    def at(self, moment: datetime | None, date: bool = True) -> str:
        if moment is None:
            return "—"
        local = moment.astimezone(self.zone)
        return local.strftime("%Y-%m-%d %H:%M %Z" if date else "%H:%M")

    def since(self, moment: datetime | None) -> str:
        if moment is None:
            return "—"
        return format_duration(int((moment - self.d.incident.declared_at).total_seconds()))


def _entry_text(w: _Writer, entry: Entry) -> str:
    """The entry as Markdown; under `redact`, its free text cut off (split before `plain`
    turns mentions into display names, which may hold a colon)."""
    head, said, _ = entry.text.partition(": ")
    if w.d.redact and entry.kind in _FREE_TEXT and said:
        return f"{w.plain(head)}: {REDACTED}"
    return w.plain(entry.text)


def _summary(w: _Writer) -> list[str]:
    inc, f = w.d.incident, w.d.facts
    title = REDACTED if w.d.redact else w.plain(inc.title)
    resolved = [e for e in w.d.timeline if e.kind is Kind.RESOLVED]
    summary = (
        resolved[-1].text.split(":", 1)[1].strip() if resolved and ":" in resolved[-1].text else ""
    )
    lines = [
        f"# Post-incident review: {inc.id}",
        "",
        f"**{title}**",
        "",
        "> Draft by Tocsin from the incident's timeline. This review is blameless: it describes",
        "> what happened, the decisions taken with what was known at the time, and what the",
        "> system and process can change, not who is at fault.",
        "",
        "## Summary and impact",
        "",
        f"- Severity: {inc.severity.upper()}"
        + (f" ({w.d.severity_label})" if w.d.severity_label else ""),
        f"- Service: {inc.service}",
        f"- Status: {inc.status.value}" + (" (drill; excluded from metrics)" if inc.drill else ""),
        f"- Declared: {w.at(inc.declared_at)} by {w.who(inc.declared_by)}",
        f"- Duration: {w.since(f.resolved_at)}"
        + (" (still open)" if f.resolved_at is None else ""),
        f"- Commander: {w.who(inc.roles.commander, with_role=False)}"
        f" · comms lead: {w.who(inc.roles.comms, with_role=False)}",
    ]
    if f.excluded and not inc.drill:
        lines.append("- Excluded from metrics.")
    if inc.description:
        lines += ["", "Description: " + w.free(inc.description)]
    if summary:
        lines += ["", "Resolution summary: " + w.free(summary)]
    lines += ["", "Impact: _who and what was affected, for how long, and how badly (to fill in)._"]
    return lines


def _milestones(w: _Writer) -> list[str]:
    f = w.d.facts
    rows = [
        ("Declared", f.declared_at, ""),
        ("First page", f.first_page_at, ""),
        ("Acknowledged (time to acknowledge)", f.acknowledged_at, "ack"),
        ("Mitigated (time to contain)", f.mitigated_at, "mitigated"),
        ("Resolved (time to resolve)", f.resolved_at, "resolved"),
    ]
    lines = ["## Milestones", "", "| Milestone | When | Since declared |", "|---|---|---|"]
    for label, when, key in rows:
        mark = " (corrected)" if key and key in f.corrected else ""
        lines.append(f"| {label} | {w.at(when)}{mark} | {w.since(when)} |")
    return lines


def _timeline(w: _Writer) -> list[str]:
    lines = ["## Timeline", "", f"All times {w.d.tz}."]
    if w.d.dropped:
        lines += [
            "",
            f"_The timeline was truncated: its oldest {count(w.d.dropped, 'entry')} were dropped "
            f"(Tocsin keeps the latest {TIMELINE_MAX:,} per incident). The milestones and "
            "pages above are complete._",
        ]
    day = None
    for entry in w.d.timeline:
        if entry.kind in SKIPPED_KINDS:
            continue
        local = entry.at.astimezone(w.zone)
        if local.date() != day:
            day = local.date()
            lines += ["", f"### {local:%A %Y-%m-%d}", ""]
        actor = "" if entry.actor == BOT else f" — {w.who(entry.actor)}"
        lines.append(
            f"- **{local:%H:%M:%S}** {entry.kind.value.replace('_', ' ')}: "
            f"{_entry_text(w, entry)}{actor}"
        )
    return lines


def _paging(w: _Writer) -> list[str]:
    f = w.d.facts
    lines = ["## Who was paged, and who acknowledged", ""]
    if not f.pages:
        lines.append("Nobody was paged by the escalation policy.")
    else:
        lines += ["| When | Person | Step | Loop | After declaration |", "|---|---|---|---|---|"]
        lines += [
            f"| {w.at(p.at)} | {w.who(p.user, with_role=False)} | {p.step + 1} | {p.loop + 1} "
            f"| {w.since(p.at)} |"
            for p in f.pages
        ]
    if f.acknowledged_at:
        lines += [
            "",
            f"Acknowledged by {w.who(f.acknowledged_by)} at {w.at(f.acknowledged_at)}, "
            f"{w.since(f.acknowledged_at)} after declaration.",
        ]
    else:
        lines += ["", "Nobody acknowledged."]
    if f.reached_last_step:
        lines.append("Escalation reached the last step of the policy.")
    return lines


def _decisions(w: _Writer) -> list[str]:
    lines = ["## Decisions and their rationale", ""]
    picked = [e for e in w.d.timeline if e.kind is Kind.NOTE or e.kind in _DECISIONS]
    picked = [e for e in picked if not (e.kind is Kind.NOTE and e.actor == BOT)]
    if not picked:
        return [*lines, "_No notes or decisions were recorded; add them from memory and chat._"]
    return lines + [f"- {w.at(e.at)}: {_entry_text(w, e)}" for e in picked]


def _went(w: _Writer) -> list[str]:
    f, tl = w.d.facts, w.d.timeline
    good, bad = [], []
    if f.tta is not None:
        good.append(
            f"The incident was acknowledged {format_duration(int(f.tta))} after declaration."
        )
    else:
        bad.append("No acknowledgement was recorded.")
    updates = sum(1 for e in tl if e.kind is Kind.STATUS_UPDATE)
    reminders = sum(1 for e in tl if e.kind is Kind.REMINDED)
    if updates:
        good.append(f"{count(updates, 'status update')} kept stakeholders informed.")
    if reminders:
        needed = "was needed" if reminders == 1 else "were needed"
        bad.append(
            f"{count(reminders, 'status update reminder')} {needed}: was the cadence realistic?"
        )
    if f.reached_last_step:
        bad.append(
            "Escalation reached the last step: did the earlier steps reach someone able to respond?"
        )
    failed = sum(1 for e in tl if e.kind is Kind.PAGE_FAILED)
    if failed:
        bad.append(f"{failed} page delivery attempt(s) failed and were retried.")
    lines = ["## What went well", ""] + [f"- {g}" for g in good] + ["- _(add)_", ""]
    return lines + ["## What did not go well", ""] + [f"- {b}" for b in bad] + ["- _(add)_"]


def _actions(w: _Writer) -> list[str]:
    lines = ["## Action items", ""]
    if not w.d.actions:
        return [
            *lines,
            "_None yet: add them with `/incident action <text> [@owner] [due YYYY-MM-DD]`._",
        ]
    lines += ["| # | Action | Owner | Due | Status |", "|---|---|---|---|---|"]
    for a in w.d.actions:
        text = REDACTED if w.d.redact else a.text.replace("|", "\\|")
        due = a.due.isoformat() if a.due else "—"
        lines.append(
            f"| {a.id} | {text} | {w.who(a.owner, with_role=False)} | {due} | {a.status.value} |"
        )
    return lines


def draft(data: ReviewInput) -> str:
    """The review as Markdown."""
    w = _Writer(data)
    sections = [
        _summary(w),
        _milestones(w),
        _timeline(w),
        _paging(w),
        _decisions(w),
        ["## Root cause", "", "_Contributing factors in systems and process (to fill in)._"],
        _went(w),
        _actions(w),
    ]
    if data.generated_at:
        sections.append([f"_Generated {w.at(data.generated_at)}._"])
    return "\n\n".join("\n".join(s) for s in sections) + "\n"


def as_json(data: ReviewInput) -> dict[str, Any]:
    """The review's material as plain JSON (`tocsin export --format json`)."""
    w, f, inc = _Writer(data), data.facts, data.incident

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": inc.id,
        "title": REDACTED if data.redact else inc.title,
        "service": inc.service,
        "severity": inc.severity,
        "status": inc.status.value,
        "private": inc.private,
        "excluded_from_metrics": f.excluded,
        "milestones": {
            "declared": iso(f.declared_at),
            "first_page": iso(f.first_page_at),
            "acknowledged": iso(f.acknowledged_at),
            "mitigated": iso(f.mitigated_at),
            "resolved": iso(f.resolved_at),
            "corrected": list(f.corrected),
        },
        "seconds": {"to_acknowledge": f.tta, "to_contain": f.ttc, "to_resolve": f.ttr},
        "pages": [
            {"user": p.user, "at": iso(p.at), "step": p.step + 1, "loop": p.loop + 1}
            for p in f.pages
        ],
        "acknowledged_by": f.acknowledged_by,
        "reached_last_step": f.reached_last_step,
        "timeline": [
            {"at": iso(e.at), "kind": e.kind.value, "actor": e.actor, "text": _entry_text(w, e)}
            for e in data.timeline
        ],
        "timeline_dropped": data.dropped,
        "names": dict(data.names),  # the ids above (user, actor, owner) as people read them
        "channels": dict(data.channels),
        "actions": [
            {**a.to_dict(), "text": REDACTED if data.redact else a.text} for a in data.actions
        ],
        "markdown": draft(data),
    }
