"""The worker's side of alerts in: each accepted notification opens, joins, raises, clears or
reopens the incident of its group, through the engine, as a typed declaration would.

One drain at a time per source (a lease), in the order the web process accepted them, so
two notifications of one group never race to open two incidents. An entry leaves the inbox
only after it was handled; handling one twice changes nothing (each group's record keeps
the last status of every alert).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import structlog

from bot import clock
from bot.alerts.thread import post
from bot.containment.service import Containment
from bot.domain.alerts import groups
from bot.domain.alerts.payloads import FIRING, Alert, Notification
from bot.domain.alerts.sources import AlertSource, OnClear, actor
from bot.domain.durations import format_duration
from bot.domain.incident import Action, Incident
from bot.incident.commands import Engine
from bot.incident.spec import UserError
from bot.render import alerts as words
from bot.state.alerts import AlertStore, GroupRecord, lease_key
from bot.state.leases import Leases

log = structlog.get_logger(__name__)
BATCH = 20  # inbox entries read at a time
LEASE_S = 60.0


class AlertService:
    def __init__(
        self,
        engine: Engine,
        store: AlertStore,
        leases: Leases,
        owner: str,
        containment: Containment,
    ) -> None:
        self.engine, self.store, self.leases, self.owner = engine, store, leases, owner
        self.containment = containment  # runbook actions an alert runs by itself (auto_when)
        self.incidents = engine.store
        # What a batch of entries owes: a drain per incident it posted to (not one per
        # post), and the storm incidents' lists of the groups that joined them.
        self._touched: set[str] = set()
        self._joined: dict[tuple[str, str], list[str]] = {}

    # --- the inbox ------------------------------------------------------------------------
    def drain(self, name: str) -> int:
        """Handle what the source's inbox holds; how many entries.

        While a drain runs, the web process queues no other (the kick stays set); once the
        inbox is empty the kick is cleared and the inbox read once more, so an entry queued
        in between is handled here or owes a new drain."""
        handled, key = 0, lease_key(name)
        while self.leases.take(key, self.owner, LEASE_S):
            try:
                while entries := self._next(name):
                    self.leases.hold(key, self.owner, LEASE_S)
                    try:
                        for entry in entries:
                            self.handle(name, entry)
                    finally:
                        self._flush()
                    self.store.done(name, len(entries))
                    handled += len(entries)
            finally:
                self.leases.release(key, self.owner)
            if not self.store.waiting(name):  # queued after our last read, before the release
                break
        return handled

    def _next(self, name: str) -> list[dict[str, Any]]:
        entries = self.store.peek(name, BATCH)
        if not entries:
            self.store.caught_up(name)  # from now on a new entry owes a new drain
            entries = self.store.peek(name, BATCH)
        return entries

    def _flush(self) -> None:
        """Post each storm incident's list of joined groups, then drain what was posted."""
        joined, self._joined = self._joined, {}
        for (source, incident_id), texts in joined.items():
            self._say(source, incident_id, words.joined_storm(texts))
        touched, self._touched = self._touched, set()
        for incident_id in sorted(touched):
            self.engine.esc.timers.drain_soon(incident_id, "alerts")

    def _say(
        self, source: str, incident_id: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        post(self.engine, source, incident_id, text, blocks, drain=False)
        self._touched.add(incident_id)

    def handle(self, name: str, entry: dict[str, Any]) -> None:
        source = self.engine.esc.catalog().alert_sources.get(name)
        if source is None:
            log.warning("alerts_dropped_unknown_source", source=name)
            return
        note = Notification(
            group_key=str(entry.get("group_key", "")),
            alerts=tuple(Alert.from_dict(a) for a in entry["alerts"]),
            truncated=int(entry.get("truncated", 0)),
        )
        for gid, alerts in groups.split(source.group_by, note).items():
            self._group(source, gid, alerts, note.truncated)

    # --- one group ------------------------------------------------------------------------
    def _group(self, source: AlertSource, gid: str, alerts: list[Alert], truncated: int) -> None:
        record = self.store.group(source.name, gid)
        incident = self.incidents.find(record.incident_id) if record else None
        if record is None or incident is None or self._too_late(source, record, incident):
            change = groups.change({}, alerts)
            if not change.firing:
                return  # a group seen only resolving opens nothing
            incident, in_storm = self._open(source, alerts)
            record = GroupRecord(incident.id, in_storm=in_storm)
        else:
            change = groups.change(record.statuses, alerts)
            if change.nothing:
                return
            fresh_firing = any(a.status == FIRING for a in change.fresh)
            if fresh_firing and not incident.is_open:
                self._act(incident, Action.REOPEN)
            self._raise(source, incident, change.fresh)
        text = words.notification(source.name, change.fresh, truncated)
        if record.in_storm:  # listed with the others of its batch: one message, not hundreds
            self._joined.setdefault((source.name, record.incident_id), []).append(text)
        else:
            self._say(source.name, record.incident_id, text)
        if change.cleared and not record.in_storm:
            self._clear(source, record.incident_id)
        now = clock.now_ts()
        cleared_at = now if change.cleared else (None if change.firing else record.cleared_at)
        self.store.save_group(
            source.name, gid, replace(record, statuses=dict(change.statuses), cleared_at=cleared_at)
        )

    def _too_late(self, source: AlertSource, record: GroupRecord, incident: Incident) -> bool:
        """The group's incident closed longer than `reopen_within` ago: a new incident."""
        if incident.is_open:
            return False
        closed = incident.resolved_at.timestamp() if incident.resolved_at else record.cleared_at
        return closed is not None and clock.now_ts() - closed > source.reopen_within_s

    def _routed(self, source: AlertSource, alerts: Sequence[Alert]) -> tuple[str, str]:
        """The service of the first firing alert, and the most severe severity any routes to."""
        tiers = self.engine.esc.catalog().tier_names
        fallback = tiers[-1] if tiers else "sev3"
        picks = []
        for alert in [a for a in alerts if a.status == FIRING] or alerts:
            service, severity = source.route(alert.labels, fallback)
            service = alert.service or service
            severity = alert.severity if alert.severity in tiers else severity
            picks.append((service, severity if severity in tiers else fallback))
        if not picks:
            return source.default.service, source.default.severity or fallback
        top = min(picks, key=lambda p: tiers.index(p[1]) if p[1] in tiers else len(tiers))
        return picks[0][0], top[1]

    def _open(self, source: AlertSource, alerts: Sequence[Alert]) -> tuple[Incident, bool]:
        """A new incident for the group, or the source's storm incident past the storm line."""
        service, severity = self._routed(source, alerts)
        now = clock.now_ts()
        storm = source.storm
        recent = self.store.new_groups(source.name, uuid.uuid4().hex, now, storm.within_s)
        if recent > storm.new_groups:  # this group is past the line
            return self._storm(source, service, severity), True
        incident = self.engine.declare(
            title=groups.title(alerts),
            service=service,
            severity=severity,
            declared_by=actor(source.name),
        )
        log.info("alert_incident_opened", source=source.name, incident_id=incident.id)
        self.containment.automatic(incident, actor(source.name))
        return incident, False

    def _storm(self, source: AlertSource, service: str, severity: str) -> Incident:
        known = self.store.storm_incident(source.name)
        incident = self.incidents.find(known) if known else None
        if incident is not None and incident.is_open:
            return incident
        incident = self.engine.declare(
            title=words.storm_title(source.name),
            service=source.default.service,
            severity=severity,
            declared_by=actor(source.name),
        )
        self.store.set_storm_incident(source.name, incident.id)
        within = format_duration(source.storm.within_s)
        self._say(
            source.name, incident.id, words.storm(source.name, source.storm.new_groups, within)
        )
        log.warning("alert_storm", source=source.name, incident_id=incident.id)
        return incident

    def _raise(self, source: AlertSource, incident: Incident, fresh: Sequence[Alert]) -> None:
        _service, severity = self._routed(source, fresh)
        tiers = self.engine.esc.catalog().tier_names
        if groups.more_severe(tiers, severity, incident.severity):
            try:
                self.engine.change_severity(
                    incident.id, actor(source.name), severity, "alert route"
                )
                raised = self.incidents.get(incident.id)
                self.containment.automatic(raised, actor(source.name))
            except UserError as exc:
                log.info("alert_severity_unchanged", incident_id=incident.id, reason=str(exc))

    def _clear(self, source: AlertSource, incident_id: str) -> None:
        text = words.cleared(source.name, source.on_clear.value)
        if source.on_clear is OnClear.NOTIFY:
            self._say(source.name, incident_id, text, words.cleared_blocks(text, incident_id))
            return
        self._say(source.name, incident_id, text)
        self._act(self.incidents.get(incident_id), Action(source.on_clear.value))

    def _act(self, incident: Incident, action: Action) -> None:
        who = incident.declared_by
        run = {
            Action.REOPEN: self.engine.reopen,
            Action.MITIGATE: self.engine.mitigate,
            Action.RESOLVE: self.engine.resolve,
        }[action]
        outcome = run(incident.id, who)
        log.info("alert_command", incident_id=incident.id, action=action.value, ok=outcome.ok)
