"""Incident gauges for /metrics, kept up at write time so a scrape reads one small hash.

Each incident has a row: its severity, status and time to acknowledge, as `/metrics` counts
them (empty for drills and excluded incidents). `Store.put` calls `track`, which queues
`_APPLY` in the same transaction as the incident: the script swaps the incident's row in
ROWS and moves GAUGES by the difference between the old row and the new one. GAUGES then
holds, per severity, the number of incidents in each status, and the acknowledgement
histogram's bucket counts and sum; its size depends on the severities, not on the incidents.

ROWS has one field per incident in `tocsin:all`. When the two counts differ (incidents
written before rows existed, or removed without `forget`), `prom` runs `reconcile` once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from redis.client import Pipeline

from bot.domain.incident import Incident
from bot.domain.milestones import excluded

ROWS = "tocsin:metrics:rows"
GAUGES = "tocsin:metrics:gauges"
TTA_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0)
SEP = "\t"  # between the parts of a row and of a GAUGES field

# KEYS: ROWS, GAUGES. ARGV: incident id, its row ("" when it counts for nothing), mode:
# "put" replaces the row, "seed" only writes a missing one, "forget" removes it.
# A row is "severity\tstatus[\tbucket\tmilliseconds to acknowledge]".
_APPLY = """
local old, new, mode = redis.call('HGET', KEYS[1], ARGV[1]), ARGV[2], ARGV[3]
if mode == 'seed' and old then return 0 end
if mode == 'forget' then new = false end
if old == new then return 0 end
local function move(row, sign)
  if not row or row == '' then return end
  local p = {}
  for part in string.gmatch(row, '[^\t]+') do p[#p + 1] = part end
  redis.call('HINCRBY', KEYS[2], 'incidents\t' .. p[1] .. '\t' .. p[2], sign)
  if p[3] then
    redis.call('HINCRBY', KEYS[2], 'tta\t' .. p[1] .. '\t' .. p[3], sign)
    redis.call('HINCRBY', KEYS[2], 'tta_ms\t' .. p[1], sign * tonumber(p[4]))
  end
end
move(old, -1)
move(new, 1)
if new then redis.call('HSET', KEYS[1], ARGV[1], new) else redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
"""


def row(incident: Incident) -> str:
    """What `incident` adds to the gauges, as a ROWS value."""
    if excluded(incident):
        return ""
    severity = incident.severity.replace(SEP, " ")
    parts = [severity, incident.status.value]
    if incident.acknowledged_at is not None:
        seconds = max(0.0, (incident.acknowledged_at - incident.declared_at).total_seconds())
        bucket = next((str(b) for b in TTA_BUCKETS if seconds <= b), "+Inf")
        parts += [bucket, str(round(seconds * 1000))]
    return SEP.join(parts)


def track(pipe: Pipeline, incident: Incident) -> None:
    """Queue the gauges' update for `incident` as written in `pipe`."""
    pipe.eval(_APPLY, 2, ROWS, GAUGES, incident.id, row(incident), "put")


def seed(pipe: Pipeline, incident_id: str, value: str) -> None:
    """Queue a row for an incident that has none (a row written since is kept)."""
    pipe.eval(_APPLY, 2, ROWS, GAUGES, incident_id, value, "seed")


def forget(pipe: Pipeline, incident_ids: Iterable[str]) -> None:
    """Queue taking back what removed incidents added to the gauges."""
    for incident_id in incident_ids:
        pipe.eval(_APPLY, 2, ROWS, GAUGES, incident_id, "", "forget")


def read(raw: Mapping[str, str]) -> Iterator[tuple[str, tuple[str, ...], int]]:
    """GAUGES (as HGETALL answers it) as (name, parts, value): ("incidents", (severity,
    status), n), ("tta", (severity, bucket), n) and ("tta_ms", (severity,), total)."""
    for key, value in raw.items():
        name, *parts = key.split(SEP)
        yield name, tuple(parts), int(value)
