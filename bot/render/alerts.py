"""What an incident's thread is told about its alerts: one message per notification.

Labels, annotations and links come from outside: each is escaped before it reaches mrkdwn,
and a link is shown only when it is http(s) and cannot close Slack's `<url|text>` early.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

from bot.domain.alerts.payloads import FIRING, Alert
from bot.render.blocks import RESOLVE
from bot.render.messages import escape

SHOWN = 20  # alerts listed in one message; the rest are counted
LABELS_SHOWN = 8
TEXT_MAX = 300


def _link(name: str, url: str) -> str:
    if not url.startswith(("http://", "https://")) or any(c in url for c in "<>| \n"):
        return ""
    return f"<{url.replace('&', '&amp;')}|{name}>"


def _alert_line(alert: Alert) -> str:
    mark = ":red_circle: firing" if alert.status == FIRING else ":large_green_circle: resolved"
    name = escape(alert.labels.get("alertname", "alert"))
    about = alert.annotations.get("summary") or alert.annotations.get("description") or ""
    labels = ", ".join(
        f"{escape(k)}={escape(v)}"
        for k, v in list(alert.labels.items())[:LABELS_SHOWN]
        if k != "alertname"
    )
    links = " ".join(filter(None, (_link(n, u) for n, u in alert.links)))
    parts = [f"{mark} *{name}*"]
    parts += [escape(about.strip()[:TEXT_MAX])] if about.strip() else []
    parts += [f"`{labels[:TEXT_MAX]}`"] if labels else []
    parts += [links] if links else []
    return "• " + " · ".join(parts)


def notification(source: str, alerts: Sequence[Alert], truncated: int = 0) -> str:
    """The alerts a notification brought (new, or whose status changed)."""
    firing = sum(a.status == FIRING for a in alerts)
    resolved = len(alerts) - firing
    counts = ", ".join(
        text for n, text in ((firing, f"{firing} firing"), (resolved, f"{resolved} resolved")) if n
    )
    lines = [f":bell: Alerts from *{escape(source)}*: {counts}"]
    lines += [_alert_line(a) for a in alerts[:SHOWN]]
    if len(alerts) > SHOWN:
        lines.append(f"…and {len(alerts) - SHOWN} more")
    if truncated:
        lines.append(f"({truncated} more left out by the sender)")
    return "\n".join(lines)


def cleared(source: str, on_clear: str) -> str:
    tail = {
        "notify": "Resolve the incident when you are satisfied.",
        "mitigate": "The incident is marked mitigated.",
        "resolve": "The incident is resolved.",
    }[on_clear]
    done = f"Every alert from *{escape(source)}* in this group has resolved."
    return f":large_green_circle: {done} {tail}"


def cleared_blocks(text: str, incident_id: str) -> list[dict[str, Any]]:
    """The all-clear with a Resolve button (on_clear: notify)."""
    return [
        SectionBlock(text=MarkdownTextObject(text=text)).to_dict(),
        ActionsBlock(
            block_id=f"alerts-clear:{incident_id}",
            elements=[
                ButtonElement(text="Resolve", action_id=RESOLVE, value=incident_id, style="primary")
            ],
        ).to_dict(),
    ]


def storm(source: str, new_groups: int, within: str) -> str:
    return (
        f":cyclone: Alert storm from *{escape(source)}*: more than {new_groups} new groups "
        f"within {within}. Further groups join this incident instead of opening channels."
    )


def joined_storm(texts: list[str], limit: int = 3500) -> str:
    """The notifications of the groups that joined a storm incident together, in one message
    (each already escaped by `notification`), cut at whole ones past `limit` characters."""
    shown: list[str] = []
    for text in texts:
        if shown and sum(len(t) + 1 for t in shown) + len(text) > limit:
            break
        shown.append(text)
    rest = len(texts) - len(shown)
    more = [f"…and {rest} more group{'s' if rest != 1 else ''} joined"] if rest else []
    head = f":cyclone: {len(texts)} group{'s' if len(texts) != 1 else ''} joined the storm:"
    return "\n".join([head, *shown, *more])


def storm_title(source: str) -> str:
    return f"alert storm from {source}"


def silent_title(source: str) -> str:
    return f"alerting from {source} is silent"


def silent(source: str, alertname: str, every: str) -> str:
    return (
        f":mute: The heartbeat *{escape(alertname)}* from *{escape(source)}* has not arrived "
        f"for two intervals of {every}: alerts from it may not be reaching Tocsin."
    )


def heartbeat_back(source: str) -> str:
    return f":loud_sound: The heartbeat from *{escape(source)}* is back."
