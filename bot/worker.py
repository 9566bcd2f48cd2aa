"""`tocsin worker`: an RQ SimpleWorker plus a ticker thread that schedules and reconciles.

RQ's own scheduler lock lives 61 s and is re-contested every maintenance interval, so a
SIGKILLed scheduler stalls every timer for minutes. Instead each worker runs a ticker:
whoever holds a short Redis lease (TOCSIN_SCHEDULER_LEASE_S, 3 s) moves the escalation steps
that fell due from the due index into `tick_many` jobs (bot.state.timers), and other due jobs from
rq's scheduled registry to the queue, every TOCSIN_SCHEDULER_POLL_S; when it dies another worker
takes the lease within seconds. A second thread runs the reconciler on start and periodically,
and then the retention sweep of closed incidents (bot.state.retention). With
TOCSIN_HEARTBEAT_URL set, a third pings it while this worker schedules and all is well.
SimpleWorker runs jobs in-process: forking per job is far too slow for many timers.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
import uuid
from typing import Any

import redis
import structlog
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer

from bot import clock, jobs
from bot.alerts import heartbeat
from bot.alerts.intake import kick_waiting
from bot.config.settings import Settings
from bot.incident.reconcile import reconcile
from bot.learning.services import reconcile_learning
from bot.metrics import count_job_failure
from bot.runtime import Runtime
from bot.state.keys import RECONCILE_LEASE, SCHEDULER_LEASE
from bot.state.leases import Leases
from bot.state.retention import sweep
from bot.watchdog.heartbeat import Heartbeat

log = structlog.get_logger(__name__)


class Ticker(threading.Thread):
    def __init__(self, runtime: Runtime, name: str) -> None:
        super().__init__(name="tocsin-ticker", daemon=True)
        self.rt = runtime
        self.owner = name
        self.stopping = threading.Event()
        self.scheduler = RQScheduler(
            [runtime.queue], connection=runtime.rq_redis, serializer=JSONSerializer
        )
        self.scheduler.prepare_registries([runtime.queue.name])
        self.leases = Leases(runtime.r)
        self.is_scheduler = False

    def run(self) -> None:
        settings = self.rt.settings
        while not self.stopping.is_set():
            try:
                held = self.leases.hold(SCHEDULER_LEASE, self.owner, settings.scheduler_lease_s)
                if held != self.is_scheduler:
                    log.info("scheduler_role", held=held, worker=self.owner)
                    self.is_scheduler = held
                if held:
                    while self.rt.escalation.timers.dispatch_due() >= 1000:  # steps that fell due
                        pass
                    heartbeat.dispatch(self.rt.alert_store, self.rt.queue)  # silent sources
                    self.rt.handoffs.timers.dispatch_due()  # handoff posts and reminders
                    self.rt.drill_schedule.timers.dispatch_due()  # scheduled drills
                    self.scheduler.enqueue_scheduled_jobs()  # type: ignore[no-untyped-call]
            except Exception:  # the ticker must outlive a Redis blip
                log.exception("ticker_error", worker=self.owner)
                time.sleep(1)
            self.stopping.wait(settings.scheduler_poll_s)


class Reconciler(threading.Thread):
    """Runs the reconciler and the retention sweep at start and every TOCSIN_RECONCILE_EVERY_S
    (one worker at a time).

    A thread of its own: a scan of thousands of open incidents takes a while, and due
    steps must not wait for it.
    """

    def __init__(self, runtime: Runtime, name: str, stopping: threading.Event) -> None:
        super().__init__(name="tocsin-reconciler", daemon=True)
        self.rt, self.owner, self.stopping = runtime, name, stopping
        self.leases = Leases(runtime.r)

    def run(self) -> None:
        every = self.rt.settings.reconcile_every_s
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                if self.leases.take(RECONCILE_LEASE, self.owner, every * 0.9):
                    reconcile(
                        self.rt.escalation,
                        stuck_s=self.rt.settings.claim_lease_s + 2,
                        channels=self.rt.channels is not None,
                    )
                    reconcile_learning(self.rt.learning)
                    kick_waiting(self.rt.alert_store, self.rt.queue)  # alerts left in an inbox
                    sweep(self.rt.store, self.rt.settings.retention_s, clock.now_ts())
                    self.rt.oncall.catalog.feeds.refresh_due()  # schedules from .ics feeds
                    self.rt.handoffs.arm()
                    self.rt.drill_schedule.arm()  # each scheduled drill's next firing
            except Exception:  # the reconciler must outlive a Redis blip
                log.exception("reconciler_error", worker=self.owner)
            self.stopping.wait(max(0.0, every - (time.monotonic() - started)))


class RuntimeWorker(SimpleWorker):
    """A SimpleWorker whose jobs find `runtime` through `bot.jobs.runtime()`."""

    def __init__(self, *args: Any, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runtime = runtime

    def execute_job(self, job: Job, queue: Queue) -> None:
        with jobs.serving(self.runtime):
            super().execute_job(job, queue)


def run_worker(settings: Settings, burst: bool = False, name: str | None = None) -> int:
    name = name or f"tocsin-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    runtime = Runtime.build(settings, owner=name)  # its claims are held in this worker's name
    ticker = Ticker(runtime, name)
    ticker.start()
    Reconciler(runtime, name, ticker.stopping).start()
    if settings.heartbeat_url:  # for an external dead man's switch (bot.watchdog.heartbeat)
        Heartbeat(
            ticker.leases,
            runtime.escalation.timers,
            name,
            settings.heartbeat_url,
            settings.heartbeat_every_s,
            ticker.stopping,
        ).start()

    def make(worker_name: str) -> RuntimeWorker:
        return RuntimeWorker(
            [runtime.queue],
            runtime=runtime,
            connection=runtime.rq_redis,
            serializer=JSONSerializer,
            name=worker_name,
            worker_ttl=30,
            job_monitoring_interval=5,
            maintenance_interval=30,
            exception_handlers=[count_job_failure],  # tocsin_job_failures_total on /metrics
        )

    worker: RuntimeWorker | None = None
    try:
        for attempt in itertools.count(1):
            try:  # Redis may be away already at start (a restart racing our boot): wait too
                if worker is None:
                    worker = make(name if attempt == 1 else f"{name}-r{attempt}")
                    log.info("worker_started", worker=worker.name, queue=runtime.queue.name)
                worker.work(burst=burst, with_scheduler=False, logging_level="WARNING")
                break
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if burst:
                    raise
                # Redis restarting (or failing over) must not end the process: wait, go on
                # under a fresh name (the old registration expires with worker_ttl).
                log.warning("redis_unavailable_worker_waiting", worker=name, error=str(exc))
                time.sleep(1)
                worker = None
    finally:
        ticker.stopping.set()
        with contextlib.suppress(redis.RedisError):
            ticker.leases.release(SCHEDULER_LEASE, name)  # hand the role over now, not in 3 s
    return 0
