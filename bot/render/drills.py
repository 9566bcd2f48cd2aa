"""The drill report: in the drill's channel (mrkdwn) and in `tocsin report` (plain lines)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.domain.drills import DrillResult, PersonRow
from bot.domain.durations import format_duration
from bot.domain.words import count
from bot.render.messages import DRILL_MARK, slack_date, via_words


def _took(seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(round(seconds))


def _person_line(row: PersonRow, name: Callable[[str], str]) -> str:
    missed = row.paged - row.reached
    parts = [f"{name(row.user)}: paged in {count(row.paged, 'drill')}"]
    if missed:
        parts.append(f"never reached in {missed}")
    parts.append(f"acknowledged {row.acknowledged}, median {_took(row.median_ack_s)}")
    return ", ".join(parts)


def report_text(result: DrillResult, history: Sequence[PersonRow]) -> str:
    """Who this drill paged, by which method, and when each acknowledged or did not; then
    each person's time to acknowledge over the last drills."""
    lines = [f"{DRILL_MARK} · *Drill report* ({count(len(result.people), 'person')} paged)"]
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
