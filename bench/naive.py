"""The naive timer baseline: one plain RQ job per timer, run by plain RQ SimpleWorkers.

    python -m bench.naive REDIS_URL QUEUE     # a SimpleWorker with rq's own scheduler

Each job only records how late it started against its due time, so this is the floor of
what "one `enqueue_at` job per timer" costs on this machine: rq's scheduler (polling once a
second, whole-second scores) plus rq's per-job overhead, with no work in the job at all.
"""

from __future__ import annotations

import sys
import time

import redis
from rq import SimpleWorker, get_current_job
from rq.serializers import JSONSerializer

from bot.state.timers import make_queue

LATENESS_KEY = "naive:lateness"


def record(due: float) -> None:
    """The job: push (start time - due time) to a Redis list."""
    now = time.time()
    job = get_current_job()
    assert job is not None
    job.connection.rpush(LATENESS_KEY, repr(now - due))


def main() -> int:
    url, queue_name = sys.argv[1], sys.argv[2]
    connection = redis.Redis.from_url(url)
    queue = make_queue(connection, queue_name)
    worker = SimpleWorker([queue], connection=connection, serializer=JSONSerializer)
    worker.work(with_scheduler=True, logging_level="WARNING")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
