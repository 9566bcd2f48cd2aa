"""Message text and Block Kit of the learning loop: reviews, action items, milestones.

User text is escaped for mrkdwn; blocks are built with `slack_sdk.models`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.actions import ActionItem
from bot.domain.incident import Incident
from bot.domain.privacy import visible_to
from bot.render.messages import escape, incident_label, slack_date

REVIEW_DONE = "review_done"
ACTION_CLOSE = "action_item_close"


def review_due_text(incident: Incident, due: datetime, window: str) -> str:
    commander = f"<@{incident.roles.commander}>" if incident.roles.commander else "Commander"
    when = slack_date(due.timestamp(), "{date_short_pretty} {time}", f"{due:%Y-%m-%d %H:%M} UTC")
    return (
        f":notebook: {commander}, the post-incident review of {incident_label(incident)} is due "
        f"{when} ({window}). A draft from the timeline follows; mark the review done when held."
    )


def review_reminder_text(incident: Incident, due_ts: float, number: int) -> str:
    commander = f"<@{incident.roles.commander}>" if incident.roles.commander else "Commander"
    late = "was due" if number else "is due"
    return (
        f":alarm_clock: {commander}, the post-incident review of {incident_label(incident)} "
        f"{late} {slack_date(due_ts, '{date_short_pretty} {time}')}. "
        "Hold it and press *Mark review done*, or say when it will happen."
    )


def review_blocks(text: str, incident_id: str) -> list[dict[str, Any]]:
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=text[:3000])),
        ActionsBlock(
            block_id=f"review:{incident_id}",
            elements=[
                ButtonElement(
                    text="Mark review done",
                    action_id=REVIEW_DONE,
                    value=incident_id,
                    style="primary",
                )
            ],
        ),
    ]
    return [b.to_dict() for b in blocks]


def action_line(item: ActionItem, with_incident: bool = False) -> str:
    owner = f" · <@{item.owner}>" if item.owner else " · no owner"
    due = f" · due {item.due.isoformat()}" if item.due else ""
    where = f"`{item.incident_id}` " if with_incident else ""
    state = "" if item.is_open else " · :white_check_mark: done"
    return f"{where}*{item.id}* {escape(item.text)}{owner}{due}{state}"


def action_added_text(item: ActionItem, by: str) -> str:
    return f"action item {item.id} added by <@{by}>: {action_line(item)}"


def action_reminder_text(item: ActionItem, incident: Incident | None) -> str:
    """The owner's DM; an owner a private incident's record does not name gets no title."""
    if incident is None:
        label = item.incident_id
    else:
        label = incident_label(incident, redact=not visible_to(incident, item.owner or ""))
    return (
        f":spiral_note_pad: A follow-up action you own from {label} is due today: "
        f"{action_line(item)}"
    )


def action_blocks(text: str, item: ActionItem) -> list[dict[str, Any]]:
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=text[:3000])),
        ActionsBlock(
            block_id=f"action:{item.ref}",
            elements=[
                ButtonElement(
                    text="Close action item",
                    action_id=ACTION_CLOSE,
                    value=item.ref,
                    style="primary",
                )
            ],
        ),
    ]
    return [b.to_dict() for b in blocks]


def milestone_text(which: str, at: datetime, was: datetime | None, by: str) -> str:
    before = f" (recorded {was:%Y-%m-%d %H:%M} UTC)" if was else ""
    return f"{which} milestone corrected to {at:%Y-%m-%d %H:%M} UTC by <@{by}>{before}"


def draft_comment(incident: Incident) -> str:
    return f":page_facing_up: Draft post-incident review of {incident_label(incident)}"


def context(text: str) -> dict[str, Any]:
    return ContextBlock(elements=[MarkdownTextObject(text=text[:3000])]).to_dict()
