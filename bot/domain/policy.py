"""Escalation policies and the pure planner that walks them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.words import count, position


class TargetKind(StrEnum):
    USER = "user"  # a Slack user id, or an email resolved with users.lookupByEmail
    SCHEDULE = "schedule"
    USERGROUP = "usergroup"
    PAGERDUTY = "pagerduty"  # a PagerDuty service (Events API v2) named in services.yaml
    WEBHOOK = "webhook"  # a signed outgoing webhook named in services.yaml


SERVICE_KINDS = frozenset({TargetKind.PAGERDUTY, TargetKind.WEBHOOK})


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    ref: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.ref}"

    @property
    def words(self) -> str:
        """The target as people read it: `the checkout-primary on-call schedule`."""
        if self.kind is TargetKind.SCHEDULE:
            return f"the {self.ref} on-call schedule"
        if self.kind is TargetKind.PAGERDUTY:
            return f"the {self.ref} PagerDuty service"
        if self.kind is TargetKind.WEBHOOK:
            return f"the {self.ref} webhook"
        return f"{self.kind.value} {self.ref}"

    @property
    def is_service(self) -> bool:
        """A service outside Slack (pagerduty:, webhook:), notified by a method, not a person."""
        return self.kind in SERVICE_KINDS

    @property
    def is_email(self) -> bool:
        return self.kind is TargetKind.USER and "@" in self.ref

    @classmethod
    def parse(cls, text: str) -> Target:
        """Parse `kind:ref`; raise ValueError naming the known kinds otherwise."""
        kind, sep, ref = text.partition(":")
        known = ", ".join(k.value for k in TargetKind)
        if not sep or not ref.strip():
            raise ValueError(f"{text!r} is not a target like user:U123, schedule:NAME")
        try:
            return cls(TargetKind(kind.strip()), ref.strip())
        except ValueError:
            raise ValueError(f"unknown target kind {kind!r} (known: {known})") from None


def service_target(who: str) -> Target | None:
    """The outside service a paged id names (`pagerduty:ops`, `webhook:audit`, as a step's
    service target is paged: `Target.__str__`); None for a person."""
    kind, sep, ref = who.partition(":")
    if not sep or not ref or kind not in {k.value for k in SERVICE_KINDS}:
        return None
    return Target(TargetKind(kind), ref)


@dataclass(frozen=True)
class Step:
    targets: tuple[Target, ...]
    wait_s: int


@dataclass(frozen=True)
class Policy:
    name: str
    services: tuple[str, ...]
    steps: tuple[Step, ...]
    repeat: int = 0
    fallback_channel: str | None = None
    severities: tuple[str, ...] = ()  # empty: the policy serves every severity

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "services": list(self.services),
            "steps": [
                {"notify": [str(t) for t in s.targets], "wait_s": s.wait_s} for s in self.steps
            ],
            "repeat": self.repeat,
            "fallback_channel": self.fallback_channel,
            "severities": list(self.severities),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        return cls(
            name=data["name"],
            services=tuple(data["services"]),
            steps=tuple(
                Step(tuple(Target.parse(t) for t in s["notify"]), int(s["wait_s"]))
                for s in data["steps"]
            ),
            repeat=int(data["repeat"]),
            fallback_channel=data.get("fallback_channel"),
            severities=tuple(data.get("severities", ())),
        )


# --- the planner ---------------------------------------------------------------------------

DUE_SLACK_S = 1.0
"""RQ's scheduler keeps whole-second scores, so a job may run up to ~1 s before its due time."""


class EscalationStatus(StrEnum):
    ACTIVE = "active"  # waiting for an acknowledgement; `due_at` is when the next step pages
    STOPPED = "stopped"  # acknowledged, mitigated or resolved
    EXHAUSTED = "exhausted"  # every step of every loop paged, nobody acknowledged


@dataclass(frozen=True)
class EscalationState:
    status: EscalationStatus
    step: int  # 0-based index of the step paged last
    loop: int  # 0-based
    due_at: float | None  # POSIX seconds when the next step is due; None unless ACTIVE
    run: int = 0  # bumped when escalation restarts (reopen, re-route): pages are keyed by it

    @classmethod
    def idle(cls) -> EscalationState:
        return cls(EscalationStatus.STOPPED, 0, 0, None)

    def stopped(self) -> EscalationState:
        return EscalationState(EscalationStatus.STOPPED, self.step, self.loop, None, self.run)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "step": self.step,
            "loop": self.loop,
            "due_at": self.due_at,
            "run": self.run,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EscalationState:
        due = data.get("due_at")
        return cls(
            EscalationStatus(data["status"]),
            int(data["step"]),
            int(data["loop"]),
            None if due is None else float(due),
            int(data.get("run", 0)),
        )


