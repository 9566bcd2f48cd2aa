"""The due index and `tick_many` batches: real Valkey, the engine in this process.

No worker runs here, so each test drives the ticker's and the worker's parts itself and
can look at Redis between them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from freezegun import freeze_time
from rq.job import Job
from rq.utils import utcformat
from slack_sdk import WebClient

from bot.domain.policy import EscalationStatus
from bot.incident.channel import ChannelService
from bot.incident.reconcile import reconcile
from bot.paging.recording import delivery_counts, recorded
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from bot.state import keys
from bot.state.store import OutboxItem
from bot.state.timers import DUE_KEY, TICK_MANY, due_member, parse_member

pytestmark = pytest.mark.integration


def declare(runtime: Runtime, count: int) -> list[str]:
    return [
        runtime.engine.declare(
            title=f"Batch {n}", service="checkout", severity="sev2", declared_by="U0ERIN001"
        ).id
        for n in range(count)
    ]


def queued_batches(runtime: Runtime) -> list[Job]:
    queue = runtime.queue
    jobs = Job.fetch_many(
        queue.get_job_ids(), connection=queue.connection, serializer=queue.serializer
    )
    return [j for j in jobs if j is not None and j.func_name == TICK_MANY]


class TestTickMany:
    def test_a_batch_takes_every_step_once_and_indexes_the_next(
        self, runtime: Runtime, r: redis.Redis
    ) -> None:
        """Five steps in one batch: each pages once, each next step waits in the index at its
        exact due time; the same batch again (an rq retry) pages nobody twice."""
        ids = declare(runtime, 5)
        pairs = [(i, runtime.store.get(i).token) for i in ids]
        outcomes = runtime.escalation.tick_many(pairs)
        assert outcomes == dict.fromkeys(ids, "stepped")
        pages = [p for p in recorded(r) if p["kind"] == "page"]
        assert sorted(str(p["incident"]) for p in pages) == sorted(ids)
        assert {p["to"] for p in pages} == {"U0ALICE01"}
        for incident_id in ids:
            incident = runtime.store.get(incident_id)
            assert incident.escalation.status is EscalationStatus.ACTIVE
            assert incident.escalation.step == 0
            score = runtime.rq_redis.zscore(DUE_KEY, due_member(incident_id, incident.token))
            assert score == incident.escalation.due_at  # float seconds, not rounded down

        again = runtime.escalation.tick_many(pairs)
        assert again == dict.fromkeys(ids, "stale")
        assert all(count == 1 for count in delivery_counts(r).values())
        assert len([p for p in recorded(r) if p["kind"] == "page"]) == 5

    def test_dispatch_moves_only_what_fell_due_into_batches(self, runtime: Runtime) -> None:
        """Ten due and three future timers: the ten leave the index in four batch jobs."""
        now = time.time()
        due = {due_member(f"past-{n}", 3): now - 1 - n for n in range(10)}
        future = {due_member(f"later-{n}", 3): now + 60 for n in range(3)}
        runtime.rq_redis.zadd(DUE_KEY, {**due, **future})
        assert runtime.escalation.timers.dispatch_due() == 10
        left = {parse_member(m)[0] for m in runtime.rq_redis.zrange(DUE_KEY, 0, -1)}
        assert left == {f"later-{n}" for n in range(3)}
        batches = queued_batches(runtime)
        assert sorted(len(job.args[0]) for job in batches) == [1, 3, 3, 3]
        steps = sorted(tuple(pair) for job in batches for pair in job.args[0])
        assert steps == sorted((f"past-{n}", 3) for n in range(10))
        assert runtime.escalation.timers.dispatch_due() == 0


class TestAcknowledgeCancelsTheStep:
    def test_an_ack_takes_the_waiting_step_out_of_the_index(self, runtime: Runtime) -> None:
        """Step 1 paged, step 2 waits in the index; the acknowledgement removes it in its own
        transaction, so the ticker never moves a stale step into a batch."""
        (incident_id,) = declare(runtime, 1)
        runtime.escalation.tick(incident_id, runtime.store.get(incident_id).token)
        waiting = due_member(incident_id, runtime.store.get(incident_id).token)
        assert runtime.rq_redis.zscore(DUE_KEY, waiting) is not None
        assert runtime.engine.acknowledge(incident_id, "U0ALICE01").ok
        assert runtime.rq_redis.zscore(DUE_KEY, waiting) is None
        assert runtime.rq_redis.zcard(DUE_KEY) == 0


# One person, a 1 s wait (inside the planner's DUE_SLACK_S), walked twice: the moment a step
# is taken the next is already "due" to the planner, so only the fencing token tells a
# duplicate of the tick just run from the tick of the step after it.
LOOPING = """\
name: looping
services: [pager-loop]
steps:
  - notify: [user:U0ALICE01]
    wait: 1s
