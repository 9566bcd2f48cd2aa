"""Pure builders of the Events API payloads Slack sends to an app (`event_callback`,
`url_verification`), shaped like `tests/fixtures/slack-reference/events/*.json`.

As in bot.sandbox.payloads, every builder takes the ids and timestamps it needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.sandbox.payloads import VIEW_KEYS, Workspace
from bot.sandbox.view_state import JSON


def event_callback(
    ws: Workspace, event: Mapping[str, Any], *, event_id: str, event_time: int
) -> JSON:
    """The Events API envelope around one `event`, as delivered to the request URL."""
    return {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "api_app_id": ws.api_app_id,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ws.team_id,
                "user_id": ws.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }


def url_verification(ws: Workspace, challenge: str) -> JSON:
    """The handshake Slack sends when a request URL is saved in the app settings."""
    return {"token": ws.verification_token, "challenge": challenge, "type": "url_verification"}


def _message_like(
    kind: str,
    ws: Workspace,
    user_id: str,
    channel_id: str,
    text: str,
    ts: str,
    thread_ts: str | None,
    client_msg_id: str,
) -> JSON:
    event: JSON = {
        "type": kind,
        "client_msg_id": client_msg_id,
        "user": user_id,
        "text": text,
        "team": ws.team_id,
        "channel": channel_id,
        "ts": ts,
        "event_ts": ts,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def app_mention_event(
    ws: Workspace,
    *,
    user_id: str,
    channel_id: str,
    text: str,
    ts: str,
    client_msg_id: str,
    thread_ts: str | None = None,
) -> JSON:
    """An `app_mention` event; `text` should contain `<@bot_user_id>` as Slack's does."""
    return _message_like("app_mention", ws, user_id, channel_id, text, ts, thread_ts, client_msg_id)


def message_event(
    ws: Workspace,
    *,
    user_id: str,
    channel_id: str,
    text: str,
    ts: str,
    client_msg_id: str,
    thread_ts: str | None = None,
    parent_user_id: str | None = None,
    channel_type: str = "channel",
) -> JSON:
    """A plain user `message` event (no subtype) in a channel, DM or thread."""
    event = _message_like("message", ws, user_id, channel_id, text, ts, thread_ts, client_msg_id)
    event["channel_type"] = channel_type
    if parent_user_id is not None:
        event["parent_user_id"] = parent_user_id
    return event


def member_joined_channel_event(
    ws: Workspace,
    *,
    user_id: str,
    channel_id: str,
    event_ts: str,
    inviter: str | None = None,
    channel_type: str = "C",
) -> JSON:
    """A `member_joined_channel` event (`channel_type` is "C" public or "G" private)."""
    event: JSON = {
        "type": "member_joined_channel",
        "user": user_id,
        "channel": channel_id,
        "channel_type": channel_type,
        "team": ws.team_id,
        "event_ts": event_ts,
    }
    if inviter is not None:
        event["inviter"] = inviter
    return event


def app_home_opened_event(
    *,
    user_id: str,
    channel_id: str,
    event_ts: str,
    tab: str = "home",
    view: Mapping[str, Any] | None = None,
) -> JSON:
    """An `app_home_opened` event; `view` is the published Home view, if any."""
    event: JSON = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel_id,
        "tab": tab,
        "event_ts": event_ts,
    }
    if view is not None:
        event["view"] = {k: view[k] for k in (*VIEW_KEYS, "state") if k in view}
    return event
