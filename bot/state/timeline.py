"""Timelines: each incident's story as a Redis stream, and the facts kept apart from it.

A timeline keeps its last TIMELINE_MAX entries (XADD MAXLEN ~); the entries the metrics
and the review's milestones are computed from (FACT_KINDS) are also appended to the
incident's `facts` list, which nothing trims: the bot writes a bounded number of them per
escalation run, and people's writes are rate-limited (bot.state.write_limits). Every entry
but a drill's also counts in /metrics' counters (bot.state.counters).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

import redis
from redis.client import Pipeline

from bot.domain.milestones import FACT_KINDS
from bot.domain.timeline import TIMELINE_MAX, Entry, Kind
from bot.state import keys
from bot.state.counters import COUNTERS, timeline_field

Row = tuple[Entry, dict[str, Any]]  # a timeline entry with its data

# Count an entry in /metrics unless its incident is a drill (KEYS: counters, drill ids).
_COUNT = """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then
  redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
end
"""


def timeline_key(incident_id: str) -> str:
    return f"{keys.incident(incident_id)}:timeline"


def facts_key(incident_id: str) -> str:
    return f"{keys.incident(incident_id)}:facts"


def append(
    conn: redis.Redis | Pipeline,
    incident_id: str,
    entry: Entry,
    data: dict[str, Any] | None,
    drill: bool | None = None,
) -> None:
    """Add `entry` (with its `data`) to the incident's timeline, on `conn` (a pipe: in its
    transaction). `drill`: whether the incident is a drill, when the caller knows (its
    count then needs no script asking the drills set)."""
    fields = stream_fields(entry, data)
    # MAXLEN ~ trims whole stream nodes, so a few more than TIMELINE_MAX may stay
    conn.xadd(timeline_key(incident_id), fields, maxlen=TIMELINE_MAX, approximate=True)  # type: ignore[arg-type]
    if entry.kind in FACT_KINDS:
        fact = [fields["at"], entry.kind.value, entry.actor, data or {}]
        conn.rpush(facts_key(incident_id), json.dumps(fact, separators=(",", ":")))
    field = timeline_field(entry.kind.value, data or {})
    if drill is None:  # for /metrics
        conn.eval(_COUNT, 2, COUNTERS, keys.DRILLS, incident_id, field)
    elif not drill:
        conn.hincrby(COUNTERS, field, 1)


def stream_fields(entry: Entry, data: dict[str, Any] | None) -> dict[str, str]:
    """The stream entry's fields for `entry` and its `data` (see `parse_entry`)."""
    return {
        "at": entry.at.isoformat(),
        "kind": entry.kind.value,
        "actor": entry.actor,
        "text": entry.text,
        "data": json.dumps(data) if data else "{}",
    }


def read(conn: redis.Redis, incident_id: str) -> Iterator[Row]:
    rows = cast(list[tuple[str, dict[str, str]]], conn.xrange(timeline_key(incident_id)))
    for _id, fields in rows:
        yield parse_entry(fields)


def dropped(conn: redis.Redis, incident_id: str) -> int:
    """How many of the timeline's oldest entries the cap has dropped."""
    try:
        info = conn.xinfo_stream(timeline_key(incident_id))
    except redis.ResponseError:  # no timeline at all
        return 0
    return max(0, int(info.get("entries-added", info["length"])) - int(info["length"]))


def parse_entry(fields: dict[str, str]) -> Row:
    """A timeline entry as stored (a stream entry's fields)."""
    entry = Entry(
        datetime.fromisoformat(fields["at"]), Kind(fields["kind"]), fields["actor"], fields["text"]
    )
    return entry, json.loads(fields.get("data", "{}"))
