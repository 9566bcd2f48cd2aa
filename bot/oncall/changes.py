"""Overrides, swaps and their removal from Slack: checked against the schedule's
`rights.schedules`, rate-limited per person and schedule, kept in Redis with who made
them and when (bot/state/oncall.py), and layered over the YAML for everyone who asks who
is on call (`LayeredCatalog`: paging, `/incident oncall`, `tocsin simulate --live`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import clock
from bot.domain.catalog import Catalog
from bot.domain.oncall import Change, layered_catalog, may_change, swap_spans
from bot.domain.schedule import Override, Schedule, localize
from bot.oncall.feeds import FeedSchedules
from bot.slack_api.directory import Directory
from bot.state.oncall import ScheduleChanges
from bot.state.write_limits import WriteLimiter

MAX_KEPT = 200  # changes kept per schedule: a member cannot grow Redis without bound
MAX_SPAN = timedelta(days=90)  # the longest override; a longer cover belongs in the YAML


def _now() -> datetime:
    """Whole seconds: a change's edges are handoffs, which timers name by the second."""
    return clock.now().replace(microsecond=0)


class Refused(Exception):
    """The change cannot be made; the message is for the person who asked."""


class LayeredCatalog:
    """The config's catalog with the feed schedules' events under and the changes made from
    Slack on top (one HGETALL a call, and one HGET per feed schedule)."""

    def __init__(
        self, source: Callable[[], Catalog], changes: ScheduleChanges, feeds: FeedSchedules
    ) -> None:
        self.source, self.changes, self.feeds = source, changes, feeds

    def __call__(self) -> Catalog:
        return layered_catalog(self.feeds.layer(self.source()), self.changes.all())


@dataclass(frozen=True)
class Made:
    """What a command changed, for the reply."""

    change: Change
    timezone: str


class ScheduleEditor:
    def __init__(
        self,
        source: Callable[[], Catalog],
        changes: ScheduleChanges,
        directory: Directory,
        limiter: WriteLimiter,
        feeds: FeedSchedules,
    ) -> None:
        self.source, self.changes = source, changes
        self.directory, self.limiter = directory, limiter
        self.catalog = LayeredCatalog(source, changes, feeds)

    def _schedule(self, name: str) -> Schedule:
        """The schedule as it stands: its feed's events and the changes so far included."""
        schedules = self.catalog().schedules
        if name not in schedules:
            known = ", ".join(sorted(schedules)) or "none"
            raise Refused(f"there is no schedule {name!r} (schedules: {known})")
        return schedules[name]

    def _allowed(self, schedule: Schedule, user: str) -> None:
        allowed, rule = may_change(schedule, user, self.directory.groups_of(user))
        if not allowed:
            raise Refused(f"you may not change this schedule: {rule}")
        wait = self.limiter.take(f"schedule:{schedule.name}", user)
        if wait:
            raise Refused(f"too many changes to {schedule.name} at once; try again in {wait}s")
        kept = [c for c in self.changes.all() if c.schedule == schedule.name]
        if len(kept) >= MAX_KEPT:
            raise Refused(f"{schedule.name} already has {MAX_KEPT} changes; remove some first")

    def _keep(self, schedule: Schedule, kind: str, spans: tuple[Override, ...], by: str) -> Made:
        now = clock.now()
        change = Change(self.changes.new_id(), schedule.name, kind, spans, by, now)
        self.changes.add(change, now)
        return Made(change, schedule.timezone)

    def override(self, by: str, name: str, who: str, start: datetime | None, end: datetime) -> Made:
        """`who` covers `name` from `start` (None: now) to `end`, wall-clock in its zone."""
        schedule = self._schedule(name)
        now = _now()
        opens = localize(schedule, start) if start is not None else now
        closes = localize(schedule, end)
        if closes <= opens:
            raise Refused("the override must end after it starts")
        if closes <= now:
            raise Refused("that override would already be over")
        if closes - opens > MAX_SPAN:
            raise Refused(f"an override lasts at most {MAX_SPAN.days} days; longer belongs in YAML")
        if problem := self.directory.cannot_page(who):
            raise Refused(f"<@{who}> cannot be paged: {problem}")
        self._allowed(schedule, by)
        return self._keep(schedule, "override", (Override(who, max(opens, now), closes),), by)

    def swap(self, by: str, name: str | None, first: str, second: str, at: datetime | None) -> Made:
        """`second` takes `first`'s shift at (or next after) wall-clock `at` (None: now), and
        `first` takes `second`'s next shift in return."""
        schedule = self._schedule(name or self._shared(first, second))
        moment = localize(schedule, at) if at is not None else _now()
        for who in (first, second):
            if problem := self.directory.cannot_page(who):
                raise Refused(f"<@{who}> cannot be paged: {problem}")
        try:
            spans = swap_spans(schedule, first, second, max(moment, _now()))
        except ValueError as exc:
            raise Refused(str(exc)) from None
        self._allowed(schedule, by)
        return self._keep(schedule, "swap", spans, by)

    def _shared(self, first: str, second: str) -> str:
        names = [
            n for n, s in sorted(self.source().schedules.items()) if {first, second} <= s.members
        ]
        if len(names) != 1:
            which = (
                "none has both in its rotations" if not names else "several: " + ", ".join(names)
            )
            raise Refused(f"name the schedule ({which})")
        return names[0]

    def remove(self, by: str, change_id: str) -> Change:
        """Drop a change; its maker, or anyone who may change the schedule, may."""
        change = self.changes.find(change_id)
        if change is None:
            raise Refused(f"there is no schedule change {change_id!r} (see `/incident oncall`)")
        if change.by != by:
            self._allowed(self._schedule(change.schedule), by)
        removed = self.changes.remove(change_id, by, clock.now())
        if removed is None:
            raise Refused(f"{change_id} was removed meanwhile")
        return removed
