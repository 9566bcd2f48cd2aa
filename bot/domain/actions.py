"""Follow-up action items: what was agreed, who owns it, when it is due, whether it is done.

Pure: callers pass `now` and the zone whose calendar places the due-date reminder.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from bot.domain.business_days import zone
from bot.domain.limits import ACTION, too_long

REMIND_AT = time(9, 0)  # local time on the due date


class ItemStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class ActionItemError(ValueError):
    """An action item that cannot be added or closed; the message is for the person."""


@dataclass(frozen=True)
class ActionItem:
    id: str  # A1, A2, … within the incident
    incident_id: str
    text: str
    created_by: str
    created_at: datetime
    owner: str | None = None
    due: date | None = None
    status: ItemStatus = ItemStatus.OPEN
    closed_by: str | None = None
    closed_at: datetime | None = None

    @property
    def ref(self) -> str:
        """Unique across incidents: `<incident>:<item>` (a button value, an index member)."""
        return f"{self.incident_id}:{self.id}"

    @property
    def is_open(self) -> bool:
        return self.status is ItemStatus.OPEN

    def overdue(self, today: date) -> bool:
        return self.is_open and self.due is not None and self.due < today

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "text": self.text,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "owner": self.owner,
            "due": self.due.isoformat() if self.due else None,
            "status": self.status.value,
            "closed_by": self.closed_by,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionItem:
        closed = data.get("closed_at")
        due = data.get("due")
        return cls(
            id=data["id"],
            incident_id=data["incident_id"],
            text=data["text"],
            created_by=data["created_by"],
            created_at=datetime.fromisoformat(data["created_at"]),
            owner=data.get("owner"),
            due=date.fromisoformat(due) if due else None,
            status=ItemStatus(data.get("status", "open")),
            closed_by=data.get("closed_by"),
            closed_at=datetime.fromisoformat(closed) if closed else None,
        )


def new_item(
    incident_id: str,
    number: int,
    text: str,
    created_by: str,
    now: datetime,
    owner: str | None = None,
    due: date | None = None,
    tz: str = "UTC",
) -> ActionItem:
    """A new open item; refuses empty text and a due date already past (in `tz`)."""
    clean = " ".join(text.split())
    if not clean:
        raise ActionItemError("an action item needs a description")
    if problem := too_long(ACTION, clean):
        raise ActionItemError(problem)
    if due is not None and due < now.astimezone(zone(tz)).date():
        raise ActionItemError(f"the due date {due.isoformat()} has already passed")
    return ActionItem(f"A{number}", incident_id, clean, created_by, now, owner, due)


def close(item: ActionItem, user: str, now: datetime) -> ActionItem:
    if not item.is_open:
        who = f" by <@{item.closed_by}>" if item.closed_by else ""
        raise ActionItemError(f"action item {item.id} is already done{who}")
    return replace(item, status=ItemStatus.DONE, closed_by=user, closed_at=now)


def reminder_at(item: ActionItem, tz: str = "UTC", at: time = REMIND_AT) -> datetime | None:
    """When the owner is reminded: `at` (09:00) local on the due date (None without owner/due)."""
    if item.due is None or item.owner is None or not item.is_open:
        return None
    local = datetime.combine(item.due, at, tzinfo=zone(tz))
    return local.astimezone(UTC)
