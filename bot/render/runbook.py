"""A runbook as Block Kit: title, triage tree, then the rest of its Markdown body.

Every piece of runbook text goes through `escape` before it reaches mrkdwn. The header is a
plain_text object, which Slack never parses for mentions, so the title goes there as typed.
Slack's limits are kept by construction (and checked by `slack_sdk.models` in `to_dict`):
at most 50 blocks, 3000 characters per section, 150 per header.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.domain.containment import BUTTON_PREFIX, button_value
from bot.domain.runbook import ActionKind, Branch, Runbook
from bot.render.messages import escape

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
LIST_LIMIT = 400  # characters of services or alerts shown in the context line
TEXT_LIMIT = 3000  # the plain-text fallback; notifications show only its start anyway

EMOJI = {
    ActionKind.REDUCE_TRAFFIC: ":vertical_traffic_light:",
    ActionKind.ROLL_BACK: ":rewind:",
    ActionKind.DEGRADED_MODE: ":construction:",
    ActionKind.ESCALATE: ":rotating_light:",
    ActionKind.INVESTIGATE: ":mag:",
}

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)[\s#]*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)|]+)\)")


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def branch_lines(branch: Branch, depth: int = 0) -> list[str]:
    """mrkdwn lines for one branch and its sub-branches, escaped."""
    kind = branch.action_kind.value
    line = (
        f"{'      ↳ ' if depth else ''}{EMOJI[branch.action_kind]} *If* {escape(branch.symptom)}"
        f" → *{kind[0].upper()}{kind[1:]}:* {escape(branch.action_text)}"
    )
    return [line] + [text for child in branch.children for text in branch_lines(child, depth + 1)]


def markdown_to_mrkdwn(markdown: str) -> list[str]:
    """Paragraph-sized mrkdwn pieces of a Markdown text: headings bold, bullets as dots."""
    pieces: list[str] = []
    current: list[str] = []
    for raw in markdown.splitlines():
        heading = _HEADING.match(raw)
        if heading is not None or not raw.strip():
            if current:
                pieces.append("\n".join(current))
                current = []
            if heading is not None:
                current.append(f"*{escape(heading[2])}*")
            continue
        text = escape(raw.rstrip())
        text = _BULLET.sub(lambda m: f"{m[1]}• ", text, count=1)
        text = _STRONG.sub(r"*\1*", text)
        current.append(_LINK.sub(r"<\2|\1>", text))
    if current:
        pieces.append("\n".join(current))
    return pieces


def pack(pieces: list[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Join pieces with blank lines into texts of at most `limit` characters each."""
    texts: list[str] = []
    current = ""
    for piece in (part for whole in pieces for part in _split(whole, limit)):
        joined = f"{current}\n\n{piece}" if current else piece
        if len(joined) <= limit:
            current = joined
            continue
        texts.append(current)
        current = piece
    if current:
        texts.append(current)
    return texts


def _split(text: str, limit: int) -> list[str]:
    """`text` in parts of at most `limit` characters, cut at whitespace where possible."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind(" ", limit // 2, limit)
        cut = cut if cut > 0 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text] if text else parts


def _other_sections(body: str) -> str:
    """The body without its `# Title` headings and its Triage section."""
    kept: list[str] = []
    skipping = False
    for line in body.splitlines():
        heading = _HEADING.match(line)
        if heading is not None and len(heading[1]) <= 2:
            skipping = len(heading[1]) == 1 or heading[2].lower().startswith("triage")
            if len(heading[1]) == 1:
                continue
        if not skipping:
            kept.append(line)
    return "\n".join(kept)


def _context(runbook: Runbook) -> ContextBlock:
    facts = [f"*Services:* {escape(clip(', '.join(runbook.services), LIST_LIMIT))}"]
    if runbook.alerts:
        facts.append(f"*Alerts:* {escape(clip(', '.join(runbook.alerts), LIST_LIMIT))}")
    if runbook.severity_hint:
        facts.append(f"*Usual severity:* {escape(clip(runbook.severity_hint, 40))}")
    facts.append(f"`{escape(clip(runbook.path, 300))}`")
    return ContextBlock(elements=[MarkdownTextObject(text=" · ".join(facts))])


def action_buttons(runbook: Runbook, incident_id: str) -> ActionsBlock:
    """One button per containment action, each behind Slack's confirm dialog."""
    buttons = [
        ButtonElement(
            text=clip(action.label, 75),
            action_id=f"{BUTTON_PREFIX}{action.id}",
            value=button_value(incident_id, action.id),
            style="danger",
            confirm=ConfirmObject(
                title=clip(action.label, 100),
                text=PlainTextObject(text=clip(action.confirm, 300)),
                confirm="Run it",
                deny="Cancel",
                style="danger",
            ),
        )
        for action in runbook.actions
    ]
    return ActionsBlock(block_id="containment", elements=buttons)


def runbook_blocks(
    runbook: Runbook, *, body: bool = True, incident_id: str | None = None
) -> list[dict[str, Any]]:
    """Header, context, the triage tree, (when `body`) the runbook's other sections, and
    (for an incident's channel) a button per containment action."""
    title = runbook.title.strip() or runbook.path
    head: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(title, HEADER_LIMIT))),
        _context(runbook),
    ]
    intro = "*Triage:* take the first branch that matches, contain, then investigate."
    triage = [intro, *("\n".join(branch_lines(b)) for b in runbook.triage)]
    content: list[Block] = [SectionBlock(text=MarkdownTextObject(text=t)) for t in pack(triage)]
    rest = pack(markdown_to_mrkdwn(_other_sections(runbook.body))) if body else []
    if rest:
        content.append(DividerBlock())
        content += [SectionBlock(text=MarkdownTextObject(text=t)) for t in rest]
    tail: list[Block] = []
    if incident_id is not None and runbook.actions:
        tail.append(action_buttons(runbook, incident_id))
    room = MAX_BLOCKS - len(head) - len(tail)
    if len(content) > room:
        hidden = len(content) - (room - 1)
        content = content[: room - 1]
        note = f"{hidden} more blocks not shown; read `{escape(clip(runbook.path, 300))}`."
        content.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return [block.to_dict() for block in (*head, *content, *tail)]


def runbook_text(runbook: Runbook) -> str:
    """The plain-text fallback (notifications, screen readers): title and the top branches."""
    lines = [f"Runbook: {escape(runbook.title)} ({escape(runbook.path)})"]
    lines += [
        f"• If {escape(b.symptom)} → {b.action_kind.value}: {escape(b.action_text)}"
        for b in runbook.triage
    ]
    return clip("\n".join(lines), TEXT_LIMIT)
