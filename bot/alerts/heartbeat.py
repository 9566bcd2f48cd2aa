"""The dead man's switch: a source's heartbeat alert stops arriving for two intervals, and
Tocsin declares "alerting from <source> is silent" on the source's default route; the
heartbeat's return resolves that incident.

The web process notes each arrival and moves the source's entry in the heartbeat due index
(bot.state.alerts) two intervals ahead; the scheduler fires what fell due, like the other
timers, into a `heartbeat_silent` job, which checks the last arrival again before acting.
"""

from __future__ import annotations

import structlog
from rq import Queue

from bot import clock
from bot.alerts.thread import post
from bot.domain.alerts.sources import actor
from bot.domain.durations import format_duration
from bot.incident.commands import Engine
from bot.render import alerts as words
from bot.state.alerts import AlertStore
from bot.state.timers import RETRY

log = structlog.get_logger(__name__)
SILENT = "bot.jobs.alerts.heartbeat_silent"
BACK = "bot.jobs.alerts.heartbeat_back"


def dispatch(store: AlertStore, queue: Queue) -> int:
    """Enqueue a check for each source whose heartbeat fell due (the scheduler's job)."""
    due = store.due_heartbeats(clock.now_ts())
    for source in due:
        queue.enqueue(SILENT, source, retry=RETRY, result_ttl=60, failure_ttl=86400)
    return len(due)


class Heartbeats:
    def __init__(self, engine: Engine, store: AlertStore) -> None:
        self.engine, self.store = engine, store

    def silent(self, name: str) -> str:
        source = self.engine.esc.catalog().alert_sources.get(name)
        if source is None or source.heartbeat is None:
            return "no_heartbeat"
        beat = source.heartbeat
        last = self.store.heartbeat_last(name)
        if last is not None and clock.now_ts() - last < 2 * beat.every_s:
            return "alive"
        known = self.store.silent_incident(name)
        found = self.engine.store.find(known) if known else None
        if found is not None and found.is_open:
            return "already_declared"
        tiers = self.engine.esc.catalog().tier_names
        incident = self.engine.declare(
            title=words.silent_title(name),
            service=source.default.service,
            severity=source.default.severity or (tiers[-1] if tiers else "sev3"),
            declared_by=actor(name),
        )
        self.store.set_silent_incident(name, incident.id)
        every = format_duration(beat.every_s)
        post(self.engine, name, incident.id, words.silent(name, beat.alertname, every))
        log.warning("alert_source_silent", source=name, incident_id=incident.id)
        if self.store.heartbeat_last(name) != last:  # it came back before the marker was set,
            self.back(name)  # so the web process saw no silent incident to clear
        return "declared"

    def back(self, name: str) -> str:
        known = self.store.silent_incident(name)
        incident = self.engine.store.find(known) if known else None
        self.store.set_silent_incident(name, None)
        if incident is None or not incident.is_open:
            return "nothing_open"
        post(self.engine, name, incident.id, words.heartbeat_back(name))
        outcome = self.engine.resolve(incident.id, actor(name), "the heartbeat is back")
        return "resolved" if outcome.ok else "refused"
