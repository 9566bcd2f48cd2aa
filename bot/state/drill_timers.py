"""Scheduled drills' due index: a sorted set of "<epoch>|<drill key>" scored by when each
firing falls due.

Arming is ZADD NX, so the reconciler can arm every drill's next firing at each pass; the
ticker holding the scheduler lease moves what fell due into RQ jobs, removing them from the
index in the same MULTI. The job fires under a do-once marker per firing
(`fired_marker`), so a firing armed twice, or dispatched by two workers, starts one drill.
"""

from __future__ import annotations

import hashlib

from rq import Queue

from bot.state.due import arm, dispatch_due
from bot.state.keys import PREFIX

DUE_KEY = f"{PREFIX}:due:drill"
JOB = "bot.jobs.scheduled_drill"
# A scenario's injected events: "<incident>|<scenario>|<n>" scored by when each is due.
INJECT_KEY = f"{PREFIX}:due:drill:inject"
INJECT_JOB = "bot.jobs.drill_inject"


def member(epoch: int, key: str) -> str:
    return f"{epoch}|{key}"


def parse_member(raw: bytes | str) -> tuple[int, str]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    epoch, key = text.split("|", 1)
    return int(epoch), key


def inject_member(incident_id: str, scenario: str, n: int) -> str:
    return f"{incident_id}|{scenario}|{n}"


def parse_inject(raw: bytes | str) -> tuple[str, str, int]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    incident_id, scenario, n = text.split("|", 2)
    return incident_id, scenario, int(n)


def fired_marker(epoch: int, key: str) -> str:
    return f"{PREFIX}:drill:fired:{epoch}:{key}"


def _job_id(epoch: int, key: str) -> str:
    """rq ids take letters, digits, `_` and `-` only: the key goes in as a digest."""
    return f"drill-{epoch}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


class DrillTimers:
    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def arm(self, entries: dict[str, float]) -> int:
        """Index each member at its due time unless it is there already; how many were new."""
        return arm(self.queue, DUE_KEY, entries)

    def arm_injects(self, entries: dict[str, float]) -> int:
        """Index a scenario's events (`inject_member`) at their due times."""
        return arm(self.queue, INJECT_KEY, entries)

    def dispatch_due(self, limit: int = 100) -> int:
        """Move the firings and injected events that fell due into RQ, one job each (see
        `bot.state.due`)."""
        fired = dispatch_due(
            self.queue, DUE_KEY, JOB, parse_member, lambda raw: _job_id(*parse_member(raw)), limit
        )
        injected = dispatch_due(
            self.queue,
            INJECT_KEY,
            INJECT_JOB,
            parse_inject,
            lambda raw: "inject-" + "-".join(map(str, parse_inject(raw))),
            limit,
        )
        return fired + injected
