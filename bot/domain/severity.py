"""Severity tiers, their objective criteria, update cadence and decision rights."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class Criteria:
    """Thresholds of a tier; meeting any one selects it. None means "not a criterion"."""

    users_affected_pct: float | None = None
    revenue_impact: bool | None = None
    legal_or_regulatory: bool | None = None
    data_loss: bool | None = None
    latency_ms: int | None = None


@dataclass(frozen=True)
class Impact:
    """Answers to the impact questions asked at declaration."""

    users_affected_pct: float = 0.0
    revenue_impact: bool = False
    legal_or_regulatory: bool = False
    data_loss: bool = False
    latency_ms: int = 0


@dataclass(frozen=True)
class Rights:
    """Who may do what on an incident of this tier.

    Each entry is a tuple of principals: `anyone`, `responder` (the declarer, a role holder,
    or someone paged by the policy, by a responder or by someone the page right names),
    `role:commander`, `role:comms`, `role:scribe`, `user:U…`, `usergroup:S…`. Unset,
    acknowledging and paging are open to anyone; resolving and changing severity, which
    decide the incident, and running a runbook's containment actions, to responders.
    """

    acknowledge: tuple[str, ...] = ("anyone",)
    resolve: tuple[str, ...] = ("responder",)
    change_severity: tuple[str, ...] = ("responder",)
    page: tuple[str, ...] = ("anyone",)
    contain: tuple[str, ...] = ("responder",)


RIGHTS = ("acknowledge", "resolve", "change_severity", "page", "contain")


@dataclass(frozen=True)
class Tier:
    name: str
    label: str
    update_every_s: int
    criteria: Criteria = field(default_factory=Criteria)
    rights: Rights = field(default_factory=Rights)
    stakeholder_channel: str | None = None


def meets(criteria: Criteria, impact: Impact) -> bool:
    """True when any one criterion of the tier is met by the impact answers.

    Thresholds (`users_affected_pct`, `latency_ms`) are met at or above the value; the
    yes/no criteria are met when the criterion is True and the answer is yes. A tier with
    no criteria is met by nothing: it is the fallback.
    """
    return any(
        (
            criteria.users_affected_pct is not None
            and impact.users_affected_pct >= criteria.users_affected_pct,
            criteria.revenue_impact is True and impact.revenue_impact,
            criteria.legal_or_regulatory is True and impact.legal_or_regulatory,
            criteria.data_loss is True and impact.data_loss,
            criteria.latency_ms is not None and impact.latency_ms >= criteria.latency_ms,
        )
    )


def classify(tiers: tuple[Tier, ...], impact: Impact) -> Tier:
    """The most severe tier (first listed) whose criteria are met; else the least severe."""
    if not tiers:
        raise ValueError("no severity tiers configured: at least one tier is needed")
    for tier in tiers:
        if meets(tier.criteria, impact):
            return tier
    return tiers[-1]


def cadence(tier: Tier) -> timedelta:
    """How often a status update is due on an incident of this tier."""
    return timedelta(seconds=tier.update_every_s)


@dataclass(frozen=True)
class Walkaround:
    """A right `tier` leaves open to anyone that gets round a right the tier restricts."""

    tier: str
    right: str  # the open right
    message: str


def walkarounds(tiers: Sequence[Tier]) -> list[Walkaround]:
    """Rights left open to anyone that undo another right of the same tier.

    An open `resolve` also opens assigning roles: anyone can make themselves commander, and
    so a responder. An open `change_severity` here and on another tier lets anyone move the
    incident there (a change needs the right on both tiers) and act under that tier's rights.
    An open `page` undoes nothing: a page by someone who is not a responder grants no rights.
    """
    found: list[Walkaround] = []
    for tier in tiers:
        rights = tier.rights
        by_role = [
            f"rights.{name} ({', '.join(held)})"
            for name in RIGHTS
            if not _open(held := getattr(rights, name))
            and any(p == "responder" or p.startswith("role:") for p in held)
        ]
        if _open(rights.resolve) and by_role:
            message = (
                "anyone may resolve, and so assign roles: anyone can make themselves commander "
                f"and get round {', '.join(by_role)}"
            )
            found.append(Walkaround(tier.name, "resolve", message))
        if not _open(rights.change_severity):
            continue
        for other in tiers:
            if other is tier or not _open(other.rights.change_severity):
                continue
            opened = [
                name
                for name in RIGHTS
                if not _open(getattr(rights, name)) and _open(getattr(other.rights, name))
            ]
            if opened:
                listed = ", ".join(f"rights.{name}" for name in opened)
                message = (
                    f"anyone may change the severity to {other.name}, where change_severity is "
                    f"open too, and there do what anyone may: this gets round {tier.name}'s "
                    f"{listed}"
                )
                found.append(Walkaround(tier.name, "change_severity", message))
    return found


def _open(principals: tuple[str, ...]) -> bool:
    return "anyone" in principals
