"""Drill outcomes: who a drill paged, how, and when each acknowledged or did not.

Pure: the pages are given as plain rows (from the incident's outbox), the results of
earlier drills as read back; nothing here reads a clock or Redis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

from bot.domain.incident import Incident

SELF_TEST = "self-test"  # a self-test's firings in the due index, its results' policy
METHOD = "Slack DM"  # the one pager there is (bot.paging.slack_dm); a new pager adds its name


@dataclass(frozen=True)
class Paged:
    """One person a drill paged: `via` the policy target that named them; `sent_at` None
    when the page never reached them; `acked_after_s` from the page to their ack."""

    user: str
    via: str
    method: str
    sent_at: float | None
    acked_after_s: float | None


@dataclass(frozen=True)
class DrillResult:
    incident_id: str
    title: str
    policy: str
    declared_at: float
    people: tuple[Paged, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DrillResult:
        people = tuple(Paged(**p) for p in data.get("people", []))
        return cls(
            str(data["incident_id"]),
            str(data.get("title", "")),
            str(data.get("policy", "")),
            float(data.get("declared_at", 0.0)),
            people,
        )


@dataclass(frozen=True)
class PageRow:
    """A page of the incident's outbox: to whom, by which target, sent (when) or not."""

    user: str
    via: str
    sent_at: float | None


def outcome(incident: Incident, pages: Iterable[PageRow]) -> DrillResult:
    """The drill's result: each person once (their first page that landed, else their
    first), acknowledged only by whoever acknowledged the incident."""
    first: dict[str, PageRow] = {}
    for page in sorted(pages, key=lambda p: (p.sent_at is None, p.sent_at or 0.0)):
        first.setdefault(page.user, page)
    acked = incident.acknowledged_at.timestamp() if incident.acknowledged_at else None
    people = []
    for page in first.values():
        after = None
        if page.user == incident.acknowledged_by and acked is not None and page.sent_at:
            after = max(0.0, acked - page.sent_at)
        people.append(Paged(page.user, page.via, METHOD, page.sent_at, after))
    return DrillResult(
        incident.id,
        incident.title,
        incident.policy.name if incident.policy else "",
        incident.declared_at.timestamp(),
        tuple(people),
    )


def self_test_result(
    run: str,
    fired_at: float,
    pages: dict[str, list[str]],
    sent_at: dict[str, float],
    acked_at: dict[str, float],
) -> DrillResult:
    """A self-test's result, as a drill's: each person paged (`pages`: user -> the
    schedules they were paged for), reached if their page was sent, acknowledged if they
    pressed Acknowledge on it."""
    people = []
    for user, schedules in sorted(pages.items()):
        sent, acked = sent_at.get(user), acked_at.get(user)
        after = max(0.0, acked - sent) if sent is not None and acked is not None else None
        via = f"schedule:{', '.join(schedules)}"
        people.append(Paged(user, via, METHOD, sent, after))
    return DrillResult(run, "Self-test", SELF_TEST, fired_at, tuple(people))


@dataclass(frozen=True)
class PersonRow:
    """One person over the last drills: paged how often, reached, acknowledged, and the
    median seconds from page to their acknowledgement (None: never acknowledged)."""

    user: str
    paged: int
    reached: int
    acknowledged: int
    median_ack_s: float | None


def per_person(results: Sequence[DrillResult]) -> list[PersonRow]:
    """Everyone the `results` paged, the least reliable first: most often never reached,
    then most often not acknowledging, then slowest."""
    seen: dict[str, list[Paged]] = {}
    for result in results:
        for p in result.people:
            seen.setdefault(p.user, []).append(p)
    rows = []
    for user, pages in seen.items():
        acks = [p.acked_after_s for p in pages if p.acked_after_s is not None]
        rows.append(
            PersonRow(
                user,
                len(pages),
                sum(1 for p in pages if p.sent_at is not None),
                len(acks),
                median(acks) if acks else None,
            )
        )
    return sorted(
        rows,
        key=lambda r: (
            r.reached - r.paged,
            r.acknowledged - r.paged,
            -(r.median_ack_s or 0.0),
            r.user,
        ),
    )


@dataclass(frozen=True)
class ScheduledDrill:
    """A drill of `policy` at `severity` fired at each time `cron` names, read as wall
    clock in `timezone` (`escalation_policies/drills.yaml`)."""

    policy: str
    severity: str
    cron: str
    timezone: str = "UTC"
    scenario: str | None = None

    @property
    def key(self) -> str:
        """What names this drill in the due index and its do-once markers: the same for the
        same entry across reloads, different for any change that makes it another drill."""
        return f"{self.policy}~{self.severity}~{self.cron.replace(' ', '_')}~{self.timezone}"


@dataclass(frozen=True)
class SelfTest:
    """The self-test (`drills.yaml`, `self_test:`): at each time `cron` names (wall clock in
    `timezone`), a drill-marked page to the on-call person of each of `schedules` (None:
    every schedule); its result is kept `answer_within_s` later."""

    cron: str
    timezone: str = "UTC"
    answer_within_s: float = 1800.0
    schedules: tuple[str, ...] | None = None
    report_channel: str | None = None

    @property
    def key(self) -> str:
        """Its firings' name in the drills' due index (as `ScheduledDrill.key`)."""
        return f"{SELF_TEST}~{self.cron.replace(' ', '_')}~{self.timezone}"


@dataclass(frozen=True)
class Injected:
    """An event a scenario posts in the drill's channel `at_s` after it was declared."""

    at_s: int
    post: str


@dataclass(frozen=True)
class Scenario:
    """`runbooks/drills/<name>.md`: what the drill is about and the events it injects."""

    name: str
    title: str
    events: tuple[Injected, ...] = ()
