"""The reconciler: rebuild lost timers and re-drive stalled deliveries from incident state.

Runs when a worker starts and every TOCSIN_RECONCILE_EVERY_S after. Incident state in
Redis is the truth; RQ jobs are only reminders of it, so any missing one can be rebuilt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import cast

import structlog
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from bot import clock
from bot.domain.incident import Incident
from bot.domain.outbox import OutboxStatus
from bot.domain.policy import EscalationStatus
from bot.domain.timeline import BOT, Entry, Kind
from bot.domain.updates import reminder_delay
from bot.incident.escalation import Escalation
from bot.state.store import parse_incident
from bot.state.timers import DUE_KEY, TICK_MANY, due_member, remind_job_id, tick_job_id

log = structlog.get_logger(__name__)


@dataclass
class Report:
    checked: int = 0
    timers_rebuilt: list[str] = field(default_factory=list)
    overdue_kicked: list[str] = field(default_factory=list)
    drains: list[str] = field(default_factory=list)
    reminders_rebuilt: list[str] = field(default_factory=list)
    channels_reopened: list[str] = field(default_factory=list)


CHUNK = 500
_RUNS = {JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED}
_LOST = {"finished", "failed", "canceled", "stopped"}


@dataclass
class _Seen:
    """What one pipelined read tells about an incident, enough to skip the healthy ones."""

    incident: Incident
    outbox: dict[str, str]
    tick: str | None  # "scheduled" if indexed, else the rq status of its tick job, or None
    reminders: tuple[str | None, str | None]


def _prefetch(esc: Escalation, ids: list[str]) -> list[_Seen]:
    """Incidents, outboxes and the rq status of their timers, in one round trip per chunk."""
    seen: list[_Seen] = []
    r = esc.store.r
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        raw = r.mget([esc.store.incident_key(i) for i in chunk])
        incidents = [parse_incident(x) if x else None for x in raw]
        with r.pipeline(transaction=False) as pipe:
            for incident_id, incident in zip(chunk, incidents, strict=True):
                token = incident.token if incident else 0
                update = incident.update_token if incident else 0
                pipe.hgetall(esc.store.outbox_key(incident_id))
                pipe.zscore(DUE_KEY, due_member(incident_id, token))
                pipe.hget(f"rq:job:{tick_job_id(incident_id, token)}", "status")
                pipe.hget(f"rq:job:{remind_job_id(incident_id, update, 1)}", "status")
                pipe.hget(f"rq:job:{remind_job_id(incident_id, update, 2)}", "status")
            answers = pipe.execute()
        for n, incident in enumerate(incidents):
            if incident is not None:
                outbox, due, tick, first, second = answers[5 * n : 5 * n + 5]
                tick = "scheduled" if due is not None else tick
                seen.append(_Seen(incident, outbox, tick, (first, second)))
    return seen


def _healthy(seen: _Seen, now: float, grace_s: float, channels: bool) -> bool:
    """True when nothing needs a closer look: the common case, decided without a round trip."""
    incident = seen.incident
    state = incident.escalation
    active = state.status is EscalationStatus.ACTIVE and state.due_at is not None
    if active and (seen.tick is None or seen.tick in _LOST or now - (state.due_at or 0) > grace_s):
        return False
    if channels and (incident.channel_id is None or incident.header_ts is None):
        return False
    if incident.update_due_at is not None:
        token = incident.update_token
        for stage, status in zip((1, 2), seen.reminders, strict=True):
            if f"remind:{token}:{stage}" in seen.outbox:
                continue
            if status is None or status in _LOST:
                return False
            break
    for raw in seen.outbox.values():
        item = json.loads(raw)
        if (
            item.get("status") == OutboxStatus.PENDING
            and now - float(item.get("created_at", 0)) > grace_s
        ):
            return False
    return True


def _batched(esc: Escalation) -> dict[tuple[str, int], JobStatus]:
    """Steps inside `tick_many` jobs that are queued or running, with that job's status."""
    queue = esc.timers.queue
    queued = cast(list[bytes], queue.connection.lrange(queue.key, 0, -1))
    ids = {j.decode(): JobStatus.QUEUED for j in queued}
    ids.update(dict.fromkeys(queue.started_job_registry.get_job_ids(), JobStatus.STARTED))
    found: dict[tuple[str, int], JobStatus] = {}
    wanted = [j for j in ids if j.startswith("ticks-")]
    for job in Job.fetch_many(wanted, connection=queue.connection, serializer=queue.serializer):
        if job is not None and job.func_name == TICK_MANY:
            for incident_id, token in job.args[0]:
                found[(str(incident_id), int(token))] = ids[job.id]
    return found


def _tick_status(
    esc: Escalation, incident_id: str, token: int, batched: dict[tuple[str, int], JobStatus]
) -> JobStatus | None:
    """How the step of (incident, token) will run: indexed, in a batch, or as its own job."""
    if esc.timers.due_at(incident_id, token) is not None:
        return JobStatus.SCHEDULED
    if (incident_id, token) in batched:
        return batched[(incident_id, token)]
    return _job_status(esc, tick_job_id(incident_id, token))


def _job_status(esc: Escalation, job_id: str, stuck_s: float | None = None) -> JobStatus | None:
    """The rq status of a job, None if nothing will run it (with `stuck_s`: also a job
    started longer ago than that, whose worker is taken for dead).

    A worker SIGKILLed between dequeuing a job and starting it leaves it "queued" in no
    queue (rq's intermediate list, failed only minutes later); a "scheduled" job must be in
    the registry. Either way nothing will run it: report it as lost.
    """
    queue = esc.timers.queue
    try:
        job = Job.fetch(job_id, connection=queue.connection, serializer=queue.serializer)
    except NoSuchJobError:
        return None
    status: JobStatus | None = job.get_status(refresh=False)
    if status is JobStatus.QUEUED and queue.connection.lpos(queue.key, job.id) is None:
        return None
    if status is JobStatus.SCHEDULED and job.id not in queue.scheduled_job_registry:
        return None
    started = job.started_at
    if status is JobStatus.STARTED and started is not None and stuck_s is not None:
        started = started if started.tzinfo else started.replace(tzinfo=UTC)
        if clock.now() - started > timedelta(seconds=stuck_s):
            return None  # a dead worker's; a second drain of a live one's claims is harmless
    return status


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
    batched: dict[tuple[str, int], JobStatus] | None = None  # read once, when first needed
    for seen in _prefetch(esc, esc.store.open_ids()):
        report.checked += 1
        if _healthy(seen, now, grace_s, channels):
            continue
        incident = seen.incident
        incident_id = incident.id
        state = incident.escalation
        if state.status is EscalationStatus.ACTIVE and state.due_at is not None:
            batched = _batched(esc) if batched is None else batched
            status = _tick_status(esc, incident_id, incident.token, batched)
            overdue = now - state.due_at
            lost = status is None or status in (
                JobStatus.FINISHED,
                JobStatus.FAILED,
                JobStatus.CANCELED,
                JobStatus.STOPPED,
            )
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
        if channels and unopened and not esc.timers.is_live(f"open-{incident_id}"):
            esc.timers.open_channel(incident_id)
            report.channels_reopened.append(incident_id)
        if _rebuild_reminder(esc, incident, now):
            report.reminders_rebuilt.append(incident_id)
        stalled = [
            item
            for item in esc.store.outbox(incident_id)
            if item.status is OutboxStatus.PENDING and now - item.created_at > grace_s
        ]
        redrive = f"drain-{incident_id}-reconcile"  # one at a time: an outage must not
        if stalled and _job_status(esc, redrive, stuck_s) not in _RUNS:  # pile drains
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
