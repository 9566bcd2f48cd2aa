"""The reconciler: rebuild lost timers and re-drive stalled deliveries from incident state.

Runs when a worker starts and every TOCSIN_RECONCILE_EVERY_S after. Incident state in
Redis is the truth; RQ jobs are only reminders of it, so any missing one can be rebuilt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import structlog
from rq.job import JobStatus

from bot import clock
from bot.domain.incident import Incident
from bot.domain.outbox import OutboxStatus
from bot.domain.policy import EscalationStatus
from bot.domain.timeline import BOT, Entry, Kind
from bot.domain.updates import reminder_delay
from bot.incident.escalation import Escalation
from bot.state import keys
from bot.state.jobs import ENDED, LIVE
from bot.state.leases import Leases
from bot.state.survey import Seen, survey
from bot.state.timers import remind_job_id, tick_job_id

log = structlog.get_logger(__name__)


@dataclass
class Report:
    checked: int = 0
    timers_rebuilt: list[str] = field(default_factory=list)
    overdue_kicked: list[str] = field(default_factory=list)
    drains: list[str] = field(default_factory=list)
    reminders_rebuilt: list[str] = field(default_factory=list)
    channels_reopened: list[str] = field(default_factory=list)


def _healthy(seen: Seen, now: float, grace_s: float, channels: bool) -> bool:
    """True when nothing needs a closer look: the common case, decided without a round trip."""
    incident = seen.incident
    state = incident.escalation
    active = state.status is EscalationStatus.ACTIVE and state.due_at is not None
    if active and (seen.tick is None or seen.tick in ENDED or now - (state.due_at or 0) > grace_s):
        return False
    if channels and (incident.channel_id is None or incident.header_ts is None):
        return False
    if incident.update_due_at is not None:
        token = incident.update_token
        for stage, status in zip((1, 2), seen.reminders, strict=True):
            if f"remind:{token}:{stage}" in seen.outbox:
                continue
            if status is None or status in ENDED:
                return False
            break
    for raw in seen.outbox.values():
        item = json.loads(raw)
        if (
            item.get("status") == OutboxStatus.PENDING
            and now - max(float(item.get("created_at", 0)), float(item.get("not_before", 0)))
            > grace_s
        ):
            return False
    return True


def _tick_status(esc: Escalation, incident_id: str, token: int) -> JobStatus | None:
    """How the step of (incident, token) will run: indexed, in a batch, or as its own job.
    A few key reads whatever the length of the queue (a batch is looked up by its step)."""
    if esc.timers.due_at(incident_id, token) is not None:
        return JobStatus.SCHEDULED
    batch = esc.timers.batch_of(incident_id, token)
    if batch is not None and (status := esc.timers.jobs.status(batch)) is not None:
        return status
    return esc.timers.jobs.status(tick_job_id(incident_id, token))


def _opening_lost(esc: Escalation, incident_id: str, stuck_s: float) -> bool:
    """Nothing is opening the incident's channel: no worker holds the open lease (renewed
    while one works: bot.incident.channel) and rq has no open job that will still run (one
    started longer than `stuck_s` ago, with its lease gone, was a dead worker's)."""
    if Leases(esc.store.r).held(keys.channel_opening(incident_id)):
        return False
    return esc.timers.jobs.status(f"open-{incident_id}", stuck_s) not in LIVE


def _rebuild_reminder(esc: Escalation, incident: Incident, now: float) -> bool:
    """Re-arm the status-update reminder whose job is gone (stage 1, else stage 2)."""
    due, token = incident.update_due_at, incident.update_token
    if not incident.is_open or due is None:
        return False
    reminded = {item.key for item in esc.store.outbox(incident.id)}
    for stage in (1, 2):
        if f"remind:{token}:{stage}" in reminded:
            continue
        if esc.timers.is_live(remind_job_id(incident.id, token, stage)):
            return False
        cadence = esc.catalog().tier(incident.severity).update_every_s
        at = due + reminder_delay(stage, cadence)
        esc.timers.schedule_remind(incident.id, token, stage, max(at, now))
        return True
    return False


def reconcile(
    esc: Escalation, grace_s: float = 2.0, stuck_s: float = 6.0, *, channels: bool = False
) -> Report:
    """Check every open incident once; return what was repaired.

    With `channels` (the Slack pager), an incident whose channel or header is still missing
    after its open job gave up (Slack down longer than the job's retries) is opened again.
    """
    report = Report()
    now = clock.now_ts()
    for seen in survey(esc.store, esc.store.open_ids()):
        report.checked += 1
        if _healthy(seen, now, grace_s, channels):
            continue
        incident = seen.incident
        incident_id = incident.id
        state = incident.escalation
        if state.status is EscalationStatus.ACTIVE and state.due_at is not None:
            status = _tick_status(esc, incident_id, incident.token)
            overdue = now - state.due_at
            lost = status is None or status in ENDED
            if lost and overdue <= grace_s:
                esc.timers.schedule_tick(incident_id, incident.token, state.due_at)
                report.timers_rebuilt.append(incident_id)
                text = f"rebuilt the lost timer for step {state.step + 2} (token {incident.token})"
                esc.store.record(incident_id, Entry(clock.now(), Kind.RECONCILED, BOT, text))
            elif (lost and overdue > grace_s) or (
                status is JobStatus.STARTED and overdue > stuck_s
            ):
                # Due and nothing will run it (or its worker died mid-step): run it now.
                # A duplicate is harmless: the fencing token lets one commit.
                esc.timers.schedule_tick(incident_id, incident.token, None, f"-r{int(now * 1000)}")
                report.overdue_kicked.append(incident_id)
                text = f"step overdue by {overdue:.0f}s with no live timer: run now"
                esc.store.record(incident_id, Entry(clock.now(), Kind.RECONCILED, BOT, text))
        unopened = incident.channel_id is None or incident.header_ts is None
        if channels and unopened and _opening_lost(esc, incident_id, stuck_s):
            esc.timers.open_channel(incident_id)
            report.channels_reopened.append(incident_id)
        if _rebuild_reminder(esc, incident, now):
            report.reminders_rebuilt.append(incident_id)
        stalled = [
            item
            for item in esc.store.outbox(incident_id)
            if item.status is OutboxStatus.PENDING
            and now - max(item.created_at, item.not_before) > grace_s
        ]
        redrive = f"drain-{incident_id}-reconcile"  # one at a time: an outage must not
        if stalled and esc.timers.jobs.status(redrive, stuck_s) not in LIVE:  # pile drains
            esc.timers.schedule_drain(incident_id, job_id=redrive)
            report.drains.append(incident_id)
    if (
        report.timers_rebuilt
        or report.overdue_kicked
        or report.drains
        or report.reminders_rebuilt
        or report.channels_reopened
    ):
        log.warning(
            "reconciled",
            checked=report.checked,
            timers_rebuilt=report.timers_rebuilt,
            overdue_kicked=report.overdue_kicked,
            drains=report.drains,
            reminders_rebuilt=report.reminders_rebuilt,
            channels_reopened=report.channels_reopened,
        )
    return report
