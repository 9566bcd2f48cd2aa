"""Timers on RQ: escalation ticks scheduled for their due time, and outbox drains.

A future escalation step waits in Tocsin's own due index, a sorted set of
"<incident>|<fencing token>" scored by the due time in float seconds. The ticker holding
the scheduler lease moves what fell due into RQ as `tick_many` jobs, several steps per
job, removing them from the index in the same MULTI. One RQ job per timer costs about a
dozen rq round trips before any work is done, and rq's own scheduled registry keeps whole
seconds (a step could fire up to a second early); batches meet a burst of 1,000 steps due
in one second, and float scores fire nothing early.

A step due now (declaration, a reconciler kick) is a plain `tick` job, so it runs without
waiting for the ticker. Job ids are derived from (incident, fencing token), so the
reconciler can tell whether the timer for the incident's current state exists. Arguments
are ids and primitives; the queue uses rq's JSON serializer.

The learning loop's timers are fenced the same way: a review reminder's job id carries the
review's token and reminder number, and the job exits unless both still match the review
state. Action-item reminders are keyed by the item; a marker makes each one go out once.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import cast

import redis
from redis.client import Pipeline
from rq import Queue, Retry
from rq.serializers import JSONSerializer

from bot import clock
from bot.state.jobs import Jobs

TICK = "bot.jobs.tick"
TICK_MANY = "bot.jobs.tick_many"
DUE_KEY = "tocsin:due"  # sorted set: "<incident>|<token>" -> due time (epoch seconds, float)
# "tocsin:batched:<incident>|<token>" -> the id of the tick_many job holding that step
BATCHED_PREFIX = "tocsin:batched:"
BATCHED_TTL_S = 3600  # a step still unrun by then is re-run by the reconciler anyway
BATCH_MAX = 50  # steps per tick_many job
DRAIN = "bot.jobs.drain"
REMIND = "bot.jobs.remind"
OPEN_CHANNEL = "bot.jobs.open_channel"
REFRESH = "bot.jobs.refresh_header"
REMIND_REVIEW = "bot.jobs.learning.remind_review"
POST_DRAFT = "bot.jobs.learning.post_review_draft"
REMIND_ACTION = "bot.jobs.learning.remind_action"
PUBLISH_HOME = "bot.jobs.learning.publish_home"
CONTAIN = "bot.jobs.containment.run_containment"
# Retry covers exceptions (Slack or Redis briefly away); a SIGKILLed worker's job is
# recovered faster by the reconciler than by rq's abandoned-job cleanup.
RETRY = Retry(max=5, interval=[1, 2, 5, 10, 30])


def make_queue(connection: redis.Redis, name: str) -> Queue:
    return Queue(name, connection=connection, serializer=JSONSerializer, default_timeout=120)


def tick_job_id(incident_id: str, token: int) -> str:
    return f"tick-{incident_id}-{token}"


def due_member(incident_id: str, token: int) -> str:
    return f"{incident_id}|{token}"


def batched_key(incident_id: str, token: int) -> str:
    return BATCHED_PREFIX + due_member(incident_id, token)


def parse_member(member: bytes | str) -> tuple[str, int]:
    text = member.decode() if isinstance(member, bytes) else member
    incident_id, _, token = text.rpartition("|")
    return incident_id, int(token)


def batch_size(due: int) -> int:
    """Split what fell due into at least four jobs (two workers share a burst), <= 50 each."""
    return max(1, min(BATCH_MAX, math.ceil(due / 4)))


def remind_job_id(incident_id: str, token: int, stage: int) -> str:
    return f"remind-{incident_id}-{token}-{stage}"


def review_job_id(incident_id: str, token: int, number: int) -> str:
    return f"review-{incident_id}-{token}-{number}"


def action_job_id(ref: str) -> str:
    return "action-" + ref.replace(":", "-")


class Timers:
    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self.jobs = Jobs(queue)

    def _at(self, func: str, at: float, *args: object, job_id: str) -> None:
        """Run `func(*args)` at `at` (now when past), as the job `job_id`."""
        common = {"job_id": job_id, "retry": RETRY, "result_ttl": 600, "failure_ttl": 86400}
        if at <= clock.now_ts():
            self.queue.enqueue(func, *args, **common)
        else:
            self.queue.enqueue_at(datetime.fromtimestamp(at, UTC), func, *args, **common)

    def schedule_tick(
        self,
        incident_id: str,
        token: int,
        due_at: float | None,
        suffix: str = "",
        pipe: Pipeline | None = None,
    ) -> None:
        """Run the escalation tick for (incident, token) at `due_at` (now when None or past).

        A future step goes into the due index, on `pipe` when given (so it commits with
        the state that set it); a step due now is an RQ job at once.
        """
        if due_at is not None and due_at > clock.now_ts():
            conn = pipe if pipe is not None else self.queue.connection
            conn.zadd(DUE_KEY, {due_member(incident_id, token): due_at})
            return
        job_id = tick_job_id(incident_id, token) + suffix
        self.queue.enqueue(  # at the front: a due step goes before a backlog of deliveries
            TICK,
            incident_id,
            token,
            job_id=job_id,
            retry=RETRY,
            result_ttl=600,
            failure_ttl=86400,
            at_front=True,
        )

    def cancel_tick(self, incident_id: str, token: int, pipe: Pipeline) -> None:
        """Drop the indexed step of (incident, token), on `pipe` with the change that moved
        the token on (an ack): its tick would only find the token stale."""
        pipe.zrem(DUE_KEY, due_member(incident_id, token))

    def dispatch_due(self, limit: int = 1000) -> int:
        """Move steps that fell due from the index into RQ (the scheduler's job); how many.

        Removal and enqueueing commit in one MULTI, so a step is either still indexed or in
        a job. Two tickers racing (a lease lost mid-call) may enqueue a step twice; its
        fencing token lets one of them act.
        """
        conn = self.queue.connection
        due = conn.zrangebyscore(DUE_KEY, "-inf", clock.now_ts(), start=0, num=limit)
        if not due:
            return 0
        pairs = [parse_member(m) for m in cast(list[bytes], due)]
        size = batch_size(len(pairs))
        with conn.pipeline(transaction=True) as pipe:
            pipe.zrem(DUE_KEY, *due)
            batches = []
            for n in range(0, len(pairs), size):
                job_id = f"ticks-{uuid.uuid4().hex}"
                for incident_id, token in pairs[n : n + size]:  # where the reconciler looks
                    pipe.set(batched_key(incident_id, token), job_id, ex=BATCHED_TTL_S)
                batches.append(
                    Queue.prepare_data(
                        TICK_MANY,
                        args=([list(p) for p in pairs[n : n + size]],),
                        job_id=job_id,
                        retry=RETRY,
                        result_ttl=0,  # nothing reads a batch's result
                        failure_ttl=86400,
                        at_front=True,
                    )
                )
            self.queue.enqueue_many(batches, pipeline=pipe)
            pipe.execute()
        return len(pairs)

    def oldest_due(self) -> float | None:
        """When the earliest indexed step falls (or fell) due; None when the index is empty."""
        first = self.queue.connection.zrange(DUE_KEY, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def due_at(self, incident_id: str, token: int) -> float | None:
        """When the indexed step for (incident, token) falls due; None if it is not indexed."""
        score = self.queue.connection.zscore(DUE_KEY, due_member(incident_id, token))
        return None if score is None else float(score)

    def schedule_drain(self, incident_id: str, job_id: str | None = None) -> None:
        self.queue.enqueue(
            DRAIN, incident_id, job_id=job_id, retry=RETRY, result_ttl=60, failure_ttl=86400
        )

    def drain_soon(self, incident_id: str, owner: str) -> None:
        """A drain for the incident, unless `owner`'s last one has not started yet (it will
        deliver what was added since): a burst of posts queues one drain, not one each."""
        job_id = f"drain-{incident_id}-{owner}"
        if not self.jobs.is_queued(job_id):
            self.schedule_drain(incident_id, job_id=job_id)

    def schedule_drain_in(self, incident_id: str, seconds: float) -> None:
        """Drain again once a paced channel's slot frees. rq keeps whole seconds and may
        run a job up to 1 s early, hence the extra second (a drain too early defers again)."""
        self._drain_at(incident_id, clock.now_ts() + seconds + 1.0)

    def schedule_drain_at(self, incident_id: str, at: float) -> None:
        """Drain when a later notification rule falls due at `at` (POSIX s). The job is named
        by the time, so every drain before then asking for it enqueues the same one once.
        rq may run a job up to 1 s early: a drain too early asks for it again."""
        self._drain_at(incident_id, float(int(at)) + 1.0)

    def _drain_at(self, incident_id: str, at: float) -> None:
        self.queue.enqueue_at(
            datetime.fromtimestamp(at, UTC),
            DRAIN,
            incident_id,
            job_id=f"drain-{incident_id}-paced-{int(at * 1000)}",
            retry=RETRY,
            result_ttl=60,
            failure_ttl=86400,
        )

    def schedule_remind(
        self, incident_id: str, token: int, stage: int, due_at: float, suffix: str = ""
    ) -> None:
        """A status-update reminder (stage 1: commander, 2: comms lead), fenced by `token`."""
        job_id = remind_job_id(incident_id, token, stage) + suffix
        self._at(REMIND, due_at, incident_id, token, stage, job_id=job_id)

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
        return self.jobs.is_live(job_id)

    def batch_of(self, incident_id: str, token: int) -> str | None:
        """The id of the tick_many job the step of (incident, token) was moved into, if any
        (one key read: the reconciler's cost does not grow with the queue)."""
        job_id = self.queue.connection.get(batched_key(incident_id, token))
        return None if job_id is None else cast(bytes, job_id).decode()

    def unbatch(self, incident_id: str, token: int, pipe: Pipeline) -> None:
        """Forget the batch of (incident, token), on `pipe` with the step it held."""
        pipe.delete(batched_key(incident_id, token))

    # the learning loop -------------------------------------------------------------------
    def schedule_review(self, incident_id: str, token: int, number: int, at: float) -> None:
        """Reminder `number` (0: at the due time) of review `token`."""
        job_id = review_job_id(incident_id, token, number)
        self._at(REMIND_REVIEW, at, incident_id, token, number, job_id=job_id)

    def schedule_action(self, ref: str, at: float) -> None:
        self._at(REMIND_ACTION, at, ref, job_id=action_job_id(ref))

    def post_draft(self, incident_id: str, token: int) -> None:
        self.queue.enqueue(
            POST_DRAFT,
            incident_id,
            token,
            job_id=f"review-draft-{incident_id}-{token}",
            retry=RETRY,
            result_ttl=600,
            failure_ttl=86400,
        )

    def run_containment(
        self, incident_id: str, action_id: str, run_id: str, user: str, thread_ts: str | None
    ) -> None:
        """Send a containment action's webhook (the job id is the run's: enqueued once)."""
        self.queue.enqueue(
            CONTAIN,
            incident_id,
            action_id,
            run_id,
            user,
            thread_ts,
            job_id=f"contain-{run_id}",
            retry=RETRY,
            result_ttl=3600,
            failure_ttl=86400,
        )

    def publish_home(self, user: str) -> None:
        self.queue.enqueue(PUBLISH_HOME, user, retry=RETRY, result_ttl=60, failure_ttl=3600)
