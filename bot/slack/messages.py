"""Every user-facing message text and Block Kit structure, in one place.

User-supplied text goes through `escape` before it reaches mrkdwn, so a title such as
`<!channel>` or `<https://evil|x>` shows as typed and pings nobody.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.incident import Incident
from bot.store import OutboxItem


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def incident_label(incident: Incident) -> str:
    return f"{incident.severity.upper()} {incident.id} · {escape(incident.title)}"


def page_text(incident: Incident, step: int, loop: int, via: str) -> str:
    """The notification text of a page (what a phone shows)."""
    where = f" in <#{incident.channel_id}>" if incident.channel_id else ""
    loop_note = f", loop {loop + 1}" if loop else ""
    return (
        f":rotating_light: You are paged for {incident_label(incident)}{where} "
        f"(step {step + 1}{loop_note}, via {via}). Acknowledge to stop escalation."
    )


def exhausted_text(incident: Incident) -> str:
    policy = incident.policy.name if incident.policy else "the escalation policy"
    return (
        f":warning: {incident_label(incident)}: {policy} is exhausted and nobody has "
        "acknowledged. Somebody must take this incident now."
    )


def page_blocks(incident: Incident, item: OutboxItem) -> list[dict[str, Any]]:
    """A page DM: the summary and Acknowledge / Escalate buttons carrying the incident id."""
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=item.text)),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Service *{escape(incident.service)}* · declared by "
                    f"<@{incident.declared_by}> · status {incident.status.value}"
                )
            ]
        ),
        ActionsBlock(
            block_id=f"page:{incident.id}",
            elements=[
                ButtonElement(
                    text="Acknowledge", action_id="incident_ack", value=incident.id, style="primary"
                ),
                ButtonElement(
                    text="Escalate",
                    action_id="incident_escalate",
                    value=incident.id,
                    style="danger",
                ),
            ],
        ),
    ]
    return [b.to_dict() for b in blocks]
