"""Block Kit structures, built with `slack_sdk.models` so Slack's field limits are checked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.incident import Incident, Status
from bot.render.messages import escape, service_words, sev, slack_date, who

ACK, ESCALATE, UPDATE, RESOLVE = (
    "incident_ack",
    "incident_escalate",
    "incident_update",
    "incident_resolve",
)


def _dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def page_state(incident: Incident) -> tuple[object, ...]:
    """What a page DM shows of its incident besides its own words: when this changes, the
    page DMs already sent are out of date (`page_blocks` renders exactly these)."""
    return (
        incident.status,
        incident.acknowledged_by,
        incident.acknowledged_at,
        incident.resolved_by,
        incident.resolved_at,
        incident.severity,
        incident.service,
    )


def _moved(incident: Incident) -> str | None:
    """Where the incident stands, once it has moved on from triggered."""

    def when(at: datetime | None) -> str:
        return f" {slack_date(at.timestamp())}" if at else ""

    acked = f"by {_person(incident.acknowledged_by)}{when(incident.acknowledged_at)}"
    if incident.status is Status.RESOLVED:
        return f":tada: *Resolved* by {_person(incident.resolved_by)}{when(incident.resolved_at)}"
    if incident.status is Status.MITIGATED:
        return f":shield: *Mitigated* (acknowledged {acked}); nothing to do here"
    if incident.status is Status.ACKNOWLEDGED:
        return f":white_check_mark: *Acknowledged* {acked}"
    return None


def page_blocks(incident: Incident, text: str) -> list[dict[str, Any]]:
    """A page DM as the incident is now: the summary, where the incident stands, and the
    buttons that still apply (Acknowledge while triggered, Escalate while acknowledged
    too, none once mitigated or resolved), carrying the incident id."""
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text[:3000]))]
    moved = _moved(incident)
    if moved:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=moved)))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Service *{service_words(incident.service)}* · declared by "
                    f"<@{incident.declared_by}> · status {incident.status.value}"
                )
            ]
        )
    )
    buttons = []
    if incident.status is Status.TRIGGERED:
        buttons.append(
            ButtonElement(text="Acknowledge", action_id=ACK, value=incident.id, style="primary")
        )
    if incident.status in (Status.TRIGGERED, Status.ACKNOWLEDGED):
        buttons.append(
            ButtonElement(text="Escalate", action_id=ESCALATE, value=incident.id, style="danger")
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=f"page:{incident.id}", elements=buttons))
    return _dicts(blocks)


def _person(user: str | None) -> str:
    return f"<@{user}>" if user else "—"


def header_blocks(
    incident: Incident, label: str, next_page: str | None, runbook: str | None = None
) -> list[dict[str, Any]]:
    """The pinned header: who owns it, who is paged next, when the next update is due."""
    roles = incident.roles
    acked = (
        f"{_person(incident.acknowledged_by)} {slack_date(incident.acknowledged_at.timestamp())}"
        if incident.acknowledged_at
        else "not yet"
    )
    due = (
        slack_date(incident.update_due_at, "{date_short_pretty} {time}")
        if incident.update_due_at and incident.is_open
        else "—"
    )
    fields = [
        f"*Status*\n{incident.status.value}",
        f"*Severity*\n{sev(incident)} {escape(label)}",
        f"*Commander*\n{_person(roles.commander)}",
        f"*Comms lead*\n{_person(roles.comms)}",
        f"*Acknowledged*\n{acked}",
        f"*Paged next*\n{next_page or '—'}",
        f"*Next update due*\n{due}",
        f"*Service*\n{service_words(incident.service)}",
    ]
    blocks: list[Block] = [
        HeaderBlock(
            text=f"{'DRILL · ' if incident.drill else ''}{incident.severity.upper()} · "
            f"{incident.title}"[:150]
        ),
        SectionBlock(fields=[MarkdownTextObject(text=f) for f in fields]),
    ]
    if incident.description:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=escape(incident.description)[:3000]))
        )
    context = f"{incident.id} · declared by {who(incident.declared_by)} " + slack_date(
        incident.declared_at.timestamp(), "{date_short_pretty} {time}"
    )
    if runbook:
        context += f" · runbook: {escape(runbook)}"
    blocks += [ContextBlock(elements=[MarkdownTextObject(text=context)]), DividerBlock()]
    if incident.is_open:
        blocks.append(
            ActionsBlock(
                block_id=f"header:{incident.id}",
                elements=[
                    ButtonElement(
                        text="Acknowledge", action_id=ACK, value=incident.id, style="primary"
                    ),
                    ButtonElement(text="Escalate", action_id=ESCALATE, value=incident.id),
                    ButtonElement(text="Post update", action_id=UPDATE, value=incident.id),
                    ButtonElement(
                        text="Resolve", action_id=RESOLVE, value=incident.id, style="danger"
                    ),
                ],
            )
        )
    return _dicts(blocks)
