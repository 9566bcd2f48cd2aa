"""On-call schedules: rotations, restrictions and overrides, in an IANA zone's wall-clock time.

Interface fixed here; the resolution logic lives in `on_call` and `shifts`.

Wall-clock rules (the product contract):

* A rotation's first turn starts at `rotation.start`, a naive wall-clock time in the
  schedule's zone. Turns that are whole days (1d, 1w, 2w, …) step in wall-clock time, so a
  handoff keeps its local time across DST; every other turn length steps in elapsed time
  from the localized start.
* Wall-clock times are localized with `fold=0`: an ambiguous time (fall back) is its first
  occurrence, a nonexistent time (spring forward) is read with the offset in force before
  the gap, i.e. it lands as far after the gap's start as it is written into the gap
  (02:30 in a 02:00→03:00 gap becomes 03:30 daylight time). A restriction window or
  override that localizes to an empty or inverted interval is ignored.

Layers, most binding first: `live` overrides (made from Slack, stored in Redis, given as
UTC-aware instants), then the YAML `overrides`, then the rotations. An active override of
one layer replaces everything under it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

LOOKAHEAD = timedelta(days=60)
_DAY = timedelta(days=1)
_SCAN_CHUNK = timedelta(days=7)


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
    """`user` replaces the rotations' people from `start` to `end`: naive wall-clock (YAML),
    or UTC-aware instants (overrides made from Slack)."""

    user: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    name: str
    timezone: str
    rotations: tuple[Rotation, ...]
    overrides: tuple[Override, ...] = field(default=())
    live: tuple[Override, ...] = field(default=())
    rights: tuple[str, ...] = ("member",)  # who may override or swap it (oncall.may_change)
    handoff_channel: str | None = None  # told at each handoff (bot/domain/handoff.py)
    remind_before: timedelta | None = None  # the incoming person's DM, this long before
    # "all": every rotation's person is on call; "top": like PagerDuty's layers, only the
    # person of the last-listed rotation that has someone on call then.
    combine: str = "all"
    # From an iCalendar feed (`source: {ics, refresh}`): where, how often, and the stretches
    # its events put people on call (UTC-aware), the base layer beside the rotations.
    source: str | None = None
    refresh: timedelta = timedelta(minutes=15)
    feed: tuple[Override, ...] = field(default=())

    @property
    def members(self) -> frozenset[str]:
        """Everyone in one of the rotations."""
        return frozenset(m for rotation in self.rotations for m in rotation.members)


@dataclass(frozen=True)
class Shift:
    """One person's stretch on call, as UTC-aware instants."""

    user: str
    start: datetime
    end: datetime


def on_call(schedule: Schedule, at: datetime) -> tuple[str, ...]:
    """Who is on call at the UTC-aware instant `at`, in rotation order, without repeats.

    An active override replaces every rotation's people (a live one also the YAML
    overrides); overlapping overrides of one layer give all their users, in listed order.
    """
    tz = _validated_zone(schedule)
    return _on_call(schedule, tz, _as_utc(at, "at"))


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Every shift overlapping [start, end), clipped to it, ordered by start then user.

    Adjacent stretches of one user (a handoff to themselves, or from one rotation to
    another) are merged into one shift. The work is proportional to the number of
    boundaries in the window (handoffs, restriction edges, override edges).
    """
    tz = _validated_zone(schedule)
    begin, finish = _as_utc(start, "start"), _as_utc(end, "end")
    if finish < begin:
        raise ValueError(f"shift window ends ({finish}) before it starts ({begin})")
    points = sorted(_boundaries(schedule, tz, begin, finish))
    result: list[Shift] = []
    open_since: dict[str, datetime] = {}
    for point in points:
        present = set(_on_call(schedule, tz, point))
        for user in [u for u in open_since if u not in present]:
            result.append(Shift(user, open_since.pop(user), point))
        for user in present:
            open_since.setdefault(user, point)
    result.extend(Shift(user, since, finish) for user, since in open_since.items())
    result.sort(key=lambda s: (s.start, s.user))
    return result


def next_handoff(schedule: Schedule, at: datetime) -> datetime | None:
    """The first instant after `at` at which the set of people on call changes.

    Looks ahead at most `LOOKAHEAD` (60 days, exclusive); None when nothing changes in it.
    """
    tz = _validated_zone(schedule)
    now = _as_utc(at, "at")
    current = set(_on_call(schedule, tz, now))
    horizon = now + LOOKAHEAD
    cursor = now
    while cursor < horizon:
        stop = min(cursor + _SCAN_CHUNK, horizon)
        for point in sorted(_boundaries(schedule, tz, cursor, stop)):
            if point > now and set(_on_call(schedule, tz, point)) != current:
                return point
        cursor = stop
    return None


# --- validation and localization -------------------------------------------------------


def _validated_zone(schedule: Schedule) -> ZoneInfo:
    try:
        tz = ZoneInfo(schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"schedule {schedule.name!r}: unknown timezone {schedule.timezone!r}"
        ) from exc
    for index, rotation in enumerate(schedule.rotations):
        where = f"schedule {schedule.name!r} rotation {index}"
        if rotation.turn <= timedelta(0):
            raise ValueError(f"{where}: turn must be longer than zero, got {rotation.turn}")
        if rotation.start.tzinfo is not None:
            raise ValueError(f"{where}: start must be a naive wall-clock time")
    return tz


def _as_utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware (UTC) datetime, got {moment!r}")
    return moment.astimezone(UTC)


def localize(schedule: Schedule, wall: datetime) -> datetime:
    """The UTC instant of a naive wall-clock time in the schedule's zone (fold=0)."""
    return _localize(wall, _validated_zone(schedule))


