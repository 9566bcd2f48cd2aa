"""The contact matrix: who is on call now and next, and whom a policy pages at each step.

Pure: every function takes the catalog and the instant; nothing reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.catalog import DEFAULT_SERVICE, Catalog
from bot.domain.policy import Policy, Target, TargetKind
from bot.domain.schedule import Schedule, next_handoff, on_call, shifts

LOOKAHEAD = timedelta(days=14)


@dataclass(frozen=True)
class Stint:
    """`user` on call from `start` to `end` (UTC); `end` None: not within the lookahead."""

    user: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class Row:
    """One line of the matrix: a schedule's people now and next, or a directly named target.

    For a schedule, `now` holds who is on call at the instant asked about (their shift's
    end is the handoff) and `next` who comes on next (their start). `handoff` is the first
    instant the set of people on call changes. For a direct user or user group `now`,
    `next` and `timezone` are empty: the renderer shows the target itself. `policy` and
    `step` (1-based) say where the row comes from when the matrix was asked for a service.
    """

    target: Target
    timezone: str | None = None
    now: tuple[Stint, ...] = ()
    next: tuple[Stint, ...] = ()
    handoff: datetime | None = None
    policy: str | None = None
    step: int | None = None

    @property
    def name(self) -> str:
        return self.target.ref


@dataclass(frozen=True)
class Resolved:
    """One target of a step and the users it pages at the instant (empty: left to the pager)."""

    target: Target
    users: tuple[str, ...]


@dataclass(frozen=True)
class ChainStep:
    number: int  # 1-based
    wait_s: int
    targets: tuple[Resolved, ...]


@dataclass(frozen=True)
class Chain:
    """The escalation chain a service follows at a severity, resolved at one instant."""

    policy: Policy
    service: str
    severity: str
    steps: tuple[ChainStep, ...]


def schedule_row(
    schedule: Schedule,
    at: datetime,
    *,
    lookahead: timedelta = LOOKAHEAD,
    policy: str | None = None,
    step: int | None = None,
) -> Row:
    """Now and next for one schedule, looking `lookahead` ahead of `at`.

    A current stint's `start` is `at` itself (the window is clipped there).
    """
    horizon = at + lookahead
    window = shifts(schedule, at, horizon)
    current = set(on_call(schedule, at))
    now = tuple(
        Stint(s.user, s.start, None if s.end >= horizon else s.end)
        for s in window
        if s.start <= at < s.end and s.user in current
    )
    later = [s for s in window if s.start > at]
    first = min((s.start for s in later), default=None)
    upcoming = tuple(
        Stint(s.user, s.start, None if s.end >= horizon else s.end)
        for s in later
        if s.start == first
    )
    handoff = next_handoff(schedule, at)
    return Row(
        target=Target(TargetKind.SCHEDULE, schedule.name),
        timezone=schedule.timezone,
        now=now,
        next=upcoming,
        handoff=handoff if handoff is not None and handoff < horizon else None,
        policy=policy,
        step=step,
    )


def contact_matrix(
    catalog: Catalog, at: datetime, *, target: str | None = None, lookahead: timedelta = LOOKAHEAD
) -> list[Row]:
    """Rows for `/incident oncall [schedule|service]`.

    No (or a blank) target: every schedule, by name. A schedule's name: that schedule. A
    service named by a policy: for each policy routing it (most severe tier first), each
    step's targets in step order, each target once per policy. Otherwise LookupError naming
    what is known.
    """
    if target is None or not target.strip():
        return [
            schedule_row(catalog.schedules[n], at, lookahead=lookahead)
            for n in sorted(catalog.schedules)
        ]
    wanted = target.strip()
    if wanted in catalog.schedules:
        return [schedule_row(catalog.schedules[wanted], at, lookahead=lookahead)]
    policies = routing_policies(catalog, wanted)
    if not policies:
        raise LookupError(_unknown(catalog, wanted))
    rows: list[Row] = []
    for policy in policies:
        seen: set[Target] = set()
        for number, step in enumerate(policy.steps, 1):
            for item in step.targets:
                if item in seen:
                    continue
                seen.add(item)
                schedule = catalog.schedules.get(item.ref)
                if item.kind is TargetKind.SCHEDULE and schedule is not None:
                    rows.append(
                        schedule_row(
                            schedule, at, lookahead=lookahead, policy=policy.name, step=number
                        )
                    )
                else:
                    rows.append(Row(target=item, policy=policy.name, step=number))
    return rows


def routing_policies(catalog: Catalog, service: str) -> list[Policy]:
    """The policies that route `service` (named explicitly by one), most severe tier first.

    A catalog without tiers lists the policies naming the service, by name.
    """
    if service == DEFAULT_SERVICE or not any(
        service in p.services for p in catalog.policies.values()
    ):
        return []
    if not catalog.tiers:
        return [
            catalog.policies[n]
            for n in sorted(catalog.policies)
            if service in catalog.policies[n].services
        ]
    found: dict[str, Policy] = {}
    for tier in catalog.tier_names:
        policy = catalog.policy_for(service, tier)
        if policy is not None:
            found.setdefault(policy.name, policy)
    return list(found.values())


def policy_chain(catalog: Catalog, service: str, severity: str, at: datetime) -> Chain:
    """The chain `service` escalates along at `severity`, each target resolved at `at`.

    Schedules resolve to who is on call; Slack user ids to themselves; emails and user
    groups resolve to nobody here (the pager looks them up), so the renderer shows the
    target. LookupError when the severity is unknown or no policy routes the service.
    """
    if catalog.tiers and severity not in catalog.tier_names:
        known = ", ".join(catalog.tier_names)
        raise LookupError(f"unknown severity {severity!r} (known: {known})")
    policy = catalog.policy_for(service, severity)
    if policy is None:
        raise LookupError(f"no escalation policy routes {service!r} at {severity!r}")
    steps = tuple(
        ChainStep(number, step.wait_s, tuple(_resolve(catalog, t, at) for t in step.targets))
        for number, step in enumerate(policy.steps, 1)
    )
    return Chain(policy, service, severity, steps)


def _resolve(catalog: Catalog, target: Target, at: datetime) -> Resolved:
    if target.kind is TargetKind.SCHEDULE:
        schedule = catalog.schedules.get(target.ref)
        return Resolved(target, on_call(schedule, at) if schedule is not None else ())
    if target.kind is TargetKind.USER and not target.is_email:
        return Resolved(target, (target.ref,))
    return Resolved(target, ())


def known_services(catalog: Catalog) -> list[str]:
    """Every service a policy names, except the default `*`, sorted."""
    names = {s for p in catalog.policies.values() for s in p.services}
    return sorted(names - {DEFAULT_SERVICE})


def _unknown(catalog: Catalog, target: str) -> str:
    schedules = ", ".join(sorted(catalog.schedules)) or "none"
    services = ", ".join(known_services(catalog)) or "none"
    return (
        f"{target!r} is neither a schedule nor a service "
        f"(schedules: {schedules}; services: {services})"
    )
