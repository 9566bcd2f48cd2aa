"""Handoffs: the instants who is on call changes, who goes off and who comes on, and what
the summary posted then holds.

Pure: the schedule (with its live overrides layered on), the incidents and the notes are
passed in. A handoff is named by its schedule and instant; `handoff_at` re-derives it from
the schedule as it is now, so a timer armed for a handoff that an override has since
removed finds nothing to do (the fence).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.incident import Incident
from bot.domain.schedule import LOOKAHEAD, Schedule, next_handoff, on_call, shifts

_BEFORE = timedelta(microseconds=1)
SHIFT_LOOKBACK = timedelta(days=60)


@dataclass(frozen=True)
class Handoff:
    """At `at`, `off` stop being on call for `schedule` and `on` start (each with the end
    of their stretch, None beyond the lookahead); `since` is when the ending shift began
    (None: more than SHIFT_LOOKBACK ago)."""

    schedule: str
    at: datetime
    off: tuple[str, ...]
    on: tuple[tuple[str, datetime | None], ...]
    since: datetime | None


@dataclass(frozen=True)
class Note:
    user: str
    at: datetime
    text: str


@dataclass(frozen=True)
class ShiftIncident:
    """An incident of the ending shift: declared during it, and when (if) it was acknowledged."""

    incident: Incident
    paged: tuple[str, ...]
    seconds_to_ack: float | None


@dataclass(frozen=True)
class Summary:
    handoff: Handoff
    timezone: str
    still_open: tuple[Incident, ...]
    during: tuple[ShiftIncident, ...]
    notes: tuple[Note, ...]


def handoffs_between(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """Every instant in (start, end] at which the set of people on call changes."""
    found: list[datetime] = []
    cursor = start
    while (moment := next_handoff(schedule, cursor)) is not None and moment <= end:
        found.append(moment)
        cursor = moment
    return found


def handoff_at(schedule: Schedule, at: datetime) -> Handoff | None:
    """The handoff at `at`, or None when nothing changes hands there."""
    before, after = set(on_call(schedule, at - _BEFORE)), on_call(schedule, at)
    if before == set(after):
        return None
    stretches = shifts(schedule, at, at + LOOKAHEAD)
    horizon = at + LOOKAHEAD
    on = tuple(
        (user, next((s.end for s in stretches if s.user == user and s.start <= at), None))
        for user in after
        if user not in before
    )
    on = tuple((user, None if end is None or end >= horizon else end) for user, end in on)
    ending = [
        s for s in shifts(schedule, at - SHIFT_LOOKBACK, at) if s.end == at and s.user in before
    ]
    since = min((s.start for s in ending), default=None)
    if since is not None and since <= at - SHIFT_LOOKBACK:
        since = None  # the shift began before the lookback: its start is not known here
    off = tuple(u for u in on_call(schedule, at - _BEFORE) if u not in after)
    return Handoff(schedule.name, at, off, on, since)


def people(schedule: Schedule) -> frozenset[str]:
    """Everyone the schedule may page: its members and whoever an override names."""
    named = {o.user for o in (*schedule.overrides, *schedule.live)}
    return schedule.members | named


def summary(
    schedule: Schedule,
    handoff: Handoff,
    incidents: Iterable[Incident],
    notes: Sequence[Note],
) -> Summary:
    """What the handoff post says: the open incidents the schedule's people command or were
    paged for, the incidents declared during the ending shift that paged them (with time to
    acknowledge), and the notes the outgoing people left since it began."""
    crew = people(schedule)
    seen = list(incidents)
    still_open = tuple(
        i for i in seen if i.is_open and (crew & set(i.paged) or i.roles.commander in crew)
    )
    since = handoff.since or handoff.at - SHIFT_LOOKBACK
    during = tuple(
        ShiftIncident(
            i,
            tuple(u for u in i.paged if u in crew),
            (i.acknowledged_at - i.declared_at).total_seconds() if i.acknowledged_at else None,
        )
        for i in seen
        if since <= i.declared_at < handoff.at and crew & set(i.paged)
    )
    # A note written just after the handoff (the post is made then) is still the shift's.
    left = tuple(n for n in notes if n.user in handoff.off and since <= n.at)
    return Summary(handoff, schedule.timezone, still_open, during, left)
