"""Parse Slack payloads at the edge into typed values; listeners never index `body[...]`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Requester:
    """Who any request (command, click, submission, event) comes from, for the logs."""

    user_id: str | None
    team_id: str | None


@dataclass(frozen=True)
class Slash:
    user_id: str
    channel_id: str
    text: str
    trigger_id: str
    team_id: str = ""


@dataclass(frozen=True)
class Click:
    user_id: str
    action_id: str
    value: str
    trigger_id: str
    action_ts: str
    channel_id: str | None
    message_ts: str | None
    in_dm: bool


@dataclass(frozen=True)
class Submission:
    user_id: str
    callback_id: str
    view_id: str
    private_metadata: str
    values: dict[str, Any] = field(default_factory=dict)  # action_id -> value

    def text(self, action_id: str) -> str:
        value = self.values.get(action_id)
        return value.strip() if isinstance(value, str) else ""

    def choice(self, action_id: str) -> str | None:
        value = self.values.get(action_id)
        return value if isinstance(value, str) and value else None

    def checked(self, action_id: str) -> list[str]:
        value = self.values.get(action_id)
        return list(value) if isinstance(value, list) else []


def _get(data: Mapping[str, Any] | None, *path: str) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def requester(body: Mapping[str, Any]) -> Requester:
    user = body.get("user_id") or _get(body, "user", "id") or _get(body, "event", "user")
    team = body.get("team_id") or _get(body, "team", "id")
    return Requester(user_id=user, team_id=team)


def slash(body: Mapping[str, Any]) -> Slash:
    return Slash(
        user_id=str(body.get("user_id", "")),
        channel_id=str(body.get("channel_id", "")),
        text=str(body.get("text", "")),
        trigger_id=str(body.get("trigger_id", "")),
        team_id=str(body.get("team_id", "")),
    )


def click(body: Mapping[str, Any]) -> Click:
    actions = body.get("actions") or [{}]
    action = actions[0] if isinstance(actions, list) and actions else {}
    channel = _get(body, "channel", "id") or _get(body, "container", "channel_id")
    return Click(
        user_id=str(_get(body, "user", "id") or ""),
        action_id=str(action.get("action_id", "")),
        value=str(action.get("value", "")),
        trigger_id=str(body.get("trigger_id", "")),
        action_ts=str(action.get("action_ts", "")),
        channel_id=channel,
        message_ts=_get(body, "container", "message_ts") or _get(body, "message", "ts"),
        in_dm=str(channel or "").startswith("D"),
    )


def _element_value(element: Mapping[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons", "external_select"):
        return _get(element, "selected_option", "value")
    if kind == "checkboxes" or kind == "multi_static_select":
        return [o.get("value") for o in element.get("selected_options") or []]
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "multi_users_select":
        return list(element.get("selected_users") or [])
    if kind == "number_input":
        return element.get("value")
    return element.get("value")


def submission(body: Mapping[str, Any]) -> Submission:
    view = body.get("view") or {}
    values: dict[str, Any] = {}
    for block in (_get(view, "state", "values") or {}).values():
        for action_id, element in (block or {}).items():
            values[action_id] = _element_value(element or {})
    return Submission(
        user_id=str(_get(body, "user", "id") or ""),
        callback_id=str(view.get("callback_id", "")),
        view_id=str(view.get("id", "")),
        private_metadata=str(view.get("private_metadata", "")),
        values=values,
    )
