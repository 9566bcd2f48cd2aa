"""Due indexes of their own (handoffs, scheduled drills): a sorted set of members scored by
when each falls due, moved into RQ jobs by the worker holding the scheduler lease."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from rq import Queue

from bot import clock
from bot.state.timers import RETRY


def arm(queue: Queue, due_key: str, entries: dict[str, float]) -> int:
    """Index each member at its due time unless it is there already (ZADD NX: arming again
    is harmless); how many were new."""
    if not entries:
        return 0
    return int(cast(int, queue.connection.zadd(due_key, entries, nx=True)))


def dispatch_due(
    queue: Queue,
    due_key: str,
    job: str,
    args: Callable[[bytes], Sequence[Any]],
    job_id: Callable[[bytes], str],
    limit: int,
) -> int:
    """Move what fell due in `due_key` into RQ, one `job` each (its arguments and id from
    the member); removal and enqueueing in one MULTI, so each member runs once."""
    conn = queue.connection
    due = cast(list[bytes], conn.zrangebyscore(due_key, "-inf", clock.now_ts(), 0, limit))
    if not due:
        return 0
    with conn.pipeline(transaction=True) as pipe:
        pipe.zrem(due_key, *due)
        jobs = [
            Queue.prepare_data(
                job,
                args=tuple(args(raw)),
                job_id=job_id(raw),
                retry=RETRY,
                result_ttl=600,
                failure_ttl=86400,
                at_front=True,
            )
            for raw in due
        ]
        queue.enqueue_many(jobs, pipeline=pipe)
        pipe.execute()
    return len(due)
