"""An incident's milestones and the facts every figure is computed from.

Milestones: declared, first page, first acknowledgement, mitigated (contained), resolved.
They come from the incident record and its timeline; a commander may correct one (the
correction wins and is kept beside the original). Durations are differences of UTC
instants, so an incident that spans midnight or a DST change measures what a stopwatch
would. Pure: no Redis, Slack, environment or clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.business_days import WindowError, zone
from bot.domain.incident import Incident
from bot.domain.timeline import BOT, Entry, Kind

CORRECTABLE = ("ack", "mitigated", "resolved")
# The timeline entries `facts` reads. They are also kept apart from the timeline, which is
# capped: a flood of notes trims its oldest entries, never the first page or a step.
FACT_KINDS = frozenset({Kind.PAGED, Kind.ESCALATION_STEP, Kind.ESCALATED, Kind.EXHAUSTED})
_WHEN = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(Z)?$", re.IGNORECASE)


class MilestoneError(ValueError):
    """A correction that cannot apply; the message is meant for the person who typed it."""


@dataclass(frozen=True)
class Page:
    user: str
    at: datetime
    step: int
    loop: int


@dataclass(frozen=True)
class Facts:
    """What the metrics know about one incident."""

    id: str
    title: str
    service: str
    severity: str
    policy: str | None
    declared_at: datetime
    first_page_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    pages: tuple[Page, ...] = ()
    escalations: int = 0  # manual escalations plus automatic steps after the first
    reached_last_step: bool = False
    excluded: bool = False
    private: bool = False
    corrected: tuple[str, ...] = ()  # milestones a person corrected
    extra: Mapping[str, Any] = field(default_factory=dict)

    def _since(self, at: datetime | None) -> float | None:
        return None if at is None else (at - self.declared_at).total_seconds()

    @property
    def tta(self) -> float | None:
        """Seconds from declaration to the first acknowledgement."""
        return self._since(self.acknowledged_at)

    @property
    def ttc(self) -> float | None:
        """Seconds from declaration to containment (mitigated)."""
        return self._since(self.mitigated_at)

    @property
    def ttr(self) -> float | None:
        """Seconds from declaration to resolution."""
        return self._since(self.resolved_at)


def excluded(incident: Incident) -> bool:
    """Drills, and incidents marked so, are left out of every figure."""
    return incident.exclude_from_metrics or incident.drill


def facts(
    incident: Incident,
    timeline: Iterable[tuple[Entry, Mapping[str, Any]]],
    overrides: Mapping[str, datetime] | None = None,
) -> Facts:
    """The incident's facts from its record, its timeline and any corrected milestones."""
    overrides = overrides or {}
    pages: list[Page] = []
    steps = len(incident.policy.steps) if incident.policy else 0
    reached_last = False
    escalations = 0
    for entry, data in timeline:
        if entry.kind is Kind.PAGED:
            user = str(data.get("user") or "")
            pages.append(Page(user, entry.at, int(data.get("step", 0)), int(data.get("loop", 0))))
        elif entry.kind is Kind.ESCALATION_STEP:
            step, loop = int(data.get("step", 0)), int(data.get("loop", 0))
            if step > 0 or loop > 0:
                escalations += 1 if entry.actor == BOT else 0
            if steps and step == steps - 1:
                reached_last = True
        elif entry.kind is Kind.ESCALATED:
            escalations += 1
        elif entry.kind is Kind.EXHAUSTED:
            reached_last = True
    pages.sort(key=lambda p: p.at)
    return Facts(
        id=incident.id,
        title=incident.title,
        service=incident.service,
        severity=incident.severity,
        policy=incident.policy.name if incident.policy else None,
        declared_at=incident.declared_at,
        first_page_at=pages[0].at if pages else None,
        acknowledged_at=overrides.get("ack", incident.acknowledged_at),
        acknowledged_by=incident.acknowledged_by,
        mitigated_at=overrides.get("mitigated", incident.mitigated_at),
        resolved_at=overrides.get("resolved", incident.resolved_at),
        pages=tuple(pages),
        escalations=escalations,
        reached_last_step=reached_last,
        excluded=excluded(incident),
        private=incident.private,
        corrected=tuple(sorted(k for k in overrides if k in CORRECTABLE)),
    )


def parse_when(text: str, tz: str = "UTC") -> datetime:
    """`2026-03-29 02:30` (wall clock in `tz`) or `2026-03-29 02:30Z` (UTC) as a UTC instant.

    A wall-clock time skipped by a DST change, or one that happens twice, is refused: the
    message asks for the UTC time instead.
    """
    m = _WHEN.match(text.strip())
    if m is None:
        raise MilestoneError(f"`{text.strip()[:40]}` is not a time like 2026-03-09 14:05 or 14:05Z")
    year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
    try:
        naive = datetime(year, month, day, hour, minute)  # noqa: DTZ001 - zone applied below
    except ValueError:
        raise MilestoneError(f"`{text.strip()}` is not a real date and time") from None
    if m.group(6):
        return naive.replace(tzinfo=UTC)
    try:
        where: ZoneInfo = zone(tz)
    except WindowError as exc:
        raise MilestoneError(str(exc)) from None
    first, second = naive.replace(tzinfo=where, fold=0), naive.replace(tzinfo=where, fold=1)
    there_and_back = first.astimezone(UTC).astimezone(where).replace(tzinfo=None)
    if there_and_back != naive:
        raise MilestoneError(f"{text.strip()} does not exist in {tz} (clocks skip it): give UTC")
    if first.utcoffset() != second.utcoffset():
        raise MilestoneError(f"{text.strip()} happens twice in {tz} (clocks go back): give UTC")
    return first.astimezone(UTC)


def check_correction(
    incident: Incident,
    overrides: Mapping[str, datetime],
    which: str,
    at: datetime,
    now: datetime,
) -> dict[str, datetime]:
    """The overrides with `which` set to `at`, or MilestoneError saying why not.

    The corrected milestones must keep their order: declared ≤ acknowledged ≤ mitigated ≤
    resolved, none in the future, and a milestone the incident has not reached cannot be set.
    """
    if which not in CORRECTABLE:
        raise MilestoneError(f"`{which}` is not a milestone: use ack, mitigated or resolved")
    if at > now:
        raise MilestoneError("a milestone cannot be in the future")
    if at < incident.declared_at:
        raise MilestoneError(
            f"{which} cannot be before the declaration ({incident.declared_at:%Y-%m-%d %H:%MZ})"
        )
    recorded = {
        "ack": incident.acknowledged_at,
        "mitigated": incident.mitigated_at,
        "resolved": incident.resolved_at,
    }
    if recorded[which] is None:
        raise MilestoneError(f"the incident has no {which} milestone yet to correct")
    merged = {k: overrides.get(k, v) for k, v in recorded.items()}
    merged[which] = at
    order = [(k, merged[k]) for k in CORRECTABLE if merged[k] is not None]
    for (a, ta), (b, tb) in pairwise(order):
        if ta is not None and tb is not None and ta > tb:
            raise MilestoneError(f"{a} ({ta:%Y-%m-%d %H:%MZ}) would come after {b} ({tb:%H:%MZ})")
    return {**overrides, which: at}
