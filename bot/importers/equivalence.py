"""Does an imported schedule give the same person at every instant as the source said?

The source's rendered entries (PagerDuty's `final_schedule.rendered_schedule_entries`) say
who is on call when; between their edges and Tocsin's own handoffs, who is on call is
constant, so comparing one instant of each stretch compares every instant of the range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

from bot.domain.schedule import Schedule, on_call, shifts

MAX_SHOWN = 20


@dataclass(frozen=True)
class Entry:
    """Who the source has on call from `start` to `end` (aware instants)."""

    start: datetime
    end: datetime
    user: str


def _expected(entries: Sequence[Entry], at: datetime) -> tuple[str, ...]:
    return tuple(dict.fromkeys(e.user for e in entries if e.start <= at < e.end))


def differences(schedule: Schedule, entries: Sequence[Entry]) -> list[str]:
    """Each stretch where Tocsin's schedule and the entries disagree, as a line for people
    (the first MAX_SHOWN, then a count); empty when they agree throughout."""
    if not entries:
        return []
    begin = min(e.start for e in entries).astimezone(UTC)
    end = max(e.end for e in entries).astimezone(UTC)
    points = {begin, end}
    points.update(p.astimezone(UTC) for e in entries for p in (e.start, e.end))
    points.update(p for s in shifts(schedule, begin, end) for p in (s.start, s.end))
    ordered = sorted(p for p in points if begin <= p <= end)
    found: list[tuple[datetime, datetime, tuple[str, ...], tuple[str, ...]]] = []
    for start, stop in pairwise(ordered):
        want, got = _expected(entries, start), on_call(schedule, start)
        if want == got:
            continue
        if found and found[-1][1] == start and found[-1][2:] == (want, got):
            found[-1] = (found[-1][0], stop, want, got)
        else:
            found.append((start, stop, want, got))
    lines = [
        f"{schedule.name}: {a:%Y-%m-%d %H:%M}Z to {b:%Y-%m-%d %H:%M}Z the source has "
        f"{', '.join(want) or 'nobody'}, Tocsin {', '.join(got) or 'nobody'}"
        for a, b, want, got in found
    ]
    if len(lines) > MAX_SHOWN:
        lines = [*lines[:MAX_SHOWN], f"{schedule.name}: … and {len(lines) - MAX_SHOWN} more"]
    return lines
