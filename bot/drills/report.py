"""The drill report, posted in a drill's channel when it resolves and kept for the figures
per person over the last drills (`tocsin report` reads them too)."""

from __future__ import annotations

import structlog

from bot import clock
from bot.domain.drills import PageRow, outcome, per_person
from bot.domain.incident import Incident
from bot.domain.notify import SLACK
from bot.domain.outbox import OutboxKind, OutboxStatus
from bot.incident.spec import say
from bot.render.drills import report_text
from bot.state.drills import DrillResults
from bot.state.store import Store
from bot.state.timers import Timers

log = structlog.get_logger(__name__)
LAST_DRILLS = 10  # the per-person figures look this far back


def page_rows(store: Store, incident_id: str) -> list[PageRow]:
    """The incident's pages: a page not sent (failed for good, or still pending when the
    drill ended) never reached its person."""
    return [
        PageRow(p.to, p.via, p.sent_at if p.status is OutboxStatus.SENT else None)
        for p in store.outbox(incident_id)
        if p.kind is OutboxKind.PAGE and p.method == SLACK  # a drill measures the Slack DM
    ]


class DrillReports:
    def __init__(self, store: Store, results: DrillResults, timers: Timers) -> None:
        self.store, self.results, self.timers = store, results, timers

    def resolved(self, incident: Incident) -> None:
        """A resolve observer: for a drill, keep its result and owe its channel the report
        (one per resolve: the key carries the incident's token)."""
        if not incident.drill:
            return
        result = outcome(incident, page_rows(self.store, incident.id))
        self.results.save(result)
        history = per_person(self.results.last(LAST_DRILLS))
        item = say(report_text(result, history), clock.now(), key=f"drill:report:{incident.token}")
        with self.store.transaction() as pipe:
            self.store.add_outbox(incident.id, [item], pipe)
        self.timers.schedule_drain(incident.id)
        log.info("drill_reported", incident_id=incident.id, people=len(result.people))
