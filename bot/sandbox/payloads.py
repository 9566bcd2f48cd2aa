"""Pure builders of the payloads Slack sends to an app, shaped like the reference samples.

Every builder takes the ids, timestamps and URLs it needs as arguments (the driver mints
them), so the same inputs always give the same payload. Keys follow
`tests/fixtures/slack-reference/payloads/*.json` and `.../events/*.json`: nothing Slack would
not send, and every key Bolt reads to route a request and fill its `context`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

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
_VIEW_KEYS = tuple(
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
# Stateful element type -> (state key, initial key, holds a list, values are options).
_STATE_KEYS: dict[str, tuple[str, str, bool, bool]] = {
    "plain_text_input": ("value", "initial_value", False, False),
    "number_input": ("value", "initial_value", False, False),
    "email_text_input": ("value", "initial_value", False, False),
    "url_text_input": ("value", "initial_value", False, False),
    "static_select": ("selected_option", "initial_option", False, True),
    "radio_buttons": ("selected_option", "initial_option", False, True),
    "checkboxes": ("selected_options", "initial_options", True, True),
    "multi_static_select": ("selected_options", "initial_options", True, True),
    "users_select": ("selected_user", "initial_user", False, False),
    "multi_users_select": ("selected_users", "initial_users", True, False),
    "conversations_select": ("selected_conversation", "initial_conversation", False, False),
    "channels_select": ("selected_channel", "initial_channel", False, False),
    "datepicker": ("selected_date", "initial_date", False, False),
    "timepicker": ("selected_time", "initial_time", False, False),
}


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


def _elements(block: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from block.get("elements", ())
    for key in ("accessory", "element"):
        if isinstance(block.get(key), Mapping):
            yield block[key]


def find_element(blocks: Sequence[Mapping[str, Any]], action_id: str) -> tuple[str, JSON]:
    """The `(block_id, element)` of the interactive element with `action_id`.

    Raises `LookupError` when no block holds it: a user cannot click what is not there.
    """
    for index, block in enumerate(blocks):
        for element in _elements(block):
            if element.get("action_id") == action_id:
                return str(block.get("block_id") or f"b{index}"), dict(element)
    raise LookupError(f"no element with action_id={action_id!r} in the given blocks")


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


def _option(element: Mapping[str, Any], value: object) -> JSON:
    options = list(element.get("options", ()))
    for group in element.get("option_groups", ()):
        options.extend(group.get("options", ()))
    for option in options:
        if option.get("value") == value:
            return dict(option)
    raise LookupError(f"{element.get('action_id')!r} has no option with value {value!r}")


def element_state(element: Mapping[str, Any], chosen: object = ...) -> JSON:
    """One element's entry in `view.state.values`; `...` means the user left it untouched."""
    kind = str(element["type"])
    state_key, initial_key, many, options = _STATE_KEYS[kind]
    selected: object
    if chosen is ...:
        selected = element.get(initial_key, [] if many else None)
    elif chosen is None:
        selected = [] if many else None
    elif many:
        if isinstance(chosen, str) or not isinstance(chosen, Sequence):
            raise TypeError(f"{element.get('action_id')!r} takes a list of values")
        selected = [_option(element, v) for v in chosen] if options else list(chosen)
    else:
        selected = _option(element, chosen) if options else chosen
    return {"type": kind, state_key: selected}


def state_values(view: Mapping[str, Any], values: Mapping[str, object]) -> JSON:
    """Slack's `view.state.values`: `{block_id: {action_id: state}}` for every input.

    `values` maps action ids to what the user entered: a string for text inputs, an option
    value for selects and radio buttons, a list of option values for checkboxes, a user id
    for users_select. Inputs not named keep their initial value, as in Slack.
    """
    state: JSON = {}
    seen: set[str] = set()
    for index, block in enumerate(view.get("blocks", ())):
        for element in _elements(block):
            action_id = element.get("action_id")
            if action_id is None or element.get("type") not in _STATE_KEYS:
                continue
            block_id = str(block.get("block_id") or f"b{index}")
            state.setdefault(block_id, {})[action_id] = element_state(
                element, values.get(action_id, ...)
            )
            seen.add(action_id)
    unknown = set(values) - seen
    if unknown:
        raise LookupError(f"view {view.get('callback_id')!r} has no input {sorted(unknown)}")
    return state


def view_payload(ws: Workspace, view: Mapping[str, Any], state: JSON) -> JSON:
    """The `view` object Slack puts in view_submission / view_closed payloads."""
    out: JSON = {k: view[k] for k in _VIEW_KEYS if k in view}
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
        event["view"] = {k: view[k] for k in (*_VIEW_KEYS, "state") if k in view}
    return event
