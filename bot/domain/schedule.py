"""On-call schedules: rotations, restrictions and overrides, in an IANA zone's wall-clock time.

Interface fixed here; the resolution logic lives in `on_call` and `shifts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Restriction:
    """On call only on `days` (0=Mon … 6=Sun) between `start` and `end` local time.

    `end <= start` means the window runs past midnight into the next day.
    """

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class Rotation:
    """Members take turns of length `turn`, the first starting at wall-clock `start`."""

    members: tuple[str, ...]
    start: datetime  # naive, wall-clock in the schedule's timezone
    turn: timedelta
    restrict: Restriction | None = None


@dataclass(frozen=True)
class Override:
    """`user` replaces the rotations' people from `start` to `end` (naive wall-clock)."""

    user: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    name: str
    timezone: str
    rotations: tuple[Rotation, ...]
    overrides: tuple[Override, ...] = field(default=())


@dataclass(frozen=True)
class Shift:
    """One person's stretch on call, as UTC-aware instants."""

    user: str
    start: datetime
    end: datetime


def on_call(schedule: Schedule, at: datetime) -> tuple[str, ...]:
    """Who is on call at the UTC-aware instant `at`, in rotation order, without repeats."""
    raise NotImplementedError


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Every shift overlapping [start, end), clipped to it, ordered by start."""
    raise NotImplementedError
