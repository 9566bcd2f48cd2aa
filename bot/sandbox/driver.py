"""A driver that does what Slack users do (slash commands, clicks, view submissions,
shortcuts, events) as requests to the bot's request URL, exactly as Slack sends them.

It mints the ids, timestamps and response URLs Slack would, builds the payloads
(bot.sandbox.payloads, bot.sandbox.events) and sends them signed over the wire
(bot.sandbox.wire: signatures, retries, replays, tampering).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from bot.sandbox import events, payloads
from bot.sandbox.payloads import Workspace
from bot.sandbox.wire import Kind, Result, Sent, Tamper, Wire


def random_trigger_id(user_id: str) -> str:
    """A trigger id shaped like Slack's (`digits.digits.hex`), unknown to any emulator."""
    del user_id
    return (
        f"{secrets.randbelow(10**11):011d}.{secrets.randbelow(10**12):012d}.{secrets.token_hex(16)}"
    )


class Driver:
    """Sends signed Slack requests to one request URL and returns what the bot answered."""

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        workspace: Workspace | None = None,
        mint_trigger_id: Callable[[str], str] | None = None,
        response_url_base: str | None = None,
        user_names: Mapping[str, str] | None = None,
        channel_names: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = base_url
        self.workspace = workspace or Workspace()
        self._mint_trigger_id = mint_trigger_id or random_trigger_id
        self._response_url_base = response_url_base.rstrip("/") if response_url_base else None
        self._user_names = dict(user_names or {})
        self._channel_names = dict(channel_names or {})
        self._clock = clock
        self._last_ts = 0.0
        self.wire = Wire(base_url, signing_secret, timeout=timeout, clock=clock)

    # -- slash commands and interactivity --------------------------------------------

    def slash(
        self,
        user_id: str,
        text: str,
        *,
        channel_id: str = "C0INCIDENTS",
        command: str = "/incident",
        tamper: Tamper | None = None,
    ) -> Result:
        """Run `command text` as `user_id` in `channel_id`."""
        fields = payloads.slash_command(
            self.workspace,
            user_id=user_id,
            user_name=self._user_name(user_id),
            channel_id=channel_id,
            channel_name=self._channel_name(channel_id),
            command=command,
            text=text,
            trigger_id=self._mint_trigger_id(user_id),
            response_url=self._response_url("commands"),
        )
        return self.post("command", fields, tamper=tamper)

    def click(
        self,
        user_id: str,
        message: Mapping[str, Any],
        action_id: str,
        *,
        value: str | None = None,
        channel_id: str | None = None,
        tamper: Tamper | None = None,
    ) -> Result:
        """Click the button `action_id` on `message` (as posted; `channel_id` if it lacks one)."""
        channel = channel_id or message.get("channel")
        if not channel:
            raise ValueError("click() needs channel_id: the message does not say its channel")
        payload = payloads.block_actions(
            self.workspace,
            user_id=user_id,
            user_name=self._user_name(user_id),
            channel_id=channel,
            channel_name=self._channel_name(channel),
            message=message,
            action_id=action_id,
            value=value,
            action_ts=self._new_ts(),
            trigger_id=self._mint_trigger_id(user_id),
            response_url=self._response_url("actions"),
        )
        return self.post("interactive", payload, tamper=tamper)

    def click_view(self, user_id: str, view: Mapping[str, Any], action_id: str) -> Result:
        """Click the button `action_id` in the published `view` (the App Home, with its id)."""
        payload = payloads.view_block_actions(
            self.workspace,
            user_id=user_id,
            user_name=self._user_name(user_id),
            view=view,
            action_id=action_id,
            action_ts=self._new_ts(),
            trigger_id=self._mint_trigger_id(user_id),
        )
        return self.post("interactive", payload)

    def submit_view(
        self,
        user_id: str,
        view: Mapping[str, Any],
        values: Mapping[str, object],
        *,
        tamper: Tamper | None = None,
    ) -> Result:
        """Submit the modal `view` (as opened) with `values` keyed by action id."""
        payload = payloads.view_submission(
            self.workspace,
            user_id=user_id,
            user_name=self._user_name(user_id),
            view=view,
            values=values,
            trigger_id=self._mint_trigger_id(user_id),
        )
        return self.post("interactive", payload, tamper=tamper)

    def close_view(
        self, user_id: str, view: Mapping[str, Any], *, is_cleared: bool = False
    ) -> Result:
        """Close the modal `view` with its Cancel button (or clear the whole stack)."""
        payload = payloads.view_closed(
            self.workspace,
            user_id=user_id,
            user_name=self._user_name(user_id),
            view=view,
            is_cleared=is_cleared,
        )
        return self.post("interactive", payload)

    def shortcut(
        self, user_id: str, message: Mapping[str, Any], callback_id: str, *, channel_id: str
    ) -> Result:
        """Run the message shortcut `callback_id` on `message` in `channel_id`."""
        payload = payloads.message_shortcut(
            self.workspace,
            user_id=user_id,
            user_name=self._user_name(user_id),
            channel_id=channel_id,
            channel_name=self._channel_name(channel_id),
            callback_id=callback_id,
            message=message,
            action_ts=self._new_ts(),
            trigger_id=self._mint_trigger_id(user_id),
            response_url=self._response_url("actions"),
        )
        return self.post("interactive", payload)

    # -- Events API --------------------------------------------------------------------

    def event(self, event: Mapping[str, Any], *, tamper: Tamper | None = None) -> Result:
        """Deliver `event` (see the `bot.sandbox.events` builders) in an `event_callback`."""
        envelope = events.event_callback(
            self.workspace,
            event,
            event_id="Ev" + secrets.token_hex(5).upper(),
            event_time=int(self._clock()),
        )
        return self.post("event", envelope, tamper=tamper)

    def mention(
        self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None
    ) -> Result:
        """`user_id` mentions the bot: `text` is prefixed with `<@bot>` as Slack renders it."""
        mention = f"<@{self.workspace.bot_user_id}> {text}"
        return self.event(
            events.app_mention_event(
                self.workspace,
                user_id=user_id,
                channel_id=channel_id,
                text=mention,
                ts=self._new_ts(),
                client_msg_id=str(uuid.uuid4()),
                thread_ts=thread_ts,
            )
        )

    def message(
        self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None
    ) -> Result:
        """`user_id` posts `text` in `channel_id` (in the thread `thread_ts` if given)."""
        return self.event(
            events.message_event(
                self.workspace,
                user_id=user_id,
                channel_id=channel_id,
                text=text,
                ts=self._new_ts(),
                client_msg_id=str(uuid.uuid4()),
                thread_ts=thread_ts,
                channel_type="im" if channel_id.startswith("D") else "channel",
            )
        )

    def member_joined(self, user_id: str, channel_id: str, *, inviter: str | None = None) -> Result:
        """`user_id` joins `channel_id` (invited by `inviter`, if given)."""
        return self.event(
            events.member_joined_channel_event(
                self.workspace,
                user_id=user_id,
                channel_id=channel_id,
                event_ts=self._new_ts(),
                inviter=inviter,
            )
        )

    def app_home_opened(self, user_id: str, channel_id: str, *, tab: str = "home") -> Result:
        """`user_id` opens the app's Home tab (`channel_id` is their DM with the app)."""
        event = events.app_home_opened_event(
            user_id=user_id, channel_id=channel_id, event_ts=self._new_ts(), tab=tab
        )
        return self.event(event)

    def url_verification(self, challenge: str | None = None) -> Result:
        """The handshake Slack sends when the request URL is saved."""
        challenge = challenge or secrets.token_urlsafe(24)
        return self.post("event", events.url_verification(self.workspace, challenge))

    # -- sending, retries and replays -----------------------------------------------

    def post(
        self, kind: Kind, payload: Mapping[str, Any], *, tamper: Tamper | None = None
    ) -> Result:
        """Encode `payload` as Slack does for `kind`, sign it, and POST it."""
        return self.wire.post(kind, payload, tamper=tamper)

    def retry(self, earlier: Result | Sent, num: int = 1, reason: str = "http_timeout") -> Result:
        """Slack's retry `num` of an earlier request: same body, new timestamp and signature."""
        return self.wire.retry(earlier, num, reason)

    def replay(self, earlier: Result | Sent) -> Result:
        """Re-send an earlier request byte for byte, old timestamp and signature included."""
        return self.wire.replay(earlier)

    # -- ids and names -------------------------------------------------------------

    def _new_ts(self) -> str:
        """A message-style timestamp (`seconds.micros`), strictly increasing per driver."""
        self._last_ts = max(self._clock(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _response_url(self, kind: str) -> str | None:
        if self._response_url_base is None:
            return None
        serial, token = secrets.randbelow(10**13), secrets.token_urlsafe(18)
        return f"{self._response_url_base}/{kind}/{self.workspace.team_id}/{serial}/{token}"

    def _user_name(self, user_id: str) -> str:
        return self._user_names.get(user_id, user_id.lower())

    def _channel_name(self, channel_id: str) -> str:
        if channel_id.startswith("D"):
            return "directmessage"
        return self._channel_names.get(channel_id, channel_id.lower())
