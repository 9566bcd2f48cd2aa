"""The reconciler's bulk read: each open incident with its outbox and the rq status of its
timers, a few round trips for thousands of incidents."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.incident import Incident
from bot.state.jobs import status_key
from bot.state.store import Store, parse_incident
from bot.state.timers import DUE_KEY, due_member, remind_job_id, tick_job_id

CHUNK = 500


@dataclass
class Seen:
    """What one pipelined read tells about an incident, enough to skip the healthy ones."""

    incident: Incident
    outbox: dict[str, str]
    tick: str | None  # "scheduled" if indexed, else the rq status of its tick job, or None
    reminders: tuple[str | None, str | None]


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
            answers = pipe.execute()
        for n, incident in enumerate(incidents):
            if incident is not None:
                outbox, due, tick, first, second = answers[5 * n : 5 * n + 5]
                tick = "scheduled" if due is not None else tick
                seen.append(Seen(incident, outbox, tick, (first, second)))
    return seen
