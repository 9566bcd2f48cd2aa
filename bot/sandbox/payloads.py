"""Pure builders of the payloads Slack sends to an app, shaped like the reference samples.

Every builder takes the ids, timestamps and URLs it needs as arguments (the driver mints
them), so the same inputs always give the same payload. Keys follow
`tests/fixtures/slack-reference/payloads/*.json` and `.../events/*.json`: nothing Slack would
not send, and every key Bolt reads to route a request and fill its `context`. Here: slash
commands and interactivity; events are in bot.sandbox.events, the elements' state in
bot.sandbox.view_state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.sandbox.view_state import JSON, find_element, state_values

# Message keys Slack echoes back inside block_actions / message_action payloads.
_ECHOED_MESSAGE_KEYS = tuple(
    [
        "type",
        "subtype",
        "team",
        "channel",
        "user",
        "username",
        "text",
        "blocks",
        "ts",
        "thread_ts",
        "parent_user_id",
        "app_id",
        "bot_id",
        "edited",
    ]
)
_BOT_PROFILE_KEYS = ("id", "deleted", "name", "updated", "app_id", "icons", "team_id")
VIEW_KEYS = tuple(
    [
        "id",
        "team_id",
        "type",
        "title",
        "submit",
        "close",
        "private_metadata",
        "callback_id",
        "external_id",
        "hash",
        "clear_on_close",
        "notify_on_close",
        "root_view_id",
        "previous_view_id",
        "app_id",
        "app_installed_team_id",
        "bot_id",
    ]
)


@dataclass(frozen=True)
class Workspace:
    """The team and app every payload is addressed from and to."""

    team_id: str = "T0SANDBOX"  # the defaults match bot/sandbox/workspace.yaml
    team_domain: str = "tocsin-sandbox"
    api_app_id: str = "A0TOCSIN1"
    bot_user_id: str = "U0TOCSIN1"
    bot_id: str = "B0TOCSIN1"
    verification_token: str = "sandbox-verification-token"  # noqa: S105  (a fake, public value)


def _user(ws: Workspace, user_id: str, user_name: str) -> JSON:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": ws.team_id}


def _team(ws: Workspace) -> JSON:
    return {"id": ws.team_id, "domain": ws.team_domain}


def slash_command(
    ws: Workspace,
    *,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    command: str,
    text: str,
    trigger_id: str,
    response_url: str | None = None,
) -> dict[str, str]:
    """The form fields of a slash command invocation (all values are strings on the wire)."""
    fields = {
        "token": ws.verification_token,
        "team_id": ws.team_id,
        "team_domain": ws.team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": ws.api_app_id,
        "is_enterprise_install": "false",
        "trigger_id": trigger_id,
    }
    if response_url is not None:
        fields["response_url"] = response_url
    return fields


def echoed_message(message: Mapping[str, Any]) -> JSON:
    """The part of a posted message that Slack repeats inside an interaction payload."""
    echoed = {k: message[k] for k in _ECHOED_MESSAGE_KEYS if k in message}
    echoed.setdefault("type", "message")
    profile = message.get("bot_profile")
    if isinstance(profile, Mapping):
        echoed["bot_profile"] = {k: profile[k] for k in _BOT_PROFILE_KEYS if k in profile}
    return echoed


def block_actions(
    ws: Workspace,
    *,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    message: Mapping[str, Any],
    action_id: str,
    action_ts: str,
    trigger_id: str,
    value: str | None = None,
    response_url: str | None = None,
) -> JSON:
    """A `block_actions` payload for a button click on `message` (a posted message)."""
    block_id, element = find_element(message.get("blocks", ()), action_id)
    action: JSON = {"action_id": action_id, "block_id": block_id}
    if "text" in element:
        action["text"] = element["text"]
    action["value"] = value if value is not None else element.get("value", "")
    action["type"] = element.get("type", "button")
    if "style" in element:
        action["style"] = element["style"]
    action["action_ts"] = action_ts
    container: JSON = {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    if "thread_ts" in message:
        container["thread_ts"] = message["thread_ts"]
    payload: JSON = {
        "type": "block_actions",
        "user": _user(ws, user_id, user_name),
        "api_app_id": ws.api_app_id,
        "token": ws.verification_token,
        "container": container,
        "trigger_id": trigger_id,
        "team": _team(ws),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "message": echoed_message(message),
        "state": {"values": {}},
        "actions": [action],
    }
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def view_block_actions(
    ws: Workspace,
    *,
    user_id: str,
    user_name: str,
    view: Mapping[str, Any],
    action_id: str,
    action_ts: str,
    trigger_id: str,
) -> JSON:
    """A `block_actions` payload for a button click in a published view (the App Home)."""
    block_id, element = find_element(view.get("blocks", ()), action_id)
    action: JSON = {
        "action_id": action_id,
        "block_id": block_id,
        "text": element.get("text", {}),
        "value": element.get("value", ""),
        "type": element.get("type", "button"),
        "action_ts": action_ts,
    }
    return {
        "type": "block_actions",
        "user": _user(ws, user_id, user_name),
        "api_app_id": ws.api_app_id,
        "token": ws.verification_token,
        "container": {"type": "view", "view_id": view.get("id", "")},
        "trigger_id": trigger_id,
        "team": _team(ws),
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view_payload(ws, view, {}) | {"type": view.get("type", "home")},
        "actions": [action],
    }


def view_payload(ws: Workspace, view: Mapping[str, Any], state: JSON) -> JSON:
    """The `view` object Slack puts in view_submission / view_closed payloads."""
    out: JSON = {k: view[k] for k in VIEW_KEYS if k in view}
    out.setdefault("team_id", ws.team_id)
    out.setdefault("type", "modal")
    out.setdefault("private_metadata", "")
    out.setdefault("callback_id", "")
    out.setdefault("app_id", ws.api_app_id)
    out.setdefault("bot_id", ws.bot_id)
    out["state"] = {"values": state}
    return out


def view_submission(
    ws: Workspace,
    *,
    user_id: str,
    user_name: str,
    view: Mapping[str, Any],
    values: Mapping[str, object],
    trigger_id: str,
) -> JSON:
    """A `view_submission` payload for `view` (as opened) filled in with `values`."""
    return {
        "type": "view_submission",
        "team": _team(ws),
        "user": _user(ws, user_id, user_name),
        "api_app_id": ws.api_app_id,
        "token": ws.verification_token,
        "trigger_id": trigger_id,
        "view": view_payload(ws, view, state_values(view, values)),
        "enterprise": None,
        "is_enterprise_install": False,
    }


def view_closed(
    ws: Workspace, *, user_id: str, user_name: str, view: Mapping[str, Any], is_cleared: bool
) -> JSON:
    """A `view_closed` payload (sent only for views opened with `notify_on_close`)."""
    return {
        "type": "view_closed",
        "team": _team(ws),
        "user": _user(ws, user_id, user_name),
        "api_app_id": ws.api_app_id,
        "token": ws.verification_token,
        "view": view_payload(ws, view, state_values(view, {})),
        "is_cleared": is_cleared,
        "enterprise": None,
        "is_enterprise_install": False,
    }


def message_shortcut(
    ws: Workspace,
    *,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    callback_id: str,
    message: Mapping[str, Any],
    action_ts: str,
    trigger_id: str,
    response_url: str | None = None,
) -> JSON:
    """A `message_action` payload: a message shortcut run on `message`."""
    payload: JSON = {
        "type": "message_action",
        "token": ws.verification_token,
        "action_ts": action_ts,
        "team": _team(ws),
        "user": {"id": user_id, "name": user_name, "team_id": ws.team_id},
        "channel": {"id": channel_id, "name": channel_name},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "message_ts": message["ts"],
        "message": echoed_message(message),
    }
    if response_url is not None:
        payload["response_url"] = response_url
    return payload
