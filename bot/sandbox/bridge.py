"""The app bridge: a person (or a test) acts in the sandbox and the bot hears it as from Slack.

`AppBridge` turns "alice types /incident declare…", "bob clicks Acknowledge" or "carol submits
the modal" into the signed requests Slack would send to the bot's request URL (through the
`Driver`), then applies the bot's HTTP answer with Slack's semantics (`replies`). Each request
carries a `response_url` under `/sandbox/respond/<token>` that this bridge serves.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.sandbox import events, payloads, replies, view_state
from bot.sandbox.driver import Driver
from bot.sandbox.params import JsonDict, SlackError
from bot.sandbox.payloads import Workspace
from bot.sandbox.replies import Origin
from bot.sandbox.shapes import message_obj, view_obj
from bot.sandbox.state import Store, ViewRecord
from bot.sandbox.wire import Result
from bot.sandbox.workspace import WorkspaceSpec

if TYPE_CHECKING:
    from bot.sandbox.emulator import Emulator


class BridgeError(Exception):
    """The bridge cannot act: no app is configured, or the request names nothing real."""


def payload_workspace(spec: WorkspaceSpec) -> Workspace:
    """The driver's `Workspace` for the emulator's loaded workspace (same team, bot and app)."""
    return Workspace(
        team_id=spec.team.id,
        team_domain=spec.team.domain,
        api_app_id=spec.bot.app_id,
        bot_user_id=spec.bot.user_id,
        bot_id=spec.bot.bot_id,
    )


def _result(result: Result, outcome: str, **extra: Any) -> JsonDict:
    return {
        "ok": result.ok,
        "status": result.status,
        "response": result.json if result.json is not None else result.text,
        "outcome": outcome,
        **extra,
    }


class AppBridge:
    """Sends the sandbox's user actions to the bot at `app_url`, signed with `signing_secret`."""

    def __init__(
        self, emulator: Emulator, app_url: str | None = None, signing_secret: str | None = None
    ) -> None:
        self.emulator = emulator
        self.store: Store = emulator.store
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.view_errors: dict[str, JsonDict] = {}
        self._origins: dict[str, Origin] = {}

    @property
    def workspace(self) -> Workspace:
        return payload_workspace(self.store.spec)

    def driver(self) -> Driver:
        """A Driver aimed at the app, with the emulator's ids, names and trigger ids."""
        if not self.app_url or not self.signing_secret:
            raise BridgeError(
                "no app to send to: pass Emulator(app_url=..., signing_secret=...) "
                "or run `tocsin sandbox` with the bot's request URL and signing secret"
            )
        return Driver(
            self.app_url,
            self.signing_secret,
            workspace=self.workspace,
            mint_trigger_id=self.emulator.mint_trigger_id,
            response_url_base=self.emulator.root_url + "sandbox/respond",
            user_names={u.id: u.name for u in self.store.users.values()},
        )

    # response URLs ------------------------------------------------------------------

    def response_url(self, origin: Origin) -> str:
        token = secrets.token_urlsafe(18)
        origin.minted = time.time()
        with self.store.lock:
            self._origins[token] = origin
        return f"{self.emulator.root_url}sandbox/respond/{token}"

    def respond(self, token: str, body: JsonDict) -> str:
        """A POST to a response_url: apply it as Slack would; what happened."""
        with self.store.lock:
            origin = self._origins.get(token)
            if origin is None:
                raise KeyError(token)
            replies.use_response_url(origin, time.time())
            return replies.apply_message_response(self.store, origin, body)

    # acts ------------------------------------------------------------------------------

    def _names(self, user: str, channel_ref: str) -> tuple[str, str, str]:
        with self.store.lock:
            name = self.store.user(user).name
            channel = self.store.channel(channel_ref)
            return name, channel.id, "directmessage" if channel.is_im else channel.name

    def slash(self, user: str, text: str, channel: str, command: str = "/incident") -> JsonDict:
        """Run `command text` as `user` in `channel`; the answer is shown as Slack shows it."""
        driver = self.driver()
        user_name, channel_id, channel_name = self._names(user, channel)
        origin = Origin(user=user, channel=channel_id)
        fields = payloads.slash_command(
            driver.workspace,
            user_id=user,
            user_name=user_name,
            channel_id=channel_id,
            channel_name=channel_name,
            command=command,
            text=text,
            trigger_id=self.emulator.mint_trigger_id(user),
            response_url=self.response_url(origin),
        )
        try:
            result = driver.post("command", fields)
        except OSError:  # Slack's words when the request URL does not answer
            replies.add_ephemeral(self.store, origin, f"{command} failed: dispatch_failed")
            raise
        if not result.ok:
            error = f"{command} failed with the error http_{result.status}"
            replies.add_ephemeral(self.store, origin, error)
            return _result(result, "failed")
        body = replies.parse_body(result.text, result.json)
        if body is None:
            return _result(result, "acked")
        return _result(result, replies.apply_message_response(self.store, origin, body))

    def click(
        self,
        user: str,
        action_id: str,
        *,
        channel: str | None = None,
        ts: str | None = None,
        view_id: str | None = None,
        value: str | None = None,
        values: Mapping[str, object] | None = None,
    ) -> JsonDict:
        """Click `action_id` on a message (channel + ts) or in an open modal (view_id)."""
        driver = self.driver()
        if view_id is not None:
            payload = self._view_action(driver, user, view_id, action_id, value, values or {})
        elif channel is not None and ts is not None:
            payload = self._message_action(driver, user, channel, ts, action_id, value)
        else:
            raise BridgeError("click needs channel and ts (a message) or view_id (a modal)")
        return _result(driver.post("interactive", payload), "sent")

    def _message_action(
        self, driver: Driver, user: str, channel: str, ts: str, action_id: str, value: str | None
    ) -> JsonDict:
        user_name, channel_id, channel_name = self._names(user, channel)
        with self.store.lock:
            stored = self.store.messages.get((channel_id, ts))
            if stored is not None:
                message = message_obj(self.store, stored, "history")
                origin = Origin(user, channel_id, ts, stored.thread_ts)
            else:
                entry = replies_ephemeral(self.store, user, channel_id, ts)
                message = {"type": "message", "ts": ts, "text": entry["text"]}
                message["blocks"] = entry["blocks"] or []
                origin = Origin(user, channel_id, ts, entry["thread_ts"], ephemeral=True)
        payload = payloads.block_actions(
            driver.workspace,
            user_id=user,
            user_name=user_name,
            channel_id=channel_id,
            channel_name=channel_name,
            message=message,
            action_id=action_id,
            action_ts=f"{time.time():.6f}",
            trigger_id=self.emulator.mint_trigger_id(user),
            value=value,
            response_url=self.response_url(origin),
        )
        if origin.ephemeral:
            payload["container"]["is_ephemeral"] = True
            del payload["message"]  # Slack does not echo ephemeral messages
        _, element = view_state.find_element(message.get("blocks") or [], action_id)
        _choose(payload["actions"][0], element, value)
        return payload

    def _view(self, user: str, view_id: str) -> tuple[ViewRecord, JsonDict]:
        with self.store.lock:
            record = self.store.views.get(view_id)
            if record is None or record.closed or record.user != user:
                raise KeyError(view_id)
            return record, view_obj(self.store, record)

    def _view_action(
        self,
        driver: Driver,
        user: str,
        view_id: str,
        action_id: str,
        value: str | None,
        values: Mapping[str, object],
    ) -> JsonDict:
        _, view = self._view(user, view_id)
        base = payloads.view_submission(
            driver.workspace,
            user_id=user,
            user_name=self.store.user(user).name,
            view=view,
            values=values,
            trigger_id=self.emulator.mint_trigger_id(user),
        )
        block_id, element = view_state.find_element(view.get("blocks", []), action_id)
        action: JsonDict = {"action_id": action_id, "block_id": block_id}
        action |= {"type": element.get("type", "button"), "action_ts": f"{time.time():.6f}"}
        if "text" in element:
            action["text"] = element["text"]
        action["value"] = value if value is not None else element.get("value", "")
        _choose(action, element, value)
        payload: JsonDict = {"type": "block_actions"}
        payload["container"] = {"type": "view", "view_id": view_id}
        keep = ("user", "api_app_id", "token", "trigger_id", "team", "enterprise", "view")
        payload |= {key: base[key] for key in keep}
        payload |= {"is_enterprise_install": False, "actions": [action]}
        return payload

    def submit(self, user: str, view_id: str, values: Mapping[str, object]) -> JsonDict:
        """Submit the modal with `values` (by action id); apply the bot's view response."""
        driver = self.driver()
        record, view = self._view(user, view_id)
        result = driver.submit_view(user, view, values)
        if not result.ok:  # Slack keeps the modal open and says it could not reach the app
            self.view_errors[view_id] = {"": f"The app did not answer (HTTP {result.status})"}
            return _result(result, "failed")
        body = replies.parse_body(result.text, result.json)
        outcome = replies.apply_view_response(self.store, record, body, self.view_errors)
        return _result(result, outcome, errors=self.view_errors.get(view_id, {}))

    def home_opened(self, user: str) -> JsonDict:
        """`user` opens the app's Home tab: Slack sends `app_home_opened` with the view shown."""
        driver = self.driver()
        with self.store.lock:
            channel = self.store.open_dm(self.store.user(user).id, self.store.spec.bot.user_id)
            home = self.store.views.get(self.store.home_views.get(user, ""))
            view = None if home is None else view_obj(self.store, home)
        event = events.app_home_opened_event(
            user_id=user, channel_id=channel.id, event_ts=f"{time.time():.6f}", view=view
        )
        return _result(driver.event(event), "sent")

    def close(self, user: str, view_id: str) -> JsonDict:
        """Close the modal with its Cancel button; the app hears of it if it asked to."""
        record, view = self._view(user, view_id)
        self.emulator.close_view(record.root_view_id if view["clear_on_close"] else view_id)
        self.view_errors.pop(view_id, None)
        if not view["notify_on_close"] or not self.app_url:
            return {"ok": True, "outcome": "closed"}
        result = self.driver().close_view(user, view, is_cleared=bool(view["clear_on_close"]))
        return _result(result, "closed")


def replies_ephemeral(store: Store, user: str, channel: str, ts: str) -> JsonDict:
    """The ephemeral message `ts` shown to `user` in `channel`; KeyError if there is none."""
    for entry in store.ephemerals:
        if entry["ts"] == ts and entry["user"] == user and entry["channel"] == channel:
            return entry
    raise KeyError(f"{channel}/{ts}")


def _choose(action: JsonDict, element: Mapping[str, Any], value: str | None) -> None:
    """Shape a select's action as Slack does (`selected_option` and kin, no `value`)."""
    kind = element.get("type", "button")
    if kind == "button" or value is None:
        return
    action.pop("value", None)
    if kind == "overflow":
        options = element.get("options", [])
        chosen = next((o for o in options if o.get("value") == value), None)
        if chosen is None:
            raise SlackError("invalid_arguments")
        action["selected_option"] = chosen
        return
    try:
        state = view_state.element_state(element, value)
    except TypeError:  # a multi-select: one chosen value is a list of one
        state = view_state.element_state(element, [value])
    action.update({k: v for k, v in state.items() if k != "type"})
