"""Scheduled drills (`drills.yaml`): the next firing of each armed in the due index by the
reconciler, and a firing started once.

A firing is identified by its drill's key and its epoch; the job re-reads the drill from
the config as it is (a drill removed or changed since it was armed is stale) and starts
it under a do-once marker, so two workers, or a firing armed twice, start one drill.
The self-test (`bot.drills.selftest`) fires the same way, and what its runs still owe (the
pages' sending, the report) waits in the same due index.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from croniter import croniter

from bot import clock
from bot.domain.alerts.sources import ACTOR_PREFIX, DRILL_SCHEDULE
from bot.domain.catalog import Catalog
from bot.domain.drills import ScheduledDrill, SelfTest
from bot.domain.outcomes import JobOutcome
from bot.drills.selftest import SelfTests
from bot.drills.service import Drills
from bot.state.drill_timers import DrillTimers, fired_marker, member
from bot.state.markers import Markers
from bot.state.selftests import run_id

log = structlog.get_logger(__name__)

LOOKBACK = timedelta(minutes=10)  # a firing missed while no worker ran starts this late
HOLD_S, KEEP_S = 300, 35 * 86400  # the do-once marker: while starting, then once started
SCHEDULER = f"{ACTOR_PREFIX}{DRILL_SCHEDULE}"  # who declares a scheduled drill (no commander)


Fired = ScheduledDrill | SelfTest  # what has a cron, a timezone and a key


def next_firing(drill: Fired, after: datetime) -> datetime:
    """The first time after `after` that the drill's cron names, in its timezone."""
    local = after.astimezone(ZoneInfo(drill.timezone))
    return croniter(drill.cron, local).get_next(datetime).astimezone(UTC)


def last_firing(drill: Fired, at: datetime) -> datetime:
    """The last time at or before `at` that the drill's cron names."""
    local = (at + timedelta(seconds=1)).astimezone(ZoneInfo(drill.timezone))
    return croniter(drill.cron, local).get_prev(datetime).astimezone(UTC)


class ScheduledDrills:
    def __init__(
        self,
        catalog: Callable[[], Catalog],
        drills: Drills,
        timers: DrillTimers,
        markers: Markers,
        self_tests: SelfTests,
    ) -> None:
        self.catalog, self.drills, self.timers, self.markers = catalog, drills, timers, markers
        self.self_tests = self_tests

    def _fired(self) -> list[Fired]:
        catalog = self.catalog()
        return [*catalog.drills, *([catalog.self_test] if catalog.self_test else [])]

    def arm(self) -> int:
        """Index each drill's (and the self-test's) next firing, and its last one if that
        was missed within LOOKBACK (no worker ran then) and not fired, and what the
        self-test's open runs still owe; how many were new."""
        now = clock.now()
        entries = self.self_tests.owed(now.timestamp())
        for drill in self._fired():
            last = last_firing(drill, now)
            fired = self.markers.get(fired_marker(int(last.timestamp()), drill.key))
            firings = [next_firing(drill, now)]
            if last >= now - LOOKBACK and fired is None:
                firings.append(last)
            entries |= {member(int(t.timestamp()), drill.key): t.timestamp() for t in firings}
        return self.timers.arm(entries)

    def run(self, epoch: int, key: str) -> JobOutcome:
        """The job: start the drill `key` names for its firing at `epoch`, once (or the
        self-test's firing, or what one of its runs owes)."""
        if self.self_tests.owns(key):
            return self.self_tests.run(key)
        at = datetime.fromtimestamp(epoch, UTC)
        drill = next((d for d in self._fired() if d.key == key), None)
        if drill is None or next_firing(drill, at - timedelta(seconds=1)) != at:
            log.info("drill_stale", drill=key, at=at.isoformat())
            return JobOutcome.STALE

        def start() -> None:
            if isinstance(drill, SelfTest):
                self.self_tests.open(epoch, drill)
            else:
                self.drills.start(SCHEDULER, drill.policy, drill.severity, drill.scenario)

        if not self.markers.once(
            fired_marker(epoch, key),
            start,
            hold_s=HOLD_S,
            keep_s=KEEP_S,
            holding="starting",
            done="started",
        ):
            log.info("drill_already_fired", drill=key, at=at.isoformat())
            return JobOutcome.ALREADY
        log.info("drill_fired", drill=key, at=at.isoformat())
        if isinstance(drill, SelfTest):
            self.self_tests.send(run_id(epoch))
        return JobOutcome.STEPPED
