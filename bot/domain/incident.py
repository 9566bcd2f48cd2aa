"""Incidents: the state machine and who may move it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.policy import EscalationState, Policy
from bot.domain.severity import Rights


class Status(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ESCALATE = "escalate"
    MITIGATE = "mitigate"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CHANGE_SEVERITY = "change_severity"
    PAGE = "page"
    ASSIGN_ROLE = "assign_role"
    UPDATE = "update"
    NOTE = "note"
    CORRECT_MILESTONE = "correct_milestone"
    ADD_ACTION_ITEM = "add_action_item"
    CLOSE_ACTION_ITEM = "close_action_item"
    COMPLETE_REVIEW = "complete_review"
    CONTAIN = "contain"  # a runbook's containment action (a webhook)


# Which statuses each action may start from, and where it leads (None: status unchanged).
_TRANSITIONS: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.ACKNOWLEDGE: (frozenset({Status.TRIGGERED}), Status.ACKNOWLEDGED),
    # Escalating pulls in the next step; an acknowledged incident stays acknowledged.
    Action.ESCALATE: (frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED}), None),
    Action.MITIGATE: (frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED}), Status.MITIGATED),
    Action.RESOLVE: (
        frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED, Status.MITIGATED}),
        Status.RESOLVED,
    ),
    Action.REOPEN: (frozenset({Status.MITIGATED, Status.RESOLVED}), Status.TRIGGERED),
    Action.CHANGE_SEVERITY: (
        frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED, Status.MITIGATED}),
        None,
    ),
    Action.PAGE: (frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED, Status.MITIGATED}), None),
    Action.ASSIGN_ROLE: (
        frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED, Status.MITIGATED}),
        None,
    ),
    Action.UPDATE: (frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED, Status.MITIGATED}), None),
    Action.NOTE: (frozenset(Status), None),
    Action.CORRECT_MILESTONE: (frozenset(Status), None),
    Action.ADD_ACTION_ITEM: (frozenset(Status), None),
    Action.CLOSE_ACTION_ITEM: (frozenset(Status), None),
    Action.COMPLETE_REVIEW: (frozenset({Status.RESOLVED}), None),
    Action.CONTAIN: (frozenset({Status.TRIGGERED, Status.ACKNOWLEDGED, Status.MITIGATED}), None),
}


class TransitionRefused(Exception):
    """The action does not apply to the incident in its current status; `reason` says why
    in plain words (bot.render.messages.refusal words it for Slack)."""

    def __init__(self, action: Action, incident: Incident, reason: str) -> None:
        super().__init__(reason)
        self.action = action
        self.incident = incident
        self.status = incident.status
        self.reason = reason


@dataclass(frozen=True)
class Roles:
    commander: str | None = None
    comms: str | None = None
    scribe: str | None = None

    def holders(self) -> set[str]:
        return {u for u in (self.commander, self.comms, self.scribe) if u}

    def of(self, user: str) -> list[str]:
        return [name for name, who in vars(self).items() if who == user]


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    service: str
    severity: str
    declared_by: str
    declared_at: datetime
    status: Status = Status.TRIGGERED
    private: bool = False
    drill: bool = False
    exclude_from_metrics: bool = False  # left out of every figure; a drill always is
    roles: Roles = field(default_factory=Roles)
    policy: Policy | None = None  # snapshot taken at declaration (or at a re-routing change)
    escalation: EscalationState = field(default_factory=EscalationState.idle)
    token: int = 0  # fencing token: bumped by every change that invalidates scheduled steps
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    channel_id: str | None = None
    paged: tuple[str, ...] = ()  # everyone paged so far, in order
    paged_without_rights: tuple[str, ...] = ()  # of those, whom no page made a responder
    description: str = ""
    header_ts: str | None = None  # the pinned header message in the incident channel
    update_token: int = 0  # fencing token of status-update reminders
    update_due_at: float | None = None  # POSIX seconds the next status update is due
    updates: int = 0  # status updates posted so far

    @property
    def is_open(self) -> bool:
        return self.status is not Status.RESOLVED

    def responders(self) -> set[str]:
        """The declarer, role holders, and everyone paged by the policy or by a responder."""
        paged = set(self.paged) - set(self.paged_without_rights)
        return paged | self.roles.holders() | {self.declared_by}

    def to_dict(self) -> dict[str, Any]:
        def ts(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id,
            "title": self.title,
            "service": self.service,
            "severity": self.severity,
            "declared_by": self.declared_by,
            "declared_at": ts(self.declared_at),
            "status": self.status.value,
            "private": self.private,
            "drill": self.drill,
            "exclude_from_metrics": self.exclude_from_metrics or self.drill,
            "roles": vars(self.roles),
            "policy": None if self.policy is None else self.policy.to_dict(),
            "escalation": self.escalation.to_dict(),
            "token": self.token,
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": ts(self.acknowledged_at),
            "mitigated_at": ts(self.mitigated_at),
            "resolved_at": ts(self.resolved_at),
            "resolved_by": self.resolved_by,
            "channel_id": self.channel_id,
            "paged": list(self.paged),
            "paged_without_rights": list(self.paged_without_rights),
            "description": self.description,
            "header_ts": self.header_ts,
            "update_token": self.update_token,
            "update_due_at": self.update_due_at,
            "updates": self.updates,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Incident:
        def ts(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value)

        policy = data.get("policy")
        return cls(
            id=data["id"],
            title=data["title"],
            service=data["service"],
            severity=data["severity"],
            declared_by=data["declared_by"],
            declared_at=datetime.fromisoformat(data["declared_at"]),
            status=Status(data["status"]),
            private=bool(data.get("private", False)),
            drill=bool(data.get("drill", False)),
            exclude_from_metrics=bool(data.get("exclude_from_metrics", data.get("drill", False))),
            roles=Roles(**data.get("roles", {})),
            policy=None if policy is None else Policy.from_dict(policy),
            escalation=EscalationState.from_dict(data["escalation"]),
            token=int(data["token"]),
            acknowledged_by=data.get("acknowledged_by"),
            acknowledged_at=ts(data.get("acknowledged_at")),
            mitigated_at=ts(data.get("mitigated_at")),
            resolved_at=ts(data.get("resolved_at")),
            resolved_by=data.get("resolved_by"),
            channel_id=data.get("channel_id"),
            paged=tuple(data.get("paged", ())),
            paged_without_rights=tuple(data.get("paged_without_rights", ())),
            description=data.get("description", ""),
            header_ts=data.get("header_ts"),
            update_token=int(data.get("update_token", 0)),
            update_due_at=data.get("update_due_at"),
            updates=int(data.get("updates", 0)),
        )


def check_transition(incident: Incident, action: Action) -> Status:
    """The status `action` leads to; raise TransitionRefused explaining why it cannot apply."""
    allowed_from, target = _TRANSITIONS[action]
    if incident.status not in allowed_from:
        raise TransitionRefused(action, incident, _refusal(incident, action))
    return incident.status if target is None else target


def _refusal(incident: Incident, action: Action) -> str:
    if incident.status is Status.RESOLVED:
        return "the incident is resolved; reopen it first"
    if action is Action.ACKNOWLEDGE and incident.acknowledged_by:
        return f"already acknowledged by {incident.acknowledged_by}"
    return f"cannot {action.value.replace('_', ' ')} an incident that is {incident.status.value}"


def acknowledge(incident: Incident, user: str, now: datetime) -> Incident:
    """Acknowledge: stops escalation and records who and when (first acknowledgement wins)."""
    status = check_transition(incident, Action.ACKNOWLEDGE)
    return replace(
        incident,
        status=status,
        acknowledged_by=incident.acknowledged_by or user,
        acknowledged_at=incident.acknowledged_at or now,
        escalation=incident.escalation.stopped(),
        token=incident.token + 1,
    )


def mitigate(incident: Incident, user: str, now: datetime) -> Incident:
    """Mitigate: contained; implies an acknowledgement when there was none, stops escalation."""
    status = check_transition(incident, Action.MITIGATE)
    return replace(
        incident,
        status=status,
        acknowledged_by=incident.acknowledged_by or user,
        acknowledged_at=incident.acknowledged_at or now,
        mitigated_at=now,
        escalation=incident.escalation.stopped(),
        token=incident.token + 1,
    )


def resolve(incident: Incident, user: str, now: datetime) -> Incident:
    """Resolve: stops everything."""
    status = check_transition(incident, Action.RESOLVE)
    return replace(
        incident,
        status=status,
        resolved_at=now,
        resolved_by=user,
        mitigated_at=incident.mitigated_at or now,
        escalation=incident.escalation.stopped(),
        token=incident.token + 1,
    )


def reopen(incident: Incident) -> Incident:
    """Reopen a mitigated or resolved incident: it is triggered again and paging restarts."""
    status = check_transition(incident, Action.REOPEN)
    return replace(incident, status=status, resolved_at=None, resolved_by=None, mitigated_at=None)


def record_pages(
    incident: Incident, users: Iterable[str], *, grant: bool = True, pager: str | None = None
) -> Incident:
    """`users` were paged. A page that grants rights (a policy step's, or one by a pager
    `page_grants_rights` allows) makes them responders, except the pager themself; one that
    does not leaves everyone as they were."""
    paged = tuple(dict.fromkeys(users))
    granted = {u for u in paged if grant and u != pager}
    new = tuple(u for u in paged if u not in incident.paged)
    without = tuple(u for u in incident.paged_without_rights if u not in granted)
    return replace(
        incident,
        paged=incident.paged + new,
        paged_without_rights=without + tuple(u for u in new if u not in granted),
    )


def page_grants_rights(
    rights: Rights, incident: Incident, pager: str, pager_groups: frozenset[str] = frozenset()
) -> bool:
    """Whether a page by `pager` makes the people paged responders: only when the pager is a
    responder, or the tier's page right names them (a user, usergroup or role), not merely as
    `anyone`; else anyone could page a friend, or themselves, into `responder`."""
    if pager in incident.responders():
        return True
    return any(p != "anyone" and _matches(p, incident, pager, pager_groups) for p in rights.page)


def authorize_severity_change(
    rights: Rights,
    target: str,
    target_rights: Rights,
    incident: Incident,
    user: str,
    user_groups: frozenset[str] = frozenset(),
) -> tuple[bool, str]:
    """Moving an incident to tier `target` needs change_severity on both tiers: else a right
    held on one tier would move incidents into, or out of, a tier whose rights say otherwise."""
    allowed, rule = authorize(rights, Action.CHANGE_SEVERITY, incident, user, user_groups)
    if not allowed:
        return allowed, rule
    moved = replace(incident, severity=target)
    return authorize(target_rights, Action.CHANGE_SEVERITY, moved, user, user_groups)


def authorize(
    rights: Rights,
    action: Action,
    incident: Incident,
    user: str,
    user_groups: frozenset[str] = frozenset(),
) -> tuple[bool, str]:
    """Whether `user` may take `action` under the tier's rights, and the rule that decided it."""
    field_name: str | None = {
        Action.ACKNOWLEDGE: "acknowledge",
        Action.ESCALATE: "acknowledge",
        Action.MITIGATE: "acknowledge",  # containment is the responders' call
        Action.RESOLVE: "resolve",
        Action.REOPEN: "resolve",
        Action.CHANGE_SEVERITY: "change_severity",
        Action.PAGE: "page",
        Action.ASSIGN_ROLE: "resolve",  # handing over command is a commander-level decision
        Action.UPDATE: "acknowledge",
        Action.NOTE: None,  # anyone in the channel may add to the record
        Action.CORRECT_MILESTONE: "resolve",  # the record of times is the commander's call
        Action.ADD_ACTION_ITEM: None,  # a follow-up is added to the record, like a note
        Action.CLOSE_ACTION_ITEM: "resolve",  # besides the item's owner (checked by the caller)
        Action.COMPLETE_REVIEW: "resolve",
        Action.CONTAIN: "contain",  # a runbook action may name another right (runbook.py)
    }[action]
    if field_name is None:
        return True, "anyone may add notes"
    return authorize_right(rights, field_name, incident, user, user_groups)


def authorize_right(
    rights: Rights,
    field_name: str,
    incident: Incident,
    user: str,
    user_groups: frozenset[str] = frozenset(),
) -> tuple[bool, str]:
    """Whether `user` holds the tier's right `field_name` (one of `RIGHTS`), and the rule."""
    principals: tuple[str, ...] = getattr(rights, field_name)
    for principal in principals:
        if _matches(principal, incident, user, user_groups):
            return True, f"{field_name}: {principal}"
    return False, f"{incident.severity} rights.{field_name} allows only {', '.join(principals)}"


def _matches(principal: str, incident: Incident, user: str, groups: frozenset[str]) -> bool:
    kind, _, ref = principal.partition(":")
    if principal == "anyone":
        return True
    if principal == "responder":
        return user in incident.responders()
    if kind == "role":
        return ref in incident.roles.of(user)
    if kind == "user":
        return user == ref
    if kind == "usergroup":
        return ref in groups
    return False
