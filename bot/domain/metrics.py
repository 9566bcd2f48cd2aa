"""Figures over many incidents: MTTA / time to contain / MTTR per severity, trends, load.

Pure functions of `Facts` (see `bot.domain.milestones`) and the window asked for.
Excluded incidents (drills, or marked `exclude_from_metrics`) never count. Weekly trend
buckets follow the calendar of an IANA zone, so a week that contains a DST change is one
bucket like any other.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.milestones import Facts
from bot.domain.policy import service_target


@dataclass(frozen=True)
class Figure:
    """Summary of one duration (seconds) over the incidents that reached it."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None


def figure(values: Iterable[float | None]) -> Figure:
    got = sorted(v for v in values if v is not None)
    if not got:
        return Figure(0, None, None, None)
    p90 = got[max(0, math.ceil(0.9 * len(got)) - 1)]  # nearest rank
    return Figure(len(got), statistics.fmean(got), statistics.median(got), p90)


@dataclass(frozen=True)
class SeverityRow:
    severity: str
    incidents: int
    tta: Figure
    ttc: Figure
    ttr: Figure
    pages: int
    open: int


@dataclass(frozen=True)
class Summary:
    since: datetime
    until: datetime
    service: str | None
    rows: tuple[SeverityRow, ...]
    incidents: int
    pages: int
    excluded: int  # drills and marked incidents in the window, left out of every figure

    def row(self, severity: str) -> SeverityRow | None:
        return next((r for r in self.rows if r.severity == severity), None)


def in_window(
    facts: Iterable[Facts], since: datetime, until: datetime, service: str | None = None
) -> list[Facts]:
    """Counted incidents declared in [since, until), optionally of one service."""
    return [
        f
        for f in facts
        if since <= f.declared_at < until
        and not f.excluded
        and (service is None or f.service == service)
    ]


def summarize(
    facts: Sequence[Facts],
    since: datetime,
    until: datetime,
    service: str | None = None,
    severities: Sequence[str] = (),
) -> Summary:
    """Per severity (configured order first, then any others): counts, durations, pages."""
    counted = in_window(facts, since, until, service)
    skipped = sum(
        1
        for f in facts
        if f.excluded
        and since <= f.declared_at < until
        and (service is None or f.service == service)
    )
    by_sev: dict[str, list[Facts]] = defaultdict(list)
    for f in counted:
        by_sev[f.severity].append(f)
    order = [s for s in severities if s in by_sev] + sorted(
        s for s in by_sev if s not in severities
    )
    rows = tuple(
        SeverityRow(
            severity=s,
            incidents=len(by_sev[s]),
            tta=figure(f.tta for f in by_sev[s]),
            ttc=figure(f.ttc for f in by_sev[s]),
            ttr=figure(f.ttr for f in by_sev[s]),
            pages=sum(len(f.pages) for f in by_sev[s]),
            open=sum(1 for f in by_sev[s] if f.resolved_at is None),
        )
        for s in order
    )
    return Summary(
        since, until, service, rows, len(counted), sum(len(f.pages) for f in counted), skipped
    )


@dataclass(frozen=True)
class TrendPoint:
    week: date  # the Monday (local) that starts the bucket
    incidents: int
    mtta: float | None
    mttr: float | None


def week_of(at: datetime, tz: str) -> date:
    local = at.astimezone(ZoneInfo(tz)).date()
    return local - timedelta(days=local.weekday())


def trends(
    facts: Iterable[Facts], since: datetime, until: datetime, tz: str = "UTC"
) -> dict[str, list[TrendPoint]]:
    """Weekly MTTA and MTTR per severity; weeks without incidents are present, empty."""
    counted = in_window(facts, since, until)
    weeks: list[date] = []
    week = week_of(since, tz)
    last = week_of(until - timedelta(microseconds=1), tz)
    while week <= last:
        weeks.append(week)
        week += timedelta(days=7)
    buckets: dict[str, dict[date, list[Facts]]] = defaultdict(lambda: defaultdict(list))
    for f in counted:
        buckets[f.severity][week_of(f.declared_at, tz)].append(f)
    out: dict[str, list[TrendPoint]] = {}
    for sev in sorted(buckets):
        points = []
        for w in weeks:
            got = buckets[sev].get(w, [])
            points.append(
                TrendPoint(
                    w, len(got), figure(f.tta for f in got).mean, figure(f.ttr for f in got).mean
                )
            )
        out[sev] = points
    return out


def per_service(facts: Iterable[Facts]) -> list[tuple[str, Counter[str]]]:
    """Incidents per service, split by severity; busiest service first."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for f in facts:
        if not f.excluded:
            table[f.service][f.severity] += 1
    return sorted(table.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))


@dataclass(frozen=True)
class Load:
    user: str
    pages: int
    acknowledged: int
    out_of_hours: int  # pages outside 08:00-18:00 local on weekdays


def pages_per_person(facts: Iterable[Facts], tz: str = "UTC") -> list[Load]:
    """On-call load balance: pages and acknowledgements per person, most paged first (an
    outside service a step notified, `pagerduty:ops`, is nobody's load)."""
    pages: Counter[str] = Counter()
    late: Counter[str] = Counter()
    acks: Counter[str] = Counter()
    where = ZoneInfo(tz)
    for f in facts:
        if f.excluded:
            continue
        for p in f.pages:
            if service_target(p.user) is not None:
                continue
            pages[p.user] += 1
            local = p.at.astimezone(where)
            if local.weekday() >= 5 or not 8 <= local.hour < 18:
                late[p.user] += 1
        if f.acknowledged_by and service_target(f.acknowledged_by) is None:
            acks[f.acknowledged_by] += 1
    users = set(pages) | set(acks)
    rows = [Load(u, pages[u], acks[u], late[u]) for u in users]
    return sorted(rows, key=lambda r: (-r.pages, -r.acknowledged, r.user))


def last_step(facts: Iterable[Facts]) -> list[tuple[str, int, int]]:
    """Per policy: (policy, incidents, incidents whose escalation reached the last step)."""
    seen: Counter[str] = Counter()
    reached: Counter[str] = Counter()
    for f in facts:
        if f.excluded or f.policy is None:
            continue
        seen[f.policy] += 1
        reached[f.policy] += int(f.reached_last_step)
    return sorted(((p, seen[p], reached[p]) for p in seen), key=lambda t: (-t[2], t[0]))