repeat: 1
fallback_channel: C0INCIDENTS
"""


class TestFencingToken:
    def test_a_duplicate_tick_of_a_taken_step_pages_nobody_again(
        self, runtime: Runtime, r: redis.Redis, config_dir: Path
    ) -> None:
        """The same tick delivered twice (an rq retry, a reconciler kick beside the live job):
        the second finds the token moved on and pages nobody, although the planner would
        already call the next loop due."""
        (config_dir / "looping.yaml").write_text(LOOPING)
        incident_id = runtime.engine.declare(
            title="Fenced", service="pager-loop", severity="sev2", declared_by="U0ERIN001"
        ).id
        token = runtime.store.get(incident_id).token
        assert runtime.escalation.tick(incident_id, token) == "stepped"
        again = runtime.escalation.tick(incident_id, token)
        pages = [p for p in recorded(r) if p["incident"] == incident_id and p["kind"] == "page"]
        assert [(p["to"], p["loop"]) for p in pages] == [("U0ALICE01", 0)]
        assert again == "stale"
        state = runtime.store.get(incident_id).escalation
        assert (state.step, state.loop, state.status) == (0, 0, EscalationStatus.ACTIVE)


class TestReconcilerSeesBatches:
    def test_a_queued_batch_is_left_alone_and_a_lost_one_is_rerun(
        self, runtime: Runtime, r: redis.Redis
    ) -> None:
        """An overdue step inside a queued batch is not kicked; once that batch is lost (its
        worker died after taking it from the queue) the reconciler runs the step itself."""
        (incident_id,) = declare(runtime, 1)
        runtime.escalation.tick(incident_id, runtime.store.get(incident_id).token)
        runtime.queue.empty()  # the declaration's own jobs: not under test
        incident = runtime.store.get(incident_id)
        assert incident.escalation.due_at is not None
        overdue = datetime.fromtimestamp(incident.escalation.due_at + 1.5, UTC)
        with freeze_time(overdue, tick=True):  # the clock seam, 1.5 s past the due time
            assert runtime.escalation.timers.dispatch_due() == 1
            (batch,) = queued_batches(runtime)

            report = reconcile(runtime.escalation, grace_s=1.0)
            assert incident_id not in report.overdue_kicked + report.timers_rebuilt

            runtime.queue.connection.lrem(runtime.queue.key, 0, batch.id)  # taken, never run
            report = reconcile(runtime.escalation, grace_s=1.0)
            assert report.overdue_kicked == [incident_id]
            (kick,) = [j for j in runtime.queue.get_jobs() if j.func_name == "bot.jobs.tick"]
            assert tuple(kick.args) == (incident_id, incident.token)
            assert runtime.escalation.tick(*kick.args) == "stepped"
        assert runtime.store.get(incident_id).escalation.step == 1

    def test_a_redrive_whose_worker_died_mid_job_does_not_block_the_next(
        self, runtime: Runtime
    ) -> None:
        """A stalled outbox is re-driven; while that drain runs it is not re-driven again,
        but a drain "started" longer ago than stuck_s (its worker was SIGKILLed) is replaced."""
        (incident_id,) = declare(runtime, 1)
        runtime.queue.empty()
        owed = OutboxItem("announce:x", "announce", "C0STATUS", "x", created_at=time.time() - 5)
        with runtime.store.r.pipeline() as pipe:
            runtime.store.add_outbox(incident_id, [owed], pipe)  # stalled for 5 s
            pipe.execute()
        report = reconcile(runtime.escalation, grace_s=1.0, stuck_s=5.0)
        assert report.drains == [incident_id]
        redrive = Job.fetch(
            f"drain-{incident_id}-reconcile",
            connection=runtime.rq_redis,
            serializer=runtime.queue.serializer,
        )
        runtime.queue.connection.lrem(runtime.queue.key, 0, redrive.id)  # a worker took it
        started = datetime.now(UTC)
        runtime.rq_redis.hset(
            redrive.key, mapping={"status": "started", "started_at": utcformat(started)}
        )
        assert reconcile(runtime.escalation, grace_s=1.0, stuck_s=5.0).drains == []
        old = started - timedelta(seconds=10)
        runtime.rq_redis.hset(redrive.key, "started_at", utcformat(old))  # and died with it
        assert reconcile(runtime.escalation, grace_s=1.0, stuck_s=5.0).drains == [incident_id]

    def test_an_open_job_whose_worker_died_is_replaced_and_a_live_one_is_not(
        self, runtime: Runtime
    ) -> None:
        """A channel still unopened: its open job "started" recently, or longer ago than
        stuck_s but with a worker holding the open lease, is left to run; started long ago
        with the lease gone (its worker SIGKILLed mid-open: rq calls it started for minutes)
        it is enqueued again."""
        (incident_id,) = declare(runtime, 1)
        job_id = f"open-{incident_id}"
        job = Job.fetch(job_id, connection=runtime.rq_redis, serializer=runtime.queue.serializer)
        runtime.queue.connection.lrem(runtime.queue.key, 0, job.id)  # a worker took it
        started = datetime.now(UTC)
        runtime.rq_redis.hset(
            job.key, mapping={"status": "started", "started_at": utcformat(started)}
        )

        def reopened() -> list[str]:
            return reconcile(
                runtime.escalation, grace_s=1.0, stuck_s=5.0, channels=True
            ).channels_reopened

        assert reopened() == []
        runtime.rq_redis.hset(job.key, "started_at", utcformat(started - timedelta(seconds=10)))
        lease = keys.channel_opening(incident_id)
        runtime.store.r.set(lease, "w-alive", px=5000)  # a live worker, still at it
        assert reopened() == []
        runtime.store.r.delete(lease)  # its worker died: the lease ran out
        assert reopened() == [incident_id]
        again = Job.fetch(job_id, connection=runtime.rq_redis, serializer=runtime.queue.serializer)
        assert again.get_status() == "queued"
        assert runtime.queue.connection.lpos(runtime.queue.key, job_id) is not None
        assert reopened() == []  # queued once, not once per pass


class TestChannelOpenLease:
    def test_an_open_waits_for_the_lease_of_another_and_gives_its_own_back(
        self, runtime: Runtime, emulator: Emulator
    ) -> None:
        """While another worker holds the open lease, an open job creates nothing; once the
        lease is free, it opens the channel and releases the lease."""
        (incident_id,) = declare(runtime, 1)
        client = WebClient(token=emulator.bot_token, base_url=emulator.url)
        channels = ChannelService(
            runtime.store,
            client,
            runtime.escalation.catalog,
            runtime.escalation.directory,
            runtime.escalation.timers,
            runtime.runbooks,
            "w-test",
            5.0,
        )
        lease = keys.channel_opening(incident_id)
        runtime.store.r.set(lease, "w-other", px=5000)
        assert channels.open(incident_id) is None
        assert runtime.store.get(incident_id).channel_id is None
        assert not [c for c in emulator.channels() if c["name"].startswith(f"inc-{incident_id}")]
        runtime.store.r.delete(lease)
        opened = channels.open(incident_id)
        assert opened is not None
        assert runtime.store.get(incident_id).channel_id == opened
        assert runtime.store.r.exists(lease) == 0
