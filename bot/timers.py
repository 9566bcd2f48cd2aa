"""Timers on RQ: escalation ticks scheduled for their due time, and outbox drains.

Job ids are derived from (incident, fencing token), so the reconciler can tell whether
the timer for the incident's current state exists. Arguments are ids and primitives;
the queue uses rq's JSON serializer.
"""

from __future__ import annotations

from datetime import UTC, datetime

import redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from bot import clock

TICK = "bot.jobs.tick"
DRAIN = "bot.jobs.drain"
REMIND = "bot.jobs.remind"
OPEN_CHANNEL = "bot.jobs.open_channel"
REFRESH = "bot.jobs.refresh_header"
LIVE = {JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED}
# Retry covers exceptions (Slack or Redis briefly away); a SIGKILLed worker's job is
# recovered faster by the reconciler than by rq's abandoned-job cleanup.
RETRY = Retry(max=5, interval=[1, 2, 5, 10, 30])


def make_queue(connection: redis.Redis, name: str) -> Queue:
    return Queue(name, connection=connection, serializer=JSONSerializer, default_timeout=120)


def tick_job_id(incident_id: str, token: int) -> str:
    return f"tick-{incident_id}-{token}"


def remind_job_id(incident_id: str, token: int, stage: int) -> str:
    return f"remind-{incident_id}-{token}-{stage}"


class Timers:
    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def schedule_tick(
        self, incident_id: str, token: int, due_at: float | None, suffix: str = ""
    ) -> None:
        """Run the escalation tick for (incident, token) at `due_at` (now when None or past)."""
        job_id = tick_job_id(incident_id, token) + suffix
        common = {"job_id": job_id, "retry": RETRY, "result_ttl": 600, "failure_ttl": 86400}
        common["at_front"] = True  # a due step goes before a backlog of deliveries
        if due_at is None or due_at <= clock.now_ts():
            self.queue.enqueue(TICK, incident_id, token, **common)
        else:
            when = datetime.fromtimestamp(due_at, UTC)
            self.queue.enqueue_at(when, TICK, incident_id, token, **common)

    def schedule_drain(self, incident_id: str, job_id: str | None = None) -> None:
        self.queue.enqueue(
            DRAIN, incident_id, job_id=job_id, retry=RETRY, result_ttl=60, failure_ttl=86400
        )

    def schedule_remind(
        self, incident_id: str, token: int, stage: int, due_at: float, suffix: str = ""
    ) -> None:
        """A status-update reminder (stage 1: commander, 2: comms lead), fenced by `token`."""
        job_id = remind_job_id(incident_id, token, stage) + suffix
        when = datetime.fromtimestamp(due_at, UTC)
        common = {"job_id": job_id, "retry": RETRY, "result_ttl": 600, "failure_ttl": 86400}
        if due_at <= clock.now_ts():
            self.queue.enqueue(REMIND, incident_id, token, stage, **common)
        else:
            self.queue.enqueue_at(when, REMIND, incident_id, token, stage, **common)

    def open_channel(self, incident_id: str) -> None:
        self.queue.enqueue(
            OPEN_CHANNEL,
            incident_id,
            job_id=f"open-{incident_id}",
            retry=RETRY,
            result_ttl=600,
            failure_ttl=86400,
        )

    def refresh_header(self, incident_id: str) -> None:
        self.queue.enqueue(REFRESH, incident_id, retry=RETRY, result_ttl=60, failure_ttl=86400)

    def is_live(self, job_id: str) -> bool:
        try:
            job = Job.fetch(job_id, connection=self.queue.connection, serializer=JSONSerializer)
        except NoSuchJobError:
            return False
        return job.get_status(refresh=False) in LIVE

    def has_live_tick(self, incident_id: str, token: int) -> bool:
        """Whether a tick job for (incident, token) is scheduled, queued or running."""
        try:
            job = Job.fetch(
                tick_job_id(incident_id, token),
                connection=self.queue.connection,
                serializer=JSONSerializer,
            )
        except NoSuchJobError:
            return False
        return job.get_status(refresh=False) in LIVE
