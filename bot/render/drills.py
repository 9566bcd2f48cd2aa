"""The drill report: in the drill's channel (mrkdwn) and in `tocsin report` (plain lines)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

from bot.domain.drills import DrillResult, PersonRow
from bot.domain.durations import format_duration
from bot.domain.words import count
from bot.render.messages import DRILL_MARK, escape, slack_date, via_words


def _took(seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(round(seconds))


def _person_line(row: PersonRow, name: Callable[[str], str]) -> str:
    missed = row.paged - row.reached
    parts = [f"{name(row.user)}: paged in {count(row.paged, 'drill')}"]
    if missed:
        parts.append(f"never reached in {missed}")
    parts.append(f"acknowledged {row.acknowledged}, median {_took(row.median_ack_s)}")
    return ", ".join(parts)


def report_text(
    result: DrillResult, history: Sequence[PersonRow], title: str = "Drill report"
) -> str:
    """Who this drill paged, by which method, and when each acknowledged or did not; then
    each person's time to acknowledge over the last drills."""
    lines = [f"{DRILL_MARK} · *{title}* ({count(len(result.people), 'person')} paged)"]
    for p in result.people:
        how = f"by {p.method} via {via_words(p.via)}"
        if p.sent_at is None:
            lines.append(f"• :x: <@{p.user}> was *never reached* ({how})")
        elif p.acked_after_s is not None:
            lines.append(
                f"• :white_check_mark: <@{p.user}> paged {slack_date(p.sent_at)} {how}, "
                f"acknowledged after {_took(p.acked_after_s)}"
            )
        else:
            lines.append(
                f"• :warning: <@{p.user}> paged {slack_date(p.sent_at)} {how}, did not acknowledge"
            )
    if history:
        lines.append("*Over the last drills*")
        lines += [f"• {_person_line(r, lambda u: f'<@{u}>')}" for r in history]
    return "\n".join(lines)


def report_lines(
    results: Sequence[DrillResult], history: Sequence[PersonRow], name: Callable[[str], str]
) -> list[str]:
    """The drills section of `tocsin report`: each drill, then each person."""
    lines = [f"drills: {count(len(results), 'drill')}"]
    for r in results:
        never = [name(p.user) for p in r.people if p.sent_at is None]
        acked = [p for p in r.people if p.acked_after_s is not None]
        said = f"acknowledged by {name(acked[0].user)} after {_took(acked[0].acked_after_s)}"
        lines.append(
            f"  {r.incident_id} {r.policy or 'no policy'}: {count(len(r.people), 'person')} paged, "
            + (said if acked else "not acknowledged")
            + (f", never reached: {', '.join(never)}" if never else "")
        )
    lines += [f"  {_person_line(row, name)}" for row in history]
    return lines


SELF_TEST_ACK = "self_test_ack"  # the self-test page's button; its value is the run id


def self_test_page(run: str, schedules: Sequence[str], within_s: float) -> list[dict[str, Any]]:
    """The self-test page DM: what it is, and its Acknowledge button."""
    names = ", ".join(f"*{escape(s)}*" for s in schedules)
    text = (
        f"{DRILL_MARK} · *Self-test* · You are on call for {names}. This is Tocsin checking "
        f"that a page reaches you: press *Acknowledge* within {format_duration(round(within_s))}."
        " Nothing is wrong."
    )
    button = ButtonElement(text="Acknowledge", action_id=SELF_TEST_ACK, value=run, style="primary")
    page = [SectionBlock(text=MarkdownTextObject(text=text)), ActionsBlock(elements=[button])]
    return [block.to_dict() for block in page]


def self_test_nobody(schedules: Sequence[str]) -> str:
    """The report's line for the schedules nobody was on call for when the self-test fired."""
    return "• :x: nobody was on call for " + ", ".join(f"*{escape(s)}*" for s in schedules)
