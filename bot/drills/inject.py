"""A scenario's injected events, posted in the drill's channel when each falls due.

Each event is owed once: its outbox key names it (`inject:<n>`), so a job run twice adds
nothing the second time, and delivery marks it DRILL like everything a drill says.
"""

from __future__ import annotations

import structlog

from bot import clock
from bot.domain.outcomes import JobOutcome
from bot.drills.service import Scenarios
from bot.incident.spec import say
from bot.render.messages import escape
from bot.state.store import Store
from bot.state.timers import Timers

log = structlog.get_logger(__name__)


class Injects:
    def __init__(self, store: Store, scenarios: Scenarios, timers: Timers) -> None:
        self.store, self.scenarios, self.timers = store, scenarios, timers

    def run(self, incident_id: str, name: str, n: int) -> JobOutcome:
        """The job: post event `n` of scenario `name` in the drill, unless it has ended."""
        incident = self.store.find(incident_id)
        scenario = self.scenarios.load(name)
        if (
            incident is None
            or not incident.drill
            or not incident.is_open
            or scenario is None
            or n >= len(scenario.events)
        ):
            log.info("drill_inject_stale", incident_id=incident_id, scenario=name, n=n)
            return JobOutcome.STALE
        event = scenario.events[n]
        text = f":performing_arts: *Scenario* · {escape(event.post)}"
        with self.store.transaction() as pipe:
            self.store.add_outbox(incident_id, [say(text, clock.now(), key=f"inject:{n}")], pipe)
        self.timers.schedule_drain(incident_id)
        log.info("drill_injected", incident_id=incident_id, scenario=name, n=n)
        return JobOutcome.REMINDED
