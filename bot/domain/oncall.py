"""Changes to schedules made from Slack: overrides and swaps, who may make them, and how
they are layered over the YAML schedules.

Pure: the store keeps the changes (bot/state/oncall.py); this module only reads them. A
change holds one span (an override) or two (a swap: each person takes the other's shift),
as UTC instants, with who made it and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.catalog import Catalog
from bot.domain.schedule import Override, Schedule, Shift, shifts

SWAP_LOOKAHEAD = timedelta(days=60)
KINDS = ("override", "swap")
PRINCIPALS = "anyone, member, user:<id>, usergroup:<id>"


@dataclass(frozen=True)
class Change:
    """One override or swap on `schedule`, made by `by` at `at`; spans are UTC-aware."""

    id: str
    schedule: str
    kind: str  # one of KINDS
    spans: tuple[Override, ...]
    by: str
    at: datetime

    @property
    def end(self) -> datetime:
        return max(span.end for span in self.spans)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "schedule": self.schedule,
            "kind": self.kind,
            "spans": [[s.user, s.start.isoformat(), s.end.isoformat()] for s in self.spans],
            "by": self.by,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        spans = tuple(
            Override(user, _instant(start), _instant(end)) for user, start, end in data["spans"]
        )
        return cls(
            str(data["id"]),
            str(data["schedule"]),
            str(data["kind"]),
            spans,
            str(data["by"]),
            _instant(data["at"]),
        )


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} is not an instant with a zone")
    return moment.astimezone(UTC)


def layered(schedule: Schedule, changes: Iterable[Change]) -> Schedule:
    """`schedule` with the changes made to it on top, oldest change first."""
    mine = sorted((c for c in changes if c.schedule == schedule.name), key=lambda c: c.at)
    if not mine:
        return schedule
    return replace(schedule, live=tuple(span for c in mine for span in c.spans))


def layered_catalog(catalog: Catalog, changes: Iterable[Change]) -> Catalog:
    """The catalog with every schedule's changes layered on; the same catalog if none."""
    changes = list(changes)
    if not changes:
        return catalog
    schedules = {name: layered(s, changes) for name, s in catalog.schedules.items()}
    return replace(catalog, schedules=schedules)


def may_change(
    schedule: Schedule, user: str, groups: frozenset[str] = frozenset()
) -> tuple[bool, str]:
    """Whether `user` may override or swap `schedule` under its `rights.schedules`, and why."""
    for principal in schedule.rights:
        kind, _, ref = principal.partition(":")
        if (
            principal == "anyone"
            or (principal == "member" and user in schedule.members)
            or (kind == "user" and ref == user)
            or (kind == "usergroup" and ref in groups)
        ):
            return True, f"rights.schedules: {principal}"
    allowed = ", ".join(schedule.rights)
    return False, f"schedule {schedule.name} rights.schedules allows only {allowed}"


def shift_at(schedule: Schedule, user: str, at: datetime) -> Shift | None:
    """`user`'s whole stretch on call containing `at`, or their next one within the
    lookahead; None if they have none."""
    horizon = at + SWAP_LOOKAHEAD
    # Look back as far as ahead, so that a stretch under way is seen whole.
    for shift in shifts(schedule, at - SWAP_LOOKAHEAD, horizon):
        if shift.user == user and shift.end > at:
            return shift
    return None


def swap_spans(schedule: Schedule, first: str, second: str, at: datetime) -> tuple[Override, ...]:
    """The spans of a swap: `second` takes `first`'s shift at (or next after) `at`, and
    `first` takes `second`'s next shift that does not overlap it. ValueError saying whose
    shift is missing."""
    if first == second:
        raise ValueError("a swap needs two different people")
    given = shift_at(schedule, first, at)
    if given is None:
        raise ValueError(f"<@{first}> has no shift on {schedule.name} from then on")
    taken = shift_at(schedule, second, given.end)
    while taken is not None and taken.start < given.end and taken.end > given.start:
        taken = shift_at(schedule, second, taken.end)
    if taken is None:
        raise ValueError(f"<@{second}> has no shift on {schedule.name} to give back")
    return (
        Override(second, max(given.start, at), given.end),
        Override(first, taken.start, taken.end),
    )