def _localize(wall: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of a naive wall-clock time, resolving DST edges with fold=0; an
    aware time is already an instant."""
    if wall.tzinfo is not None:
        return wall.astimezone(UTC)
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


# --- rotations ---------------------------------------------------------------------------


def _handoff(rotation: Rotation, tz: ZoneInfo, index: int) -> datetime:
    """Start of turn `index` (0 = the first member's first turn)."""
    if rotation.turn % _DAY == timedelta(0):
        return _localize(rotation.start + index * rotation.turn, tz)
    return _localize(rotation.start, tz) + index * rotation.turn


def _turn_index(rotation: Rotation, tz: ZoneInfo, at: datetime) -> int | None:
    """Index of the turn containing `at`, or None before the rotation starts."""
    if at < _handoff(rotation, tz, 0):
        return None
    # Elapsed-time division is exact for short turns and off by at most one for whole-day
    # turns (DST moves a wall-clock handoff by hours, never by a whole turn).
    index = (at - _handoff(rotation, tz, 0)) // rotation.turn
    while index > 0 and _handoff(rotation, tz, index) > at:
        index -= 1
    while _handoff(rotation, tz, index + 1) <= at:
        index += 1
    return index


def _rotation_user(rotation: Rotation, tz: ZoneInfo, at: datetime) -> str | None:
    if not rotation.members:
        return None
    index = _turn_index(rotation, tz, at)
    if index is None:
        return None
    if rotation.restrict is not None and not _inside(rotation.restrict, tz, at):
        return None
    return rotation.members[index % len(rotation.members)]


def _handoffs_between(
    rotation: Rotation, tz: ZoneInfo, begin: datetime, end: datetime
) -> Iterator[datetime]:
    """Turn starts strictly inside (begin, end)."""
    index = max(0, (begin - _handoff(rotation, tz, 0)) // rotation.turn - 1)
    while (moment := _handoff(rotation, tz, index)) < end:
        if moment > begin:
            yield moment
        index += 1


# --- restrictions and overrides ---------------------------------------------------------


def _windows(
    restriction: Restriction, tz: ZoneInfo, first: date, last: date
) -> Iterator[tuple[datetime, datetime]]:
    """The restriction's windows starting on local days first..last, as UTC instants."""
    day = first
    while day <= last:
        if day.weekday() in restriction.days:
            opens = _localize(datetime.combine(day, restriction.start), tz)
            end_day = day if restriction.end > restriction.start else day + _DAY
            closes = _localize(datetime.combine(end_day, restriction.end), tz)
            if opens < closes:
                yield opens, closes
        day += _DAY


def _local_days(tz: ZoneInfo, begin: datetime, end: datetime) -> tuple[date, date]:
    """Local days whose windows may touch [begin, end] (a window can last past midnight)."""
    return begin.astimezone(tz).date() - 2 * _DAY, end.astimezone(tz).date() + _DAY


def _inside(restriction: Restriction, tz: ZoneInfo, at: datetime) -> bool:
    first, last = _local_days(tz, at, at)
    return any(opens <= at < closes for opens, closes in _windows(restriction, tz, first, last))


def _override_spans(
    overrides: Iterable[Override], tz: ZoneInfo
) -> Iterator[tuple[str, datetime, datetime]]:
    for override in overrides:
        opens, closes = _localize(override.start, tz), _localize(override.end, tz)
        if opens < closes:
            yield override.user, opens, closes


def _unique(users: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(user for user in users if user is not None))


def _on_call(schedule: Schedule, tz: ZoneInfo, at: datetime) -> tuple[str, ...]:
    for layer in (schedule.live, schedule.overrides):
        overriding = _unique(
            user for user, opens, closes in _override_spans(layer, tz) if opens <= at < closes
        )
        if overriding:
            return overriding
    users = (_rotation_user(rotation, tz, at) for rotation in schedule.rotations)
    if schedule.feed:
        fed = [
            user
            for user, opens, closes in _override_spans(schedule.feed, tz)
            if opens <= at < closes
        ]
        users = (u for u in [*fed, *users])
    if schedule.combine == "top":
        return _unique(_top(list(users)))
    return _unique(users)


def _top(users: list[str | None]) -> list[str | None]:
    """The last rotation's person that is not None: the top layer with someone on call."""
    return next(([u] for u in reversed(users) if u is not None), [])


def _boundaries(schedule: Schedule, tz: ZoneInfo, begin: datetime, end: datetime) -> set[datetime]:
    """`begin` plus every instant in (begin, end) where `on_call` may change."""
    if end <= begin:
        return set()
    points = {begin}
    for _, opens, closes in _override_spans(
        (*schedule.live, *schedule.overrides, *schedule.feed), tz
    ):
        points.update(edge for edge in (opens, closes) if begin < edge < end)
    first, last = _local_days(tz, begin, end)
    for rotation in schedule.rotations:
        if not rotation.members:
            continue
        points.update(_handoffs_between(rotation, tz, begin, end))
        if rotation.restrict is not None:
            for window in _windows(rotation.restrict, tz, first, last):
                points.update(edge for edge in window if begin < edge < end)
    return points
