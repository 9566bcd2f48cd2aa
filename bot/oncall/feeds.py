"""Schedules whose people come from an iCalendar feed (`source: {ics, refresh}`).

The reconciler calls `refresh_due`: each feed whose `refresh` has passed since it was last
tried is read again; a good read is kept in Redis (bot/state/icsfeeds.py), a failed one
keeps the last good copy, is said in /readyz (`status`) and, the first time in a row, in the
schedule's `handoff_channel`. Every process layers the kept copy's events over the YAML
(`layer`), expanding it once per new copy and day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from bot import clock
from bot.domain.catalog import Catalog
from bot.domain.schedule import Override, Schedule
from bot.oncall.ics import FeedError, read, stretches
from bot.render.messages import escape
from bot.render.oncall import slack_date
from bot.state.icsfeeds import IcsFeeds

log = structlog.get_logger(__name__)

BEHIND, AHEAD = timedelta(days=1), timedelta(days=92)  # covers the calendars' 90 days out


class FeedSchedules:
    def __init__(
        self,
        source: Callable[[], Catalog],
        feeds: IcsFeeds,
        config_dir: Path,
        slack: Any | None,  # a slack_sdk WebClient; None: failures are only logged
    ) -> None:
        self.source, self.feeds, self.config_dir, self.slack = source, feeds, config_dir, slack
        self._expanded: dict[str, tuple[tuple[str, str], tuple[Override, ...]]] = {}

    def _fed(self, catalog: Catalog) -> list[Schedule]:
        return [s for s in catalog.schedules.values() if s.source]

    def layer(self, catalog: Catalog) -> Catalog:
        """The catalog with each feed schedule's kept events as its base layer."""
        fed = self._fed(catalog)
        if not fed:
            return catalog
        schedules = dict(catalog.schedules)
        for schedule in fed:
            schedules[schedule.name] = replace(schedule, feed=self._events(schedule))
        return replace(catalog, schedules=schedules)

    def _events(self, schedule: Schedule) -> tuple[Override, ...]:
        stamp = self.feeds.stamp(schedule.name)
        if stamp is None:
            return ()
        day = clock.now().astimezone(UTC).date()
        key = (stamp, day.isoformat())
        cached = self._expanded.get(schedule.name)
        if cached is not None and cached[0] == key:
            return cached[1]
        body = self.feeds.get(schedule.name).body or ""
        start = datetime.combine(day, datetime.min.time(), UTC) - BEHIND
        try:
            events = stretches(body, schedule.timezone, start, start + AHEAD)
        except (FeedError, ValueError) as exc:  # a kept copy parsed when it was read
            log.error("ics_expand_failed", schedule=schedule.name, error=str(exc))
            events = ()
        self._expanded[schedule.name] = (key, events)
        return events

    def refresh_due(self) -> list[str]:
        """Read again each feed due; the names of those that failed."""
        now = clock.now_ts()
        failed = []
        for schedule in self._fed(self.source()):
            state = self.feeds.get(schedule.name)
            if (
                state.tried_at is not None
                and now - state.tried_at < schedule.refresh.total_seconds()
            ):
                continue
            try:
                self.feeds.kept(schedule.name, read(schedule.source or "", self.config_dir), now)
            except FeedError as exc:
                failed.append(schedule.name)
                log.warning("ics_read_failed", schedule=schedule.name, error=str(exc))
                if self.feeds.failed(schedule.name, str(exc), now):
                    self._tell(schedule, str(exc), state.read_at)
        return failed

    def _tell(self, schedule: Schedule, error: str, read_at: float | None) -> None:
        if self.slack is None or not schedule.handoff_channel:
            return
        kept = (
            f"keeping the copy read {slack_date(datetime.fromtimestamp(read_at, UTC))}"
            if read_at is not None
            else "there is no earlier copy: nobody is on call from it"
        )
        text = (
            f":warning: Could not read the calendar feed of *{escape(schedule.name)}*: "
            f"{escape(error)}; {kept}."
        )
        self.slack.chat_postMessage(channel=schedule.handoff_channel, text=text)

    def status(self) -> dict[str, str]:
        """Each feed schedule's state, for /readyz."""
        found = {}
        for schedule in self._fed(self.source()):
            state = self.feeds.get(schedule.name)
            if state.error:
                since = "no good copy" if state.read_at is None else "keeping the last good copy"
                found[schedule.name] = f"failing: {state.error} ({since})"
            else:
                found[schedule.name] = "ok" if state.read_at is not None else "not read yet"
        return found
