"""Overrides and swaps made from Slack, as lines people read: in `/incident oncall` and in
the replies to the commands that make or remove them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.domain.oncall import Change
from bot.render.messages import escape
from bot.render.oncall import mention, slack_date


def change_line(change: Change, timezone: str | None) -> str:
    """`o3` · swap: <@B> covers … → …; <@A> covers … → … (by <@X>)."""
    spans = "; ".join(
        f"{mention(s.user)} covers {slack_date(s.start, timezone)} → {slack_date(s.end, timezone)}"
        for s in change.spans
    )
    return f"`{escape(change.id)}` · {change.kind}: {spans} (by {mention(change.by)})"


def changes_text(
    changes: Sequence[Change], timezones: Mapping[str, str], now: datetime
) -> str | None:
    """The changes not yet over, by schedule; None when there are none."""
    current = [c for c in changes if c.end > now and c.schedule in timezones]
    if not current:
        return None
    lines = [":repeat: *Changes made from Slack* (undo one with `/incident oncall remove <id>`)"]
    for change in sorted(current, key=lambda c: (c.schedule, c.at)):
        where = escape(change.schedule)
        lines.append(f"*{where}* {change_line(change, timezones[change.schedule])}")
    return "\n".join(lines)


def made(change: Change, timezone: str) -> str:
    return f":white_check_mark: Schedule *{escape(change.schedule)}* changed: " + change_line(
        change, timezone
    )


def removed(change: Change, by: str) -> str:
    return (
        f":white_check_mark: {mention(by)} removed `{escape(change.id)}` "
        f"from *{escape(change.schedule)}*; the schedule is as before it."
    )
