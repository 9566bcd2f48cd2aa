"""RQ job functions: thin. Take the worker's runtime, bind log context, call the engine.

Arguments are ids and primitives (the queue uses rq's JSON serializer); the runtime is not
an argument: the worker (bot.worker) runs each job `serving` its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog
from rq import get_current_job

from bot.domain.outcomes import JobOutcome
from bot.runtime import Runtime

# The runtime of the job running in this context (set by `serving`, never assigned here).
_SERVING: ContextVar[Runtime] = ContextVar("tocsin_runtime")


@contextmanager
def serving(runtime: Runtime) -> Iterator[None]:
    """Jobs run inside this block use `runtime` (the worker's clients and services)."""
    token = _SERVING.set(runtime)
    try:
        yield
    finally:
        _SERVING.reset(token)


def runtime() -> Runtime:
    """The runtime of the worker running this job."""
    try:
        return _SERVING.get()
    except LookupError:
        raise RuntimeError(
            "tocsin's jobs run in `tocsin worker`, which gives them a runtime"
        ) from None


def _bind(incident_id: str | None) -> None:
    job = get_current_job()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(incident_id=incident_id, job_id=job.id if job else None)


def tick(incident_id: str, token: int) -> str:
    """An escalation step fell due for (incident, token)."""
    _bind(incident_id)
    return runtime().escalation.tick(incident_id, token)


def tick_many(pairs: list[list[str | int]]) -> dict[str, JobOutcome]:
    """Steps that fell due together, as [incident, token] pairs (from the due index)."""
    _bind(None)
    return runtime().escalation.tick_many((str(i), int(t)) for i, t in pairs)


def drain(incident_id: str) -> int:
    """Deliver what the incident's outbox still owes."""
    _bind(incident_id)
    return runtime().escalation.drain(incident_id)


def remind(incident_id: str, token: int, stage: int) -> str:
    """A status update may be overdue: remind the commander (stage 1) or comms lead (2)."""
    _bind(incident_id)
    return runtime().updates.remind(incident_id, token, stage)


def open_channel(incident_id: str) -> str | None:
    """Create the incident channel, pin the header, bookmark the runbook, invite people."""
    _bind(incident_id)
    channels = runtime().channels
    return channels.open(incident_id) if channels else None


def refresh_header(incident_id: str) -> None:
    """Bring the pinned header and the channel topic up to date."""
    _bind(incident_id)
    channels = runtime().channels
    if channels:
        channels.refresh(incident_id)


def post_runbook(incident_id: str) -> bool:
    """`/incident runbook`: post the matching runbook in the incident channel."""
    _bind(incident_id)
    rt = runtime()
    return bool(rt.channels and rt.channels.post_runbook(rt.store.get(incident_id)))


def scheduled_drill(epoch: int, key: str) -> str:
    """A scheduled drill (drills.yaml) fell due: start it, once per firing."""
    _bind(None)
    structlog.contextvars.bind_contextvars(drill=key)
    return runtime().drill_schedule.run(int(epoch), key)


def drill_inject(incident_id: str, scenario: str, n: int) -> str:
    """A drill scenario's event `n` fell due: post it in the drill's channel."""
    _bind(incident_id)
    return runtime().injects.run(incident_id, scenario, int(n))


def handoff(kind: str, epoch: int, schedule: str) -> str:
    """A schedule's handoff fell due: its post (`post`) or the incoming DM (`remind`)."""
    _bind(None)
    structlog.contextvars.bind_contextvars(schedule=schedule)
    return runtime().handoffs.run(kind, int(epoch), schedule)
