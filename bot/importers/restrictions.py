"""PagerDuty's layer restrictions as Tocsin restrictions.

A Tocsin restriction is one local time window on a set of weekdays (at most a day long,
possibly running past midnight). A PagerDuty `daily_restriction` is one such window every
day; a `weekly_restriction` may run for days from a start day and time, so it is cut at
each midnight into day pieces, and pieces with the same hours are grouped by day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import time, timedelta
from typing import Any

from bot.domain.schedule import DAY_NAMES

DAY = 86400
WEEK = 7 * DAY


def _clock(seconds: int) -> str:
    """Seconds after midnight as `HH:MM`; 86400 is `24:00`."""
    if seconds == DAY:
        return "24:00"
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _seconds(text: str) -> int:
    moment = time.fromisoformat(text)
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def windows(restrictions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]] | None:
    """Tocsin `restrict` mappings ({days, hours}) covering the restrictions (None: no
    restriction, on call around the clock). ValueError naming a shape it cannot read."""
    pieces: dict[str, set[int]] = defaultdict(set)  # hours -> weekdays (0 = Monday)
    restrictions = list(restrictions)
    if not restrictions:
        return None
    for item in restrictions:
        kind = item.get("type")
        start = _seconds(str(item.get("start_time_of_day", "00:00:00")))
        length = int(item.get("duration_seconds", 0))
        if start % 60 or length % 60:
            raise ValueError("a restriction with seconds in its times")
        if kind == "daily_restriction":
            if length >= DAY:
                return None
            end = (start + length) % DAY
            pieces[f"{_clock(start)}-{_clock(end or DAY)}"].update(range(7))
        elif kind == "weekly_restriction":
            if length >= WEEK:
                return None
            first = (int(item.get("start_day_of_week", 1)) - 1) % 7  # ISO 1 = Monday
            offset, remaining = first * DAY + start, length
            while remaining > 0:
                day, into = divmod(offset, DAY)
                span = min(remaining, DAY - into)
                pieces[f"{_clock(into)}-{_clock(into + span)}"].add(day % 7)
                offset, remaining = offset + span, remaining - span
        else:
            raise ValueError(f"a restriction of type {kind!r}")
    return [
        {"days": [DAY_NAMES[d] for d in sorted(days)], "hours": hours}
        for hours, days in sorted(pieces.items())
    ]


def turn(seconds: int) -> str:
    """A turn length as a Tocsin duration: whole weeks, days, hours, minutes or seconds."""
    delta = timedelta(seconds=seconds)
    for unit, size in (("w", WEEK), ("d", DAY), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{int(delta.total_seconds())}s"
