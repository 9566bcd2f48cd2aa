"""Handoff timers and notes.

A handoff's post and its reminder DM wait in a due index of their own, a sorted set of
"<kind>|<epoch>|<schedule>" scored by when they fall due (kind `post` or `remind`). Arming
is ZADD NX, so the reconciler can re-arm every handoff ahead at each pass; the ticker holding
the scheduler lease moves what fell due into RQ jobs, removing them from the index in the
same MULTI. A job re-derives its handoff from the schedule as it is (the fence) and posts
under a do-once marker, so a handoff is told once however many times it is armed.

Notes left with `/incident oncall note` are kept per schedule (the latest NOTES_MAX).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import cast

from rq import Queue

from bot.domain.handoff import Note
from bot.state.due import arm, dispatch_due
from bot.state.keys import PREFIX

DUE_KEY = f"{PREFIX}:due:handoff"
JOB = "bot.jobs.handoff"
KINDS = ("post", "remind")
NOTES_MAX = 50


def member(kind: str, at: datetime, schedule: str) -> str:
    return f"{kind}|{int(at.timestamp())}|{schedule}"


def parse_member(raw: bytes | str) -> tuple[str, int, str]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    kind, epoch, schedule = text.split("|", 2)
    return kind, int(epoch), schedule


def job_id(kind: str, epoch: int, schedule: str) -> str:
    return f"handoff-{kind}-{epoch}-{schedule}"


def done_marker(kind: str, epoch: int, schedule: str) -> str:
    return f"{PREFIX}:handoff:{kind}:{epoch}:{schedule}"


def notes_key(schedule: str) -> str:
    return f"{PREFIX}:oncall:notes:{schedule}"


class HandoffTimers:
    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def arm(self, entries: dict[str, float]) -> int:
        """Index each member at its due time unless it is there already; how many were new."""
        return arm(self.queue, DUE_KEY, entries)

    def armed(self) -> list[tuple[str, int, str, float]]:
        rows = self.queue.connection.zrange(DUE_KEY, 0, -1, withscores=True)
        return [(*parse_member(m), float(s)) for m, s in cast(list[tuple[bytes, float]], rows)]

    def dispatch_due(self, limit: int = 200) -> int:
        """Move what fell due into RQ, one job each (see `bot.state.due`)."""
        return dispatch_due(
            self.queue, DUE_KEY, JOB, parse_member, lambda raw: job_id(*parse_member(raw)), limit
        )


class Notes:
    def __init__(self, queue: Queue) -> None:
        self.r = queue.connection

    def add(self, schedule: str, note: Note) -> None:
        raw = json.dumps({"user": note.user, "at": note.at.isoformat(), "text": note.text})
        with self.r.pipeline(transaction=True) as pipe:
            pipe.rpush(notes_key(schedule), raw)
            pipe.ltrim(notes_key(schedule), -NOTES_MAX, -1)
            pipe.execute()

    def of(self, schedule: str) -> list[Note]:
        rows = cast(list[bytes], self.r.lrange(notes_key(schedule), 0, -1))
        found = [json.loads(row) for row in rows]
        return [Note(n["user"], datetime.fromisoformat(n["at"]), n["text"]) for n in found]
