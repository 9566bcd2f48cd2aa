"""The handoff post in a schedule's `handoff_channel`, and the incoming person's reminder.

A private incident is named by its id only (`incident_label` with `redact`): the handoff
channel is not its channel.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.durations import format_duration
from bot.domain.handoff import Handoff, Summary
from bot.domain.incident import Incident
from bot.render.messages import escape, incident_label
from bot.render.oncall import mention, slack_date
from bot.render.runbook import clip

MAX_LINES = 20  # of each list; the rest is counted
_NOTE_CHARS = 500


def _people(users: tuple[str, ...]) -> str:
    return ", ".join(mention(u) for u in users) or "nobody"


def _incoming(handoff: Handoff, timezone: str) -> str:
    if not handoff.on:
        return "nobody"
    parts = []
    for user, until in handoff.on:
        when = slack_date(until, timezone) if until else "beyond the lookahead"
        parts.append(f"{mention(user)} until {when}")
    return ", ".join(parts)


def _section(title: str, lines: list[str]) -> list[str]:
    """`*title:* none`, or `*title (n):*` and the lines (the first MAX_LINES, then a count)."""
    if not lines:
        return [f"*{title}:* none"]
    shown = (
        lines
        if len(lines) <= MAX_LINES
        else [*lines[:MAX_LINES], f"• … and {len(lines) - MAX_LINES} more"]
    )
    return [f"*{title} ({len(lines)}):*", *shown]


def _label(incident: Incident) -> str:
    return incident_label(incident, redact=incident.private)


def _ack(seconds: float | None) -> str:
    return (
        f"acknowledged in {format_duration(seconds)}" if seconds is not None else "not acknowledged"
    )


def handoff_text(summary: Summary) -> str:
    """Who is off, who is on until when, what is open, what happened, the notes left."""
    h, tz = summary.handoff, summary.timezone
    lines = [
        f":arrows_counterclockwise: *Handoff on {escape(h.schedule)}* at {slack_date(h.at, tz)}",
        f"*Off:* {_people(h.off)}",
        f"*On:* {_incoming(h, tz)}",
    ]
    still_open = [
        f"• {_label(i)} · {i.status.value}"
        + (f" · commander {mention(i.roles.commander)}" if i.roles.commander else "")
        for i in summary.still_open
    ]
    lines += _section("Open incidents", still_open)
    during = [
        f"• {_label(d.incident)} · paged {_people(d.paged)} · {_ack(d.seconds_to_ack)}"
        for d in summary.during
    ]
    shift = f"since {slack_date(h.since, tz)}" if h.since is not None else "in the ending shift"
    lines += _section(f"Pages and incidents {shift}", during)
    notes = [f"• {mention(n.user)}: {escape(clip(n.text, _NOTE_CHARS))}" for n in summary.notes]
    lines += _section("Notes from the outgoing shift", notes)
    return "\n".join(lines)


def reminder_text(schedule: str, at: datetime, until: datetime | None, timezone: str) -> str:
    end = f" until {slack_date(until, timezone)}" if until else ""
    return (
        f":bell: You go on call for *{escape(schedule)}* at {slack_date(at, timezone)}{end}. "
        "The handoff summary will be posted when it starts."
    )
