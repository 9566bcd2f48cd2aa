"""The Socket Mode hub against a real Bolt app on slack_sdk's builtin Socket Mode client.

The client asks the Web API for its WebSocket URL (`apps.connections.open`); a tiny
stdlib HTTP server answers that (and Bolt's `auth.test`) here until the emulator can.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bot.sandbox import events, payloads
from bot.sandbox.payloads import Workspace
from bot.sandbox.socket_hub import AckTimeout, SocketHub
from bot.sandbox.stack import wait_for

WS = Workspace()
MESSAGE: dict[str, Any] = {
    "type": "message",
    "ts": "1700000000.000100",
    "text": "SEV2",
    "blocks": [
        {
            "type": "actions",
            "block_id": "incident_actions",
            "elements": [{"type": "button", "action_id": "incident_ack", "value": "inc-1"}],
        }
    ],
}


def _stub_handler(hub: SocketHub) -> type[BaseHTTPRequestHandler]:
    class WebApiStub(BaseHTTPRequestHandler):
        """Answers `apps.connections.open` with the hub's URL and `auth.test` for the bot."""

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path.endswith("/apps.connections.open"):
                body: dict[str, Any] = {"ok": True, "url": hub.url}
            else:
                body = {"ok": True, "team_id": WS.team_id, "user_id": WS.bot_user_id}
                body |= {"bot_id": WS.bot_id, "user": "tocsin", "team": "Tocsin"}
            raw = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            """Keep test output quiet."""

    return WebApiStub


@pytest.fixture
def hub() -> Iterator[SocketHub]:
    """A started hub, stopped after the test."""
    with SocketHub(app_id=WS.api_app_id, ack_timeout=5) as running:
        yield running


Calls = list[tuple[str, dict[str, Any]]]


def _build_app(web_api_url: str, calls: Calls) -> App:
    app = App(
        client=WebClient(token="xoxb-test", base_url=web_api_url), token_verification_enabled=False
    )

    @app.command("/incident")
    def on_command(ack: Any, command: dict[str, Any]) -> None:
        calls.append(("command", command))  # before ack: the hub returns as soon as it is acked
        ack(f"declaring: {command['text']}")

    @app.action("incident_ack")
    def on_action(ack: Any, action: dict[str, Any]) -> None:
        calls.append(("action", action))
        ack()

    @app.event("app_mention")
    def on_mention(ack: Any, event: dict[str, Any], request: BoltRequest) -> None:
        calls.append(("app_mention", {"event": event, "headers": request.headers}))
        ack()

    return app


@contextmanager
def _connected_app(hub: SocketHub) -> Iterator[Calls]:
    """A Bolt app connected to `hub` through SocketModeHandler; yields its listener calls."""
    stub = HTTPServer(("127.0.0.1", 0), _stub_handler(hub))
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    calls: Calls = []
    app = _build_app(f"http://127.0.0.1:{stub.server_port}/api/", calls)
    handler = SocketModeHandler(app, app_token="xapp-1-A0TOCSIN01-1-test")
    handler.connect()
    hub.wait_connected()
    try:
        yield calls
    finally:
        handler.close()  # ~3 s: the builtin client waits out its socket read timeout
        stub.shutdown()
        stub.server_close()


@pytest.fixture(scope="module")
def shared_hub() -> Iterator[SocketHub]:
    """One hub for the tests that do not change the connection (closing a client is slow)."""
    with SocketHub(app_id=WS.api_app_id, ack_timeout=5) as running:
        yield running


@pytest.fixture(scope="module")
def shared_calls(shared_hub: SocketHub) -> Iterator[Calls]:
    """The listener calls of a Bolt app connected to the shared hub."""
    with _connected_app(shared_hub) as calls:
        yield calls


@pytest.fixture
def bolt(shared_calls: Calls) -> Calls:
    """The shared app's listener calls made by the current test only."""
    shared_calls.clear()
    return shared_calls


