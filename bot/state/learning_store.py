"""Redis records of the learning loop: corrected milestones, action items, reviews, counters.

Keys (all under `tocsin:`):

- `inc:<id>:milestones`   hash milestone -> ISO instant (a commander's corrections)
- `inc:<id>:facts`        list of the timeline entries the metrics read (written by `Store.record`)
- `inc:<id>:actions`      hash A<n> -> action item JSON; `inc:<id>:actions:seq` numbers them
- `actions:owner:<user>`  set of `<incident>:<item>` refs of the user's open items
- `actions:due`           zset of refs by reminder time (removed once reminded or closed)
- `inc:<id>:review`       JSON review state: due_at, token, done_at, done_by, reminders
- `reviews:pending`       zset of incident ids by review due time

Like `Store`, write methods take `pipe` so the caller owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

import redis
from redis.client import Pipeline

from bot.domain.actions import ActionItem
from bot.domain.incident import Incident
from bot.domain.milestones import FACT_KINDS, Facts, facts
from bot.domain.timeline import Entry, Kind
from bot.state.keys import PREFIX
from bot.state.store import Store
from bot.state.timeline import Row, parse_entry

PENDING_REVIEWS = f"{PREFIX}:reviews:pending"
ACTIONS_DUE = f"{PREFIX}:actions:due"
_FACT_KINDS = {kind.value for kind in FACT_KINDS}


@dataclass
class ReviewState:
    due_at: float
    token: int
    done_at: float | None = None
    done_by: str | None = None
    reminders: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> ReviewState:
        return cls(**json.loads(raw))


class LearningStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.r = store.r

    # milestones ------------------------------------------------------------------------
    @staticmethod
    def milestones_key(incident_id: str) -> str:
        return f"{PREFIX}:inc:{incident_id}:milestones"

    def overrides(self, incident_id: str) -> dict[str, datetime]:
        raw = cast(dict[str, str], self.r.hgetall(self.milestones_key(incident_id)))
        return {k: datetime.fromisoformat(v) for k, v in raw.items()}

    def set_override(self, incident_id: str, which: str, at: datetime, pipe: Pipeline) -> None:
        pipe.hset(self.milestones_key(incident_id), which, at.isoformat())

    def fact_rows(self, incident_id: str, timeline: Iterable[Row]) -> list[Row]:
        """The entries the incident's facts come from, whole even if the timeline was capped."""
        kept = cast(list[str], self.r.lrange(self.store.facts_key(incident_id), 0, -1))
        return merge_facts(kept, timeline)

    # action items ----------------------------------------------------------------------
    @staticmethod
    def actions_key(incident_id: str) -> str:
        return f"{PREFIX}:inc:{incident_id}:actions"

    @staticmethod
    def owner_key(user: str) -> str:
        return f"{PREFIX}:actions:owner:{user}"

    def next_action_number(self, incident_id: str) -> int:
        return int(self.r.incr(self.actions_key(incident_id) + ":seq"))

    def actions(self, incident_id: str) -> list[ActionItem]:
        raw = cast(dict[str, str], self.r.hgetall(self.actions_key(incident_id)))
        items = [ActionItem.from_dict(json.loads(v)) for v in raw.values()]
        return sorted(items, key=lambda a: int(a.id[1:]))

    def action(self, ref: str) -> ActionItem | None:
        incident_id, _, item_id = ref.rpartition(":")
        raw = self.r.hget(self.actions_key(incident_id), item_id)
        return None if raw is None else ActionItem.from_dict(json.loads(str(raw)))

    def put_action(self, item: ActionItem, pipe: Pipeline, remind_at: float | None) -> None:
        pipe.hset(self.actions_key(item.incident_id), item.id, json.dumps(item.to_dict()))
        if item.owner and item.is_open:
            pipe.sadd(self.owner_key(item.owner), item.ref)
        elif item.owner:
            pipe.srem(self.owner_key(item.owner), item.ref)
        if remind_at is not None and item.is_open:
            pipe.zadd(ACTIONS_DUE, {item.ref: remind_at})
        else:
            pipe.zrem(ACTIONS_DUE, item.ref)

    def open_actions_of(self, user: str) -> list[ActionItem]:
        refs = sorted(str(x) for x in self.r.smembers(self.owner_key(user)))
        items = [self.action(ref) for ref in refs]
        return [i for i in items if i is not None and i.is_open]

    def unschedule_action(self, ref: str) -> None:
        """No reminder is owed for `ref` any more (sent, or the item is gone or closed)."""
        self.r.zrem(ACTIONS_DUE, ref)

    def due_actions(self) -> list[tuple[str, float]]:
        rows = cast(list[tuple[str, float]], self.r.zrange(ACTIONS_DUE, 0, -1, withscores=True))
        return [(str(ref), float(score)) for ref, score in rows]

    # reviews ---------------------------------------------------------------------------
    @staticmethod
    def review_key(incident_id: str) -> str:
        return f"{PREFIX}:inc:{incident_id}:review"

    def review(
        self, incident_id: str, conn: redis.Redis | Pipeline | None = None
    ) -> ReviewState | None:
        raw = (conn or self.r).get(self.review_key(incident_id))
        return None if raw is None else ReviewState.from_json(str(raw))

    def put_review(self, incident_id: str, state: ReviewState, pipe: Pipeline) -> None:
        pipe.set(self.review_key(incident_id), state.to_json())
        if state.done_at is None:
            pipe.zadd(PENDING_REVIEWS, {incident_id: state.due_at})
        else:
            pipe.zrem(PENDING_REVIEWS, incident_id)

    def pending_reviews(self) -> list[str]:
        return [str(i) for i in self.r.zrange(PENDING_REVIEWS, 0, -1)]

    # history ---------------------------------------------------------------------------
    def incident_ids(self, since: float, until: float) -> list[str]:
        return [str(i) for i in self.r.zrangebyscore(self.store.all_key, since, f"({until}")]

    def history(self, since: float, until: float, chunk: int = 200) -> list[tuple[Incident, Facts]]:
        """Every incident declared in [since, until) with its facts, read in pipelined chunks."""
        ids = self.incident_ids(since, until)
        out: list[tuple[Incident, Facts]] = []
        for start in range(0, len(ids), chunk):
            out += self._chunk(ids[start : start + chunk])
        return out

    def _chunk(self, ids: Iterable[str]) -> list[tuple[Incident, Facts]]:
        ids = list(ids)
        with self.r.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.get(self.store.incident_key(i))
                pipe.xrange(self.store.timeline_key(i))
                pipe.hgetall(self.milestones_key(i))
                pipe.lrange(self.store.facts_key(i), 0, -1)
            raw: list[Any] = pipe.execute()
        out = []
        for n, _ in enumerate(ids):
            doc, rows, over, kept = raw[4 * n : 4 * n + 4]
            if doc is None:
                continue
            incident = Incident.from_dict(json.loads(doc))
            timeline = [parse_entry(f) for _id, f in rows if f.get("kind") in _FACT_KINDS]
            overrides = {k: datetime.fromisoformat(v) for k, v in (over or {}).items()}
            out.append((incident, facts(incident, merge_facts(kept, timeline), overrides)))
        return out


def merge_facts(kept: Iterable[str], timeline: Iterable[Row]) -> list[Row]:
    """An incident's fact entries: those kept apart (their text is not kept), and any the
    timeline holds that are not among them (written before facts were kept apart)."""
    out: list[Row] = []
    seen: set[tuple[str, str, str, str]] = set()
    for raw in kept:
        at, kind, actor, data = json.loads(raw)
        out.append((Entry(datetime.fromisoformat(at), Kind(kind), actor, ""), data))
        seen.add((at, kind, actor, json.dumps(data, sort_keys=True)))
    for entry, data in timeline:
        mark = (
            entry.at.isoformat(),
            entry.kind.value,
            entry.actor,
            json.dumps(data, sort_keys=True),
        )
        if entry.kind in FACT_KINDS and mark not in seen:
            out.append((entry, data))
    return sorted(out, key=lambda row: row[0].at)
