"""Windows such as `2 business days`: when a post-incident review falls due.

Pure: the caller passes the instant and the IANA zone whose calendar decides what a
business day is (Monday to Friday, minus listed holidays). A window that starts on a
Friday evening ends on Tuesday at the same wall-clock time; a wall-clock time that does not
exist on the due day (a DST gap) moves forward, as zoneinfo does.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.durations import DurationError, parse_duration

_BUSINESS = re.compile(r"^\s*(\d{1,2})\s+business\s+days?\s*$", re.IGNORECASE)
WEEKEND = (5, 6)  # Saturday, Sunday


class WindowError(ValueError):
    """A text that is neither `N business days` nor a duration like `48h`."""


@dataclass(frozen=True)
class Window:
    """`business_days` business days, or `seconds` of plain elapsed time (exactly one set)."""

    business_days: int = 0
    seconds: int = 0

    def __str__(self) -> str:
        if self.business_days:
            plural = "s" if self.business_days != 1 else ""
            return f"{self.business_days} business day{plural}"
        return f"{self.seconds}s"


def parse_window(text: str) -> Window:
    """`2 business days` or a duration (`48h`, `3d`, `90s`); WindowError naming the text."""
    if m := _BUSINESS.match(text or ""):
        days = int(m.group(1))
        if not 1 <= days <= 30:
            raise WindowError(f"{text!r}: give 1 to 30 business days")
        return Window(business_days=days)
    try:
        return Window(seconds=int(parse_duration(text).total_seconds()))
    except DurationError:
        raise WindowError(
            f"{text!r} is not a review window: use `2 business days` or a duration like 48h"
        ) from None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WindowError(f"{name!r} is not an IANA time zone such as Europe/Paris") from None


def is_business_day(day: date, holidays: Collection[date] = ()) -> bool:
    return day.weekday() not in WEEKEND and day not in holidays


def add_business_days(
    start: datetime, days: int, tz: str = "UTC", holidays: Collection[date] = ()
) -> datetime:
    """`days` business days after `start`, at the same local wall-clock time, as UTC.

    A start outside business days (a Saturday) counts from the next business day's start,
    so an incident resolved on Saturday is due `days` business days after Monday 00:00.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    where = zone(tz)
    local = start.astimezone(where)
    day, wall = local.date(), local.time().replace(tzinfo=None)
    if not is_business_day(day, holidays):
        while not is_business_day(day, holidays):
            day += timedelta(days=1)
        wall = wall.replace(hour=0, minute=0, second=0, microsecond=0)
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            left -= 1
    due = datetime.combine(day, wall, tzinfo=where)
    # Round-trip through UTC so a wall time inside a DST gap lands on a real instant.
    return due.astimezone(UTC)


def due_at(start: datetime, window: Window, tz: str = "UTC") -> datetime:
    """When a window opened at `start` closes."""
    if window.business_days:
        return add_business_days(start, window.business_days, tz)
    return start.astimezone(UTC) + timedelta(seconds=window.seconds)
