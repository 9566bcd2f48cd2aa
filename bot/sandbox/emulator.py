"""`Emulator`: a local Slack Web API on a free port, with fault injection and inspection.

    with Emulator() as slack:
        client = WebClient(token="xoxb-sandbox", base_url=slack.url)
        client.chat_postMessage(channel="C0INCIDENTS", text="hi")
        assert slack.transcript("incidents")[0]["text"] == "hi"

Everything a test wants to see is a Python method here and a GET under `/sandbox/...`.
The page at `/` shows the workspace; with `app_url` and `signing_secret` set, what a person
does there (or a test through `act_*`) reaches the bot as signed Slack requests (`bridge`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from bot.sandbox import admin, inspection, methods_chat, methods_views, page
from bot.sandbox.alerts import AlertButton
from bot.sandbox.api import USER_TOKEN_PREFIX, ApiEndpoint
from bot.sandbox.automation import AutomationReceiver
from bot.sandbox.bridge import AppBridge, payload_workspace
from bot.sandbox.driver import Driver
from bot.sandbox.faults import Faults, RateLimiter
from bot.sandbox.mailbox import Mailbox
from bot.sandbox.pagerduty import PagerDutyEmulator
from bot.sandbox.params import JsonDict, SlackError
from bot.sandbox.payloads import Workspace
from bot.sandbox.server import Router, SandboxHTTPServer
from bot.sandbox.state import Message, Store
from bot.sandbox.twilio import TwilioEmulator
from bot.sandbox.workspace import WorkspaceSpec, load_workspace

BOT_TOKEN = "xoxb-sandbox"  # noqa: S105 - fake tokens of the local sandbox
APP_TOKEN = "xapp-sandbox"  # noqa: S105
T = TypeVar("T")


class Emulator:
    """A local Slack Web API: `start()` it (or use `with`) and point a client at `.url`."""

    def __init__(
        self,
        workspace: Path | WorkspaceSpec | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_token: str = BOT_TOKEN,
        app_token: str = APP_TOKEN,
        rate_limits: bool = False,
        fault_seed: int = 0,
        trigger_ttl: float = 3.0,
        app_url: str | None = None,
        signing_secret: str | None = None,
    ) -> None:
        spec = workspace if isinstance(workspace, WorkspaceSpec) else load_workspace(workspace)
        self.store = Store(spec, trigger_ttl=trigger_ttl)
        self.faults = Faults(seed=fault_seed)
        self.limiter = RateLimiter(enabled=rate_limits)
        self.bot_token, self.app_token = bot_token, app_token
        self.host, self._port = host, port
        self.router = Router()
        self._stopping = threading.Event()
        self._server: SandboxHTTPServer | None = None
        self._ticker: threading.Thread | None = None
        self.api = api = ApiEndpoint(
            self.store,
            self.faults,
            self.limiter,
            self._stopping,
            bot_token=bot_token,
            app_token=app_token,
        )
        self.router.add("*", r"/api/(?P<method>[A-Za-z0-9_.]+)", api.handle)
        admin.register(self.router, self)
        self.automation = AutomationReceiver()  # runbooks' containment webhooks land here
        self.automation.register(self.router)
        self.mailbox = Mailbox(host)  # a real SMTP server: email pages land here
        self.mailbox.register(self.router, self._email_of)
        self.pagerduty = PagerDutyEmulator(fault_seed=fault_seed)  # under /pagerduty
        self.pagerduty.register(self.router)
        self.bridge = AppBridge(self, app_url, signing_secret)
        self.alert_button: AlertButton | None = None  # set by whoever knows the app's /alerts
        self.twilio = TwilioEmulator(stopping=self._stopping)  # Twilio's API under /twilio
        self.twilio.register(self.router)
        page.register(self.router, self)

    # lifecycle ------------------------------------------------------------------------

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = SandboxHTTPServer(self.host, self._port, self.router)
        self.store.public_url = self.root_url
        self._server.start_background()
        self.mailbox.start()
        self._ticker = threading.Thread(target=self._tick, name="sandbox-scheduler", daemon=True)
        self._ticker.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.mailbox.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._ticker is not None:
            self._ticker.join(timeout=2)
            self._ticker = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _tick(self) -> None:
        while not self._stopping.wait(0.1):
            methods_chat.deliver_due(self.store, time.time())

    def _email_of(self, user: str) -> str:
        known = self.store.users.get(user)
        return known.email if known is not None else ""

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not started; call start() first")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def url(self) -> str:
        """The Web API base URL, for `WebClient(base_url=...)`."""
        return self.root_url + "api/"

    def automation_url(self, name: str) -> str:
        """Where a containment webhook called `name` lands (see `automation`)."""
        return f"{self.root_url}automation/{name}"

    @property
    def pagerduty_url(self) -> str:
        """The local PagerDuty's Events API host (TOCSIN_PAGERDUTY_EVENTS_URL): events go to
        its `/v2/enqueue`."""
        return self.root_url + "pagerduty"

    @property
    def socket_mode_url(self) -> str | None:
        return self.store.socket_mode_url

    @socket_mode_url.setter
    def socket_mode_url(self, value: str | None) -> None:
        self.store.socket_mode_url = value

    @property
    def server_errors(self) -> list[str]:
        """Exceptions the emulator itself raised while answering (should stay empty)."""
        return list(self._server.errors) if self._server is not None else []

    @property
    def dropped_connections(self) -> int:
        """Requests whose client hung up before the answer was written (a closed browser tab)."""
        return self._server.dropped if self._server is not None else 0

    # the bot under test ------------------------------------------------------------------

    @property
    def app_url(self) -> str | None:
        """The bot's request URL: where slash commands, clicks and submissions are sent."""
        return self.bridge.app_url

    @app_url.setter
    def app_url(self, value: str | None) -> None:
        self.bridge.app_url = value

    @property
    def signing_secret(self) -> str | None:
        return self.bridge.signing_secret

    @signing_secret.setter
    def signing_secret(self, value: str | None) -> None:
        self.bridge.signing_secret = value

    @property
    def payload_workspace(self) -> Workspace:
        """The driver's `Workspace` for this emulator's team, bot and app ids."""
        return payload_workspace(self.store.spec)

    def driver(self) -> Driver:
        """A Driver to the app (needs `app_url` and `signing_secret`), minting trigger ids here."""
        return self.bridge.driver()

    def act_slash(
        self, user: str, text: str, *, channel: str = "C0INCIDENTS", command: str = "/incident"
    ) -> JsonDict:
        """`user` runs `command text` in `channel`; the bot's answer is applied as Slack would."""
        return self.bridge.slash(user, text, channel, command)

    def act_click(
        self,
        user: str,
        action_id: str,
        *,
        channel: str | None = None,
        ts: str | None = None,
        view_id: str | None = None,
        value: str | None = None,
    ) -> JsonDict:
        """`user` clicks `action_id` on the message (channel, ts) or in the modal `view_id`."""
        return self.bridge.click(
            user, action_id, channel=channel, ts=ts, view_id=view_id, value=value
        )

    def act_submit(self, user: str, view_id: str, values: dict[str, object]) -> JsonDict:
        """`user` submits the modal with `values` by action id; see `view_errors` after."""
        return self.bridge.submit(user, view_id, values)

    def act_close(self, user: str, view_id: str) -> JsonDict:
        """`user` closes the modal with Cancel (view_closed is sent if the view asked)."""
        return self.bridge.close(user, view_id)

    def view_errors(self, view_id: str) -> JsonDict:
        """The per-block errors the bot answered the last submission of `view_id` with."""
        return dict(self.bridge.view_errors.get(view_id, {}))

    # test hooks -----------------------------------------------------------------------

    def mint_trigger_id(self, user_id: str) -> str:
        """A trigger id as an interaction payload carries: valid once, for `trigger_ttl` s."""
        return methods_views.mint_trigger_id(self.store, user_id)

    def user_token(self, user_id: str) -> str:
        """A token that acts as a human user (to post as alice from a test or the demo)."""
        self.store.user(user_id)
        return USER_TOKEN_PREFIX + user_id

    def post_as_user(
        self, user_id: str, channel: str, text: str, thread_ts: str | None = None
    ) -> JsonDict:
        """Post a human's message straight into the store; returns `{"channel", "ts"}`."""
        with self.store.lock:
            self.store.user(user_id)
            target = methods_chat.target_channel(self.store, channel, user_id)
            if thread_ts is not None:
                self.store.message(target.id, thread_ts)
            message = Message(
                channel=target.id,
                ts=self.store.next_ts(),
                user=user_id,
                text=text,
                thread_ts=thread_ts,
            )
            self.store.add_message(message)
            return {"channel": target.id, "ts": message.ts}

    def close_view(self, view_id: str) -> None:
        """Close a modal (and any pushed above it), as a submission or Cancel would."""
        methods_views.close_view(self.store, view_id)

    def receive_upload(self, file_id: str, content: bytes) -> bool:
        with self.store.lock:
            record = self.store.files.get(file_id)
            if record is None:
                return False
            record.content, record.length = content, len(content)
            return True

    # inspection -----------------------------------------------------------------------

    def calls(self, method: str | None = None, since: int = 0) -> list[JsonDict]:
        return inspection.calls(self.store, method, since)

    def channels(self, *, include_ims: bool = False) -> list[JsonDict]:
        return inspection.channels(self.store, include_ims=include_ims)

    def channel(self, ref: str) -> JsonDict:
        with self.store.lock:
            return inspection.channel_summary(self.store, inspection.find_channel(self.store, ref))

    def transcript(self, ref: str) -> list[JsonDict]:
        return inspection.transcript(self.store, ref)

    def dms(self, user: str | None = None) -> dict[str, list[JsonDict]]:
        return inspection.dms(self.store, user)

    def pins(self, ref: str) -> list[JsonDict]:
        return inspection.pins(self.store, ref)

    def bookmarks(self, ref: str) -> list[JsonDict]:
        return inspection.bookmarks(self.store, ref)

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[JsonDict]:
        return inspection.ephemerals(self.store, user, channel)

    def driver_responses(self) -> list[JsonDict]:
        """What the app POSTed to response_urls a Driver minted, oldest first."""
        with self.store.lock:
            return list(self.store.driver_responses)

    def views(self, user: str | None = None) -> list[JsonDict]:
        return inspection.views(self.store, user)

    def scheduled(self) -> list[JsonDict]:
        return inspection.scheduled(self.store)

    def workspace(self) -> JsonDict:
        return inspection.workspace(self.store)

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.02
    ) -> T:
        """Poll `predicate` until it returns something truthy; that value, or TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(KeyError, IndexError, SlackError):
                value = predicate()
                if value:
                    return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            time.sleep(interval)