class TestWithBolt:
    def test_slash_command_envelope_is_acked(self, shared_hub: SocketHub, bolt: Calls) -> None:
        """A slash_commands envelope reaches the listener and its ack carries the same id."""
        fields = payloads.slash_command(
            WS, user_id="U0ALICE", user_name="alice", channel_id="C0OPS", channel_name="ops",
            command="/incident", text="sev2 Checkout", trigger_id="1.2.abc",
        )  # fmt: skip
        ack = shared_hub.send("slash_commands", fields, envelope_id="env-cmd-1")
        assert ack["envelope_id"] == "env-cmd-1"
        assert ack["payload"] == {"text": "declaring: sev2 Checkout"}
        assert shared_hub.sent[-1]["accepts_response_payload"] is True
        assert bolt == [("command", fields)]

    def test_interactive_envelope_is_acked(self, shared_hub: SocketHub, bolt: Calls) -> None:
        """An interactive (block_actions) envelope reaches the action listener and is acked."""
        payload = payloads.block_actions(
            WS, user_id="U0BOB", user_name="bob", channel_id="C0INC1", channel_name="inc-1",
            message=MESSAGE, action_id="incident_ack", action_ts="1700000001.000001",
            trigger_id="1.2.abc",
        )  # fmt: skip
        ack = shared_hub.send("interactive", payload)
        assert ack["envelope_id"] == shared_hub.sent[-1]["envelope_id"]
        assert shared_hub.sent[-1]["accepts_response_payload"] is False
        assert bolt[0][0] == "action"
        assert bolt[0][1]["value"] == "inc-1"

    def test_events_api_retry_reaches_listener_headers(
        self, shared_hub: SocketHub, bolt: Calls
    ) -> None:
        """An events_api envelope's retry_attempt shows up as x-slack-retry-num in Bolt."""
        event = events.app_mention_event(
            WS, user_id="U0ALICE", channel_id="C0OPS", text="<@U0TOCSINBOT> hi",
            ts="1700000002.000001", client_msg_id="m-1",
        )  # fmt: skip
        envelope = events.event_callback(WS, event, event_id="Ev0001", event_time=1700000002)
        shared_hub.send("events_api", envelope, retry_attempt=1, retry_reason="timeout")
        # Bolt acks an events envelope before its listener runs: wait for the listener.
        ((kind, seen),) = wait_for(lambda: list(bolt), timeout=10)
        assert (kind, seen["event"]["text"]) == ("app_mention", "<@U0TOCSINBOT> hi")
        assert seen["headers"]["x-slack-retry-num"] == ["1"]

    def test_disconnect_makes_client_reconnect(self, hub: SocketHub) -> None:
        """After Slack's disconnect message the client opens a new link that acks envelopes."""
        fields = payloads.slash_command(
            WS, user_id="U0ALICE", user_name="alice", channel_id="C0OPS", channel_name="ops",
            command="/incident", text="again", trigger_id="1.2.abc",
        )  # fmt: skip
        with _connected_app(hub):
            hub.disconnect()
            hub.wait_connected(count=2, timeout=10)
            assert hub.send("slash_commands", fields)["payload"] == {"text": "declaring: again"}
            assert hub.acks[-1]["envelope_id"] == hub.sent[-1]["envelope_id"]


class TestProtocol:
    def test_hello_on_connect(self, hub: SocketHub) -> None:
        """A client is greeted with Slack's hello carrying connection count and app id."""
        with connect(hub.url) as ws:
            hello = json.loads(ws.recv(timeout=5))
        assert hello["type"] == "hello"
        assert hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": WS.api_app_id}
        assert "host" in hello["debug_info"]

    def test_wrong_ticket_is_refused(self, hub: SocketHub) -> None:
        """A URL with another ticket fails the WebSocket handshake with 401."""
        with pytest.raises(InvalidStatus) as refused:
            connect(hub.url.replace(hub.ticket, "0" * 32))
        assert refused.value.response.status_code == 401

    def test_ping_gets_pong(self, hub: SocketHub) -> None:
        """A client's WebSocket ping is answered with a pong."""
        with connect(hub.url) as ws:
            assert ws.ping(b"sess:1").wait(timeout=5)

    def test_missing_ack_times_out(self, hub: SocketHub) -> None:
        """An envelope the client never acks raises AckTimeout after the timeout."""
        with connect(hub.url) as ws:
            hub.wait_connected()
            with pytest.raises(AckTimeout, match="events_api"):
                hub.send("events_api", {"type": "event_callback"}, timeout=0.3)
            ws.recv(timeout=5)  # hello
            assert json.loads(ws.recv(timeout=5))["retry_attempt"] == 0