@dataclass(frozen=True)
class PageOrder:
    """Page `user` for step `step` (0-based) of loop `loop`; `via` is the target that named them."""

    step: int
    loop: int
    user: str
    via: str

    @property
    def key(self) -> str:
        return f"{self.step}:{self.loop}:{self.user}"


@dataclass(frozen=True)
class Plan:
    state: EscalationState
    pages: tuple[PageOrder, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def exhausted(self) -> bool:
        return self.state.status is EscalationStatus.EXHAUSTED


Lookup = Callable[[Target, datetime], Sequence[str]]
"""Resolve one target to user ids at an instant (schedules, usergroups, emails); a service
target to itself (`pagerduty:ops`), paged by its method like a person."""


def resolve_step(step: Step, at: datetime, lookup: Lookup) -> list[tuple[str, str]]:
    """The people a step pages as (user, via), each person once, in target order."""
    return _resolve(step, at, lookup)[0]


def _resolve(
    step: Step, at: datetime, lookup: Lookup
) -> tuple[list[tuple[str, str]], list[Target]]:
    """resolve_step's people, and the step's targets that resolved to nobody."""
    seen: dict[str, str] = {}
    nobody: list[Target] = []
    for target in step.targets:
        users = lookup(target, at)
        if not users:
            nobody.append(target)
        for user in users:
            seen.setdefault(user, str(target))
    return list(seen.items()), nobody


def start(policy: Policy, now: datetime, lookup: Lookup) -> Plan:
    """Page step 1 of loop 0 at declaration (or after a severity change re-routes)."""
    return _enter(policy, 0, 0, now, lookup, [])


def on_due(policy: Policy, state: EscalationState, now: datetime, lookup: Lookup) -> Plan | None:
    """The step's wait ran out with no acknowledgement: page the next step, or None if not due."""
    if state.status is not EscalationStatus.ACTIVE or state.due_at is None:
        return None
    if now.timestamp() < state.due_at - DUE_SLACK_S:
        return None
    return _advance(policy, state, now, lookup)


def escalate(policy: Policy, state: EscalationState, now: datetime, lookup: Lookup) -> Plan:
    """Manual escalation: page the next step now and keep walking from there."""
    return _advance(policy, state, now, lookup)


def next_position(policy: Policy, step: int, loop: int) -> tuple[int, int] | None:
    """The step after (step, loop), wrapping into the next loop while loops remain."""
    if step + 1 < len(policy.steps):
        return step + 1, loop
    if loop < policy.repeat:
        return 0, loop + 1
    return None


def _advance(policy: Policy, state: EscalationState, now: datetime, lookup: Lookup) -> Plan:
    if state.status is EscalationStatus.EXHAUSTED:
        return Plan(state, (), ("the policy is exhausted: there is no further step to page",))
    nxt = next_position(policy, state.step, state.loop)
    if nxt is None:
        plan = _exhausted(policy, state.step, state.loop, [])
    else:
        plan = _enter(policy, nxt[0], nxt[1], now, lookup, [])
    return replace(plan, state=replace(plan.state, run=state.run))


def _enter(
    policy: Policy, step: int, loop: int, now: datetime, lookup: Lookup, notes: list[str]
) -> Plan:
    while True:
        people, nobody = _resolve(policy.steps[step], now, lookup)
        if people:
            notes += [
                f"{position(step, loop)}: {t.words} resolved to nobody; its other targets are paged"
                for t in nobody
            ]
            due = now.timestamp() + policy.steps[step].wait_s
            pages = tuple(PageOrder(step, loop, user, via) for user, via in people)
            state = EscalationState(EscalationStatus.ACTIVE, step, loop, due)
            return Plan(state, pages, tuple(notes))
        targets = ", ".join(t.words for t in policy.steps[step].targets)
        notes.append(f"{position(step, loop)} resolved to nobody ({targets}): skipped")
        nxt = next_position(policy, step, loop)
        if nxt is None:
            return _exhausted(policy, step, loop, notes)
        step, loop = nxt


def _exhausted(policy: Policy, step: int, loop: int, notes: list[str]) -> Plan:
    loops = policy.repeat + 1
    notes.append(
        f"policy {policy.name} exhausted after {count(len(policy.steps), 'step')}, "
        f"{count(loops, 'round')}, with no acknowledgement"
    )
    return Plan(EscalationState(EscalationStatus.EXHAUSTED, step, loop, None), (), tuple(notes))
