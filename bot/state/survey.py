"""The reconciler's bulk read: each open incident with its outbox and the rq status of its
timers, a few round trips for thousands of incidents."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from bot.domain.incident import Incident
from bot.state.jobs import status_key
from bot.state.store import Store, parse_incident
from bot.state.timers import DUE_KEY, batched_key, due_member, remind_job_id, tick_job_id

CHUNK = 500


@dataclass
class Seen:
    """What one pipelined read tells about an incident, enough to skip the healthy ones."""

    incident: Incident
    outbox: dict[str, str]
    tick: str | None  # "scheduled" if indexed, else the rq status of its tick or batch job
    reminders: tuple[str | None, str | None]
    batch: str | None = None  # the tick_many job its step was moved into, if any


def survey(store: Store, ids: list[str]) -> list[Seen]:
    """Incidents, outboxes and the rq status of their timers, in one round trip per chunk."""
    seen: list[Seen] = []
    r = store.r
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        raw = r.mget([store.incident_key(i) for i in chunk])
        incidents = [parse_incident(x) if x else None for x in raw]
        with r.pipeline(transaction=False) as pipe:
            for incident_id, incident in zip(chunk, incidents, strict=True):
                token = incident.token if incident else 0
                update = incident.update_token if incident else 0
                pipe.hgetall(store.outbox_key(incident_id))
                pipe.zscore(DUE_KEY, due_member(incident_id, token))
                pipe.hget(status_key(tick_job_id(incident_id, token)), "status")
                pipe.hget(status_key(remind_job_id(incident_id, update, 1)), "status")
                pipe.hget(status_key(remind_job_id(incident_id, update, 2)), "status")
                pipe.get(batched_key(incident_id, token))
            answers = pipe.execute()
        found = []
        for n, incident in enumerate(incidents):
            if incident is not None:
                outbox, due, tick, first, second, batch = answers[6 * n : 6 * n + 6]
                tick = "scheduled" if due is not None else tick
                found.append(Seen(incident, outbox, tick, (first, second), batch))
        _batch_status(r, [s for s in found if s.tick is None and s.batch is not None])
        seen += found
    return seen


def _batch_status(r: redis.Redis, waiting: list[Seen]) -> None:
    """The rq status of the batch job each of `waiting` is in, one round trip for all."""
    if not waiting:
        return
    with r.pipeline(transaction=False) as pipe:
        for s in waiting:
            pipe.hget(status_key(str(s.batch)), "status")
        for s, status in zip(waiting, pipe.execute(), strict=True):
            s.tick = status
