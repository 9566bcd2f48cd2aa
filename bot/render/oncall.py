"""The contact matrix and an escalation chain as Block Kit, for `/incident oncall`.

Instants are written as Slack date tokens (`<!date^TS^{date_short_pretty} {time}|fallback>`)
so that each reader sees them in their own timezone; the fallback is in the schedule's zone.
User groups are shown by id in code, never as `<!subteam^…>`, so listing them pings nobody.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.domain.contacts import Chain, Resolved, Row, Stint
from bot.domain.durations import format_duration
from bot.domain.policy import Target, TargetKind
from bot.render.messages import escape
from bot.render.runbook import MAX_BLOCKS, clip, pack

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_SHORT = 200  # characters of a name shown in a line


def slack_date(moment: datetime, timezone: str | None = None) -> str:
    """A date token Slack renders in the reader's timezone, with a fallback in `timezone`."""
    zone = ZoneInfo(timezone) if timezone else UTC
    local = moment.astimezone(zone)
    fallback = f"{local:%Y-%m-%d %H:%M} {local.tzname() or 'UTC'}"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{escape(fallback)}>"


def mention(user: str) -> str:
    """`<@U…>` for a Slack user id; anything else (an email) as escaped text."""
    return f"<@{user}>" if USER_ID.match(user) else escape(clip(user, _SHORT))


def target_text(target: Target) -> str:
    """A target named directly in a policy, without pinging a user group."""
    ref = escape(clip(target.ref, _SHORT))
    if target.kind is TargetKind.USERGROUP:
        return f"user group `{ref}`"
    if target.kind is TargetKind.SCHEDULE:
        return f"schedule *{ref}*"
    if target.is_service:
        return f"{target.kind.value} `{ref}`"
    return mention(target.ref)


def _stints(stints: Sequence[Stint], word: str, timezone: str | None, verb: str) -> str:
    """`Now: <@U1> until …` (verb `until`, from the end) or `Next: <@U2> from …` (the start)."""
    if not stints:
        return f"{word}: nobody" + (" within the lookahead" if verb == "from" else "")
    parts = []
    for stint in stints:
        when = stint.end if verb == "until" else stint.start
        if when is None:
            parts.append(f"{mention(stint.user)} (no handoff within the lookahead)")
        else:
            parts.append(f"{mention(stint.user)} {verb} {slack_date(when, timezone)}")
    return f"{word}: " + ", ".join(parts)


def row_text(row: Row) -> str:
    """One row as mrkdwn lines: the schedule with its zone, then now and next."""
    where = f"Step {row.step} · " if row.step is not None else ""
    if row.target.kind is not TargetKind.SCHEDULE or row.timezone is None:
        return f"{where}{target_text(row.target)} (paged directly)"
    name = escape(clip(row.name, _SHORT))
    return "\n".join(
        [
            f"{where}*{name}* · {escape(row.timezone)}",
            _stints(row.now, "Now", row.timezone, "until"),
            _stints(row.next, "Next", row.timezone, "from"),
        ]
    )


def _pieces(rows: Sequence[Row]) -> list[str]:
    pieces: list[str] = []
    policy: str | None = None
    for row in rows:
        if row.policy is not None and row.policy != policy:
            policy = row.policy
            pieces.append(f":busts_in_silhouette: *Policy {escape(clip(policy, _SHORT))}*")
        pieces.append(row_text(row))
    return pieces


def _finish(head: list[Block], texts: list[str]) -> list[dict[str, Any]]:
    room = MAX_BLOCKS - len(head)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=t)) for t in texts]
    if len(blocks) > room:
        note = f"{len(blocks) - room + 1} more sections not shown; ask for one schedule."
        blocks = [*blocks[: room - 1], ContextBlock(elements=[MarkdownTextObject(text=note)])]
    return [block.to_dict() for block in (*head, *blocks)]


def oncall_blocks(
    rows: Sequence[Row], now: datetime, *, title: str = "Who is on call", extra: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """A header, an as-of line, each row's now and next (grouped by policy when given), then
    the `extra` sections (mrkdwn)."""
    note = f"As of {slack_date(now)}; times show in your own timezone."
    head: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(title, 150))),
        ContextBlock(elements=[MarkdownTextObject(text=note)]),
    ]
    texts = pack([*_pieces(rows), *extra]) or ["No schedules are configured."]
    return _finish(head, texts)


def oncall_text(rows: Sequence[Row], now: datetime, extra: Sequence[str] = ()) -> str:
    """The plain-text fallback: one line per row, then the `extra` sections."""
    lines = [f"On call as of {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC"]
    lines += [row_text(row).replace("\n", " · ") for row in rows]
    lines += [text.replace("\n", " · ") for text in extra]
    return clip("\n".join(lines), 3000)


def _resolved(item: Resolved) -> str:
    if item.target.kind is TargetKind.SCHEDULE:
        people = ", ".join(mention(u) for u in item.users) or "nobody on call"
        return f"{target_text(item.target)} → {people}"
    return target_text(item.target)


def chain_blocks(chain: Chain) -> list[dict[str, Any]]:
    """Each step of the chain: whom it pages now and how long it waits for an ack."""
    policy = chain.policy
    loops = f", then the steps repeat {policy.repeat}x" if policy.repeat else ""
    summary = (
        f"*{escape(chain.service)}* at *{escape(chain.severity)}* follows policy "
        f"*{escape(policy.name)}*{loops}."
    )
    lines = [
        f"*Step {step.number}* (waits {format_duration(step.wait_s)}): "
        + "; ".join(_resolved(t) for t in step.targets)
        for step in chain.steps
    ]
    head: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(f"Escalation for {chain.service}", 150))),
        ContextBlock(elements=[MarkdownTextObject(text=summary)]),
    ]
    return _finish(head, pack(lines))
