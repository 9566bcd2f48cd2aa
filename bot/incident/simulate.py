"""`tocsin simulate`: the jobs' planner on a virtual clock, printing who is paged when.

The JSON form is a stable interface:
{"pages": [{"at", "offset_s", "step" (1-based), "loop" (0-based), "target", "via",
            "service" (true for pagerduty:/webhook:), "methods": [{"method", "offset_s",
            "sent" (false: an ack or resolve came first)}]}],
 "notes": [...], "outcome": "acknowledged" | "resolved" | "exhausted" | "open"}
Each page lists its methods in order: a person's by their notification rules in people.yaml
(the App Home's own rules live in Redis and are not read here; methods not set up on the
running bot are listed all the same), an outside service's its one method at once.
The text lines and the notes count steps and loops from 1, as Slack's timeline does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain import policy as planner
from bot.domain.catalog import Catalog
from bot.domain.durations import DurationError, format_duration, parse_duration
from bot.domain.notify import Person, Send, sends
from bot.domain.policy import EscalationStatus, PageOrder, Plan, Policy, Target, service_target
from bot.domain.words import position
from bot.incident import targets
from bot.slack_api.directory import Directory

EVENTS = ("ack", "escalate", "resolve")


class SimulationError(ValueError):
    """Bad simulation input; the message says which argument and why."""


@dataclass(frozen=True)
class Event:
    offset: timedelta
    kind: str

    @classmethod
    def parse(cls, text: str) -> Event:
        offset, sep, kind = text.partition(":")
        if not sep or kind not in EVENTS:
            raise SimulationError(
                f"--event {text!r}: expected OFFSET:ACTION like 10m:ack, "
                f"with ACTION one of {', '.join(EVENTS)}"
            )
        try:
            delta = timedelta(0) if offset.strip() in ("0", "0s") else parse_duration(offset)
        except DurationError as exc:
            raise SimulationError(f"--event {text!r}: {exc}") from None
        return cls(delta, kind)


@dataclass
class Result:
    start: datetime
    pages: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    outcome: str = "open"
    lines: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"pages": self.pages, "notes": self.notes, "outcome": self.outcome})


def simulate(
    catalog: Catalog,
    policy: Policy,
    directory: Directory,
    start: datetime,
    events: Sequence[Event] = (),
    until: timedelta = timedelta(hours=24),
) -> Result:
    def lookup(target: Target, at: datetime) -> Sequence[str]:
        return targets.lookup(lambda: catalog, directory, target, at)

    result = Result(start)
    end = start + until
    pending = sorted(events, key=lambda e: e.offset)

    def offset(at: datetime) -> str:
        return f"+{format_duration(at - start)}"

    # an ack or resolve stops a person's later rules (never the sends at the page itself)
    stops = sorted(start + e.offset for e in events if e.kind in ("ack", "resolve"))

    def methods(page: PageOrder, at: datetime) -> list[dict[str, Any]]:
        service = service_target(page.user)
        owed = (
            [Send(service.kind.value, service.ref, 0.0, service.kind.value)]
            if service is not None  # paged at 0: each send's due_at is its delay
            else sends(catalog.people, _person(catalog, directory, page.user), page.user, 0.0)
        )
        return [
            {
                "method": send.method,
                "offset_s": int((at - start).total_seconds() + send.due_at),
                "sent": send.due_at == 0
                or not any(s <= at + timedelta(seconds=send.due_at) for s in stops),
            }
            for send in owed
        ]

    def record(plan: Plan, at: datetime) -> None:
        for note in plan.notes:
            result.notes.append(f"{offset(at)}: {note}")
            result.lines.append(f"{offset(at):>9}  {at:%Y-%m-%d %H:%M:%S}Z  note: {note}")
        for page in plan.pages:
            service = service_target(page.user)
            how = methods(page, at)
            result.pages.append(
                {
                    "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "offset_s": int((at - start).total_seconds()),
                    "step": page.step + 1,
                    "loop": page.loop,
                    "target": page.user,
                    "via": page.via,
                    "service": service is not None,
                    "methods": how,
                }
            )
            if service is not None:
                what = f"notify {service.words}"
            else:
                who = f"@{name}" if (name := directory.user_name(page.user)) else page.user
                what = f"page {who:<12}"
            result.lines.append(
                f"{offset(at):>9}  {at:%Y-%m-%d %H:%M:%S}Z  {what} "
                f"{position(page.step, page.loop)}  via {Target.parse(page.via).words}"
            )
            result.lines.append(f"{'':>9}  {'':>20}    by {_methods_text(how)}")

    plan = planner.start(policy, start, lookup)
    record(plan, start)
    state, outcome = plan.state, "open"
    while True:
        due = (
            datetime.fromtimestamp(state.due_at, UTC)
            if state.status is EscalationStatus.ACTIVE and state.due_at is not None
            else None
        )
        event_at = start + pending[0].offset if pending else None
        if event_at is not None and (due is None or event_at <= due) and event_at <= end:
            event = pending.pop(0)
            result.lines.append(
                f"{offset(event_at):>9}  {event_at:%Y-%m-%d %H:%M:%S}Z  {event.kind}"
            )
            if event.kind == "resolve":
                outcome = "resolved"
                break
            if event.kind == "ack":
                state, outcome = state.stopped(), "acknowledged"
                continue
            plan = planner.escalate(policy, state, event_at, lookup)
            record(plan, event_at)
            state, outcome = plan.state, "open"
        elif due is not None and due <= end:
            stepped = planner.on_due(policy, state, due, lookup)
            if stepped is None:  # cannot happen at the due instant; guard against a loop
                break
            record(stepped, due)
            state = stepped.state
        else:
            break
    if state.status is EscalationStatus.EXHAUSTED and outcome == "open":
        outcome = "exhausted"
    result.outcome = outcome
    result.lines.append(f"outcome: {outcome}")
    return result


def _person(catalog: Catalog, directory: Directory, user: str) -> Person:
    """`user` as people.yaml lists them (by Slack id, or by an email the directory knows)."""
    people = catalog.people
    email_of = directory.user_by_email if any("@" in k for k in people.people) else None
    return people.person(user, email_of)


def _methods_text(methods: list[dict[str, Any]]) -> str:
    """`slack at +0s, sms at +2m, voice at +5m (not sent: acknowledged first)`, each at its
    offset from the simulation's start."""

    def one(m: dict[str, Any]) -> str:
        at = f"+{format_duration(m['offset_s'])}"
        return f"{m['method']} at {at}" + ("" if m["sent"] else " (not sent: acknowledged first)")

    return ", ".join(one(m) for m in methods)
