"""`/incident stats`: the ephemeral summary of MTTA / time to contain / MTTR per severity."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.durations import format_duration
from bot.domain.metrics import Figure, Summary
from bot.domain.words import count
from bot.render.messages import escape


def _d(value: float | None) -> str:
    return "—" if value is None else format_duration(round(value))


def _fig(fig: Figure) -> str:
    if fig.count == 0:
        return "—"
    return f"{_d(fig.mean)} (median {_d(fig.median)}, n={fig.count})"


def _scope(summary: Summary) -> str:
    days = round((summary.until - summary.since).total_seconds() / 86400)
    where = f" on *{escape(summary.service)}*" if summary.service else ""
    return f"last {count(days, 'day')}{where}"


def stats_text(summary: Summary) -> str:
    """The summary as mrkdwn (the notification text and the fallback)."""
    lines = [f"*Incident metrics* · {_scope(summary)}"]
    if not summary.rows:
        lines.append("No incidents counted in this window.")
    for row in summary.rows:
        lines.append(
            f"*{row.severity.upper()}* · {count(row.incidents, 'incident')}, {row.open} open, "
            f"{count(row.pages, 'page')}\n"
            f"  MTTA {_fig(row.tta)} · to contain {_fig(row.ttc)} · MTTR {_fig(row.ttr)}"
        )
    lines.append(
        f"Total {count(summary.incidents, 'incident')}, {count(summary.pages, 'page')}; "
        f"{count(summary.excluded, 'drill')}/excluded left out."
    )
    return "\n".join(lines)[:3000]


def stats_blocks(summary: Summary) -> list[dict[str, Any]]:
    blocks: list[Block] = [HeaderBlock(text="Incident metrics")]
    if not summary.rows:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text="No incidents counted in this window."))
        )
    for row in summary.rows:
        fields = [
            f"*{row.severity.upper()}*\n{count(row.incidents, 'incident')} · {row.open} open",
            f"*Pages*\n{row.pages}",
            f"*MTTA*\n{_fig(row.tta)}",
            f"*Time to contain*\n{_fig(row.ttc)}",
            f"*MTTR*\n{_fig(row.ttr)}",
        ]
        blocks.append(SectionBlock(fields=[MarkdownTextObject(text=f) for f in fields]))
    note = (
        f"{_scope(summary)} · {count(summary.incidents, 'incident')} · "
        f"{count(summary.pages, 'page')} · "
        f"{count(summary.excluded, 'drill')}/excluded left out · means with medians"
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return [b.to_dict() for b in blocks]
