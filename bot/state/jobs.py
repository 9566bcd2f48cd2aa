"""What rq knows of a job: its status, and whether anything will still run it."""

from __future__ import annotations

from datetime import UTC, timedelta

from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from bot import clock

# Statuses of a job something will still run, and of one nothing will run again.
LIVE = frozenset({JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED})
ENDED = frozenset({JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED})


def status_key(job_id: str) -> str:
    """rq's hash of the job (its `status` field is what `survey` reads in bulk)."""
    return str(Job.key_for(job_id))


class Jobs:
    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def _status(self, job_id: str) -> JobStatus | None:
        try:
            job = Job.fetch(
                job_id, connection=self.queue.connection, serializer=self.queue.serializer
            )
        except NoSuchJobError:
            return None
        return job.get_status(refresh=False)

    def is_queued(self, job_id: str) -> bool:
        """rq holds the job and has not started it."""
        return self._status(job_id) is JobStatus.QUEUED

    def is_live(self, job_id: str) -> bool:
        """rq holds the job with a status that will still run it."""
        return self._status(job_id) in LIVE

    def status(self, job_id: str, stuck_s: float | None = None) -> JobStatus | None:
        """The rq status of a job, None if nothing will run it (with `stuck_s`: also a job
        started longer ago than that, whose worker is taken for dead).

        A worker SIGKILLed between dequeuing a job and starting it leaves it "queued" in no
        queue (rq's intermediate list, failed only minutes later); a "scheduled" job must be in
        the registry. Either way nothing will run it: report it as lost.
        """
        queue = self.queue
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
