"""The App Home tab: open incidents, my on-call shifts now and next, my open action items.

`app_home_opened` is acknowledged at once; a job builds the view and calls views.publish.
A private incident is listed only to its members (`bot.domain.privacy`); anybody else does
not see it at all, as incident.io and Grafana IRM hide private incidents from people
without access.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.actions import ActionItem
from bot.domain.catalog import Catalog
from bot.domain.incident import Incident
from bot.domain.privacy import visible_to
from bot.domain.schedule import Shift, shifts
from bot.render import learning as lb
from bot.render.messages import escape, sev, slack_date
from bot.slack.on_rules import rules_section

if TYPE_CHECKING:
    from bot.learning.services import Learning
    from bot.runtime import Runtime

log = structlog.get_logger(__name__)
LOOKAHEAD = timedelta(days=14)
MAX_ROWS = 15


def my_shifts(catalog: Catalog, user: str, now: datetime) -> list[tuple[str, Shift]]:
    """(schedule, shift) of `user`: the one running now first, then upcoming, by start."""
    mine: list[tuple[str, Shift]] = []
    for name in sorted(catalog.schedules):
        for shift in shifts(catalog.schedules[name], now, now + LOOKAHEAD):
            if shift.user == user:
                mine.append((name, shift))
    return sorted(mine, key=lambda row: (row[1].start, row[0]))


def _when(at: datetime) -> str:
    return slack_date(at.timestamp(), "{date_short_pretty} {time}", f"{at:%Y-%m-%d %H:%M} UTC")


def home_blocks(
    incidents: Sequence[Incident],
    shifts_of_user: Sequence[tuple[str, Shift]],
    actions: Sequence[ActionItem],
    now: datetime,
) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="Incidents")]
    if incidents:
        for inc in list(incidents)[:MAX_ROWS]:
            where = f"<#{inc.channel_id}>" if inc.channel_id else f"`{inc.id}`"
            lead = f"IC <@{inc.roles.commander}>" if inc.roles.commander else "no IC"
            line = f"{sev(inc)} {where} *{escape(inc.title)}* · {inc.status.value} · {lead}"
            blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No open incidents. :relieved:")))
    blocks += [DividerBlock(), HeaderBlock(text="My on-call shifts")]
    current = [(n, s) for n, s in shifts_of_user if s.start <= now < s.end]
    upcoming = [(n, s) for n, s in shifts_of_user if s.start > now]
    lines = [f":large_green_circle: *Now* on `{n}` until {_when(s.end)}" for n, s in current]
    if upcoming:
        n, s = upcoming[0]
        lines.append(f":calendar: *Next* on `{n}` from {_when(s.start)} to {_when(s.end)}")
    if not lines:
        lines = ["You are not on call in the next 14 days."]
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines))))
    blocks += [DividerBlock(), HeaderBlock(text="My open action items")]
    if actions:
        today = now.date()
        for item in list(actions)[:MAX_ROWS]:
            late = " :warning: overdue" if item.overdue(today) else ""
            blocks.append(
                SectionBlock(text=MarkdownTextObject(text=lb.action_line(item, True) + late))
            )
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No open action items.")))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Updated {_when(now)}")]))
    return blocks


def channel_members(client: WebClient | None, incident: Incident) -> list[str]:
    """Who Slack lists in the incident's channel; nobody when Slack refuses (fail closed)."""
    if client is None or incident.channel_id is None:
        return []
    try:
        pages = client.conversations_members(channel=incident.channel_id, limit=200)
        return [str(m) for page in pages for m in page.get("members", [])]
    except SlackApiError as exc:
        log.warning(
            "home_members_unavailable", incident_id=incident.id, error=exc.response.get("error")
        )
        return []


def shown_to(client: WebClient | None, incident: Incident, user: str) -> bool:
    """A private incident is shown to its recorded members, else to its channel's members."""
    return visible_to(incident, user) or visible_to(
        incident, user, channel_members(client, incident)
    )


def home_view(rt: Runtime, lrn: Learning, user: str, now: datetime) -> dict[str, Any]:
    found = [i for i in (rt.store.find(x) for x in rt.store.open_ids()) if i]
    incidents = [i for i in found if shown_to(rt.slack, i, user)]
    incidents.sort(key=lambda i: (i.severity, i.declared_at))
    mine = my_shifts(rt.catalog(), user, now)
    blocks = home_blocks(incidents, mine, lrn.store.open_actions_of(user), now)
    blocks[-1:-1] = rules_section(rt, user)  # before "Updated …"
    view = View(type="home", blocks=blocks)
    result: dict[str, Any] = view.to_dict()
    return result


def register(app: App, rt: Runtime) -> None:
    lrn = rt.learning

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        user = str(event.get("user") or "")
        if event.get("tab", "home") != "home" or not user:
            return
        lrn.timers.publish_home(user)
        log.info("app_home_opened", user_id=user)
