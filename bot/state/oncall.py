"""Schedule changes made from Slack (overrides, swaps) and each schedule's timeline.

One hash holds every change in force or still to come (id -> JSON), so layering them over
the YAML costs one HGETALL. Each change and each removal is also appended to the
schedule's timeline stream (capped at TIMELINE_MAX entries), which keeps the history after
a change has ended and been pruned from the hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import redis
from redis.client import Pipeline

from bot.domain.oncall import Change
from bot.state.keys import PREFIX
from bot.state.txn import transact

CHANGES = f"{PREFIX}:oncall:changes"
SEQUENCE = f"{PREFIX}:oncall:seq"
TIMELINE_MAX = 1000
KEEP_ENDED = timedelta(days=7)  # an ended change stays listed (and removable) this long


def timeline_key(schedule: str) -> str:
    return f"{PREFIX}:oncall:timeline:{schedule}"


@dataclass(frozen=True)
class Event:
    """One line of a schedule's timeline: `what` (added, removed) a change, by whom, when."""

    at: datetime
    what: str
    actor: str
    change: Change


class ScheduleChanges:
    def __init__(self, connection: redis.Redis) -> None:
        self.r = connection

    def all(self) -> list[Change]:
        """Every change kept, oldest first."""
        raw = cast(dict[str, str], self.r.hgetall(CHANGES))
        changes = [Change.from_dict(json.loads(v)) for v in raw.values()]
        return sorted(changes, key=lambda c: (c.at, c.id))

    def new_id(self) -> str:
        return f"o{int(self.r.incr(SEQUENCE))}"

    def add(self, change: Change, now: datetime) -> None:
        """Keep `change` and note it in its schedule's timeline, in one transaction; drop
        the changes that ended more than KEEP_ENDED ago."""

        def write(pipe: Pipeline) -> None:
            raw = cast(dict[str, str], pipe.hgetall(CHANGES))
            stale = [
                k for k, v in raw.items() if Change.from_dict(json.loads(v)).end < now - KEEP_ENDED
            ]
            pipe.multi()
            if stale:
                pipe.hdel(CHANGES, *stale)
            pipe.hset(CHANGES, change.id, json.dumps(change.to_dict()))
            _note(pipe, "added", change.by, change, now)

        transact(self.r, [CHANGES], write)

    def remove(self, change_id: str, actor: str, now: datetime) -> Change | None:
        """Drop the change called `change_id` (None if there is none), noting who did."""

        def write(pipe: Pipeline) -> Change | None:
            raw = cast(str | None, pipe.hget(CHANGES, change_id))
            if raw is None:
                return None
            change = Change.from_dict(json.loads(raw))
            pipe.multi()
            pipe.hdel(CHANGES, change_id)
            _note(pipe, "removed", actor, change, now)
            return change

        return transact(self.r, [CHANGES], write)

    def find(self, change_id: str) -> Change | None:
        raw = cast(str | None, self.r.hget(CHANGES, change_id))
        return Change.from_dict(json.loads(raw)) if raw is not None else None

    def timeline(self, schedule: str) -> list[Event]:
        rows = cast(list[tuple[str, dict[str, str]]], self.r.xrange(timeline_key(schedule)))
        return [
            Event(
                datetime.fromisoformat(f["at"]),
                f["what"],
                f["actor"],
                Change.from_dict(json.loads(f["change"])),
            )
            for _id, f in rows
        ]


def _note(pipe: Pipeline, what: str, actor: str, change: Change, now: datetime) -> None:
    fields = {
        "at": now.isoformat(),
        "what": what,
        "actor": actor,
        "change": json.dumps(change.to_dict()),
    }
    pipe.xadd(timeline_key(change.schedule), fields, maxlen=TIMELINE_MAX, approximate=True)  # type: ignore[arg-type]
