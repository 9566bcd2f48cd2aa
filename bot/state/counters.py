"""Monotonic counters in one Redis hash, incremented by every process, read by /metrics.

A field is `["name", {labels}]` as compact JSON. Counting happens where the fact is
written (the timeline entry, the failed job, the Slack error), in the same transaction
when there is one, so a scrape from any gunicorn worker sees every process's counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, cast

import redis
from redis.client import Pipeline

COUNTERS = "tocsin:metrics:counters"


def field(name: str, **labels: str) -> str:
    return json.dumps([name, dict(sorted(labels.items()))], separators=(",", ":"))


def timeline_field(kind: str, data: Mapping[str, Any]) -> str:
    """The counter of a timeline entry; an escalation step after the first is marked."""
    if kind == "escalation_step":
        later = bool(data.get("step") or data.get("loop"))
        return field("timeline", kind=kind, later=str(later).lower())
    return field("timeline", kind=kind)


def incr(conn: redis.Redis | Pipeline, name: str, amount: int = 1, **labels: str) -> None:
    conn.hincrby(COUNTERS, field(name, **labels), amount)


def read(conn: redis.Redis) -> Iterator[tuple[str, dict[str, str], int]]:
    raw = cast(dict[str, str], conn.hgetall(COUNTERS))
    for key, value in raw.items():
        name, labels = json.loads(key)
        yield str(name), {str(k): str(v) for k, v in labels.items()}, int(value)
