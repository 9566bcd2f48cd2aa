"""The driver against a real Bolt app served over HTTP by a real WSGI server.

Bolt calls `auth.test` on the first request; a tiny stdlib HTTP server answers it here
until the Web API emulator can be used instead.
"""

from __future__ import annotations

import json
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.sandbox import events, payloads, view_state
from bot.sandbox.driver import Driver
from bot.sandbox.payloads import Workspace
from bot.sandbox.wire import Result, Tamper, sign

SECRET = "sandbox-signing-secret"
WS = Workspace()
REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "slack-reference"

MESSAGE: dict[str, Any] = {
    "type": "message",
    "channel": "C0INC1",
    "user": WS.bot_user_id,
    "bot_id": WS.bot_id,
    "app_id": WS.api_app_id,
    "team": WS.team_id,
    "text": "SEV2: Checkout errors",
    "ts": "1700000000.000100",
    "blocks": [
        {"type": "section", "block_id": "hdr", "text": {"type": "mrkdwn", "text": "*SEV2*"}},
        {
            "type": "actions",
            "block_id": "incident_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "incident_ack",
                    "text": {"type": "plain_text", "text": "Acknowledge", "emoji": True},
                    "value": "inc-1",
                    "style": "primary",
                },
            ],
        },
    ],
}


def _option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value.title(), "emoji": True}, "value": value}


def _input(block_id: str, element: dict[str, Any]) -> dict[str, Any]:
    label = {"type": "plain_text", "text": block_id}
    return {"type": "input", "block_id": block_id, "label": label, "element": element}


VIEW: dict[str, Any] = {
    "id": "V0DECLARE1",
    "team_id": WS.team_id,
    "type": "modal",
    "callback_id": "declare",
    "private_metadata": "C0INC1",
    "title": {"type": "plain_text", "text": "Declare", "emoji": True},
    "submit": {"type": "plain_text", "text": "Declare", "emoji": True},
    "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
    "notify_on_close": True,
    "blocks": [
        _input("title_b", {"type": "plain_text_input", "action_id": "title"}),
        _input(
            "sev_b",
            {
                "type": "static_select",
                "action_id": "severity",
                "options": [_option("sev1"), _option("sev2"), _option("sev3")],
                "initial_option": _option("sev3"),
            },
        ),
        _input(
            "impact_b",
            {
                "type": "checkboxes",
                "action_id": "impact",
                "options": [_option("revenue"), _option("data")],
            },
        ),
        _input(
            "mode_b",
            {
                "type": "radio_buttons",
                "action_id": "mode",
                "options": [_option("degraded"), _option("rollback")],
            },
        ),
        _input("ic_b", {"type": "users_select", "action_id": "commander"}),
    ],
}


class _AuthTestStub(BaseHTTPRequestHandler):
    """Answers `auth.test` the way Slack does for the bot token; Bolt calls it once."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = {
            "ok": True,
            "url": f"https://{WS.team_domain}.slack.com/",
            "team": "Tocsin Sandbox",
            "user": "tocsin",
            "team_id": WS.team_id,
            "user_id": WS.bot_user_id,
            "bot_id": WS.bot_id,
            "is_enterprise_install": False,
        }
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        """Keep test output quiet."""


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        """Keep test output quiet."""


def _serve(server: HTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


Calls = list[tuple[str, dict[str, Any]]]


def _build_app(web_api_url: str, calls: Calls) -> App:
    client = WebClient(token="xoxb-test", base_url=web_api_url)
    app = App(
        signing_secret=SECRET,
        client=client,
        token_verification_enabled=False,
        request_verification_enabled=True,
        process_before_response=True,
    )

    def record(kind: str) -> Callable[..., None]:
        def listener(ack: Any, body: dict[str, Any], context: Any, request: BoltRequest) -> None:
            ack()
            calls.append(
                (kind, {"body": body, "context": dict(context), "headers": request.headers})
            )

        return listener

    app.command("/incident")(record("command"))
    app.action("incident_ack")(record("action"))
    app.view_submission("declare")(record("view_submission"))
    app.view_closed("declare")(record("view_closed"))
    app.shortcut("summarize")(record("shortcut"))
    for event in ("app_mention", "message", "member_joined_channel", "app_home_opened"):
        app.event(event)(record(event))
    return app


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Calls]]:
    """A real Bolt app behind a threaded WSGI server, and the list its listeners append to."""
    calls: Calls = []
    stub = HTTPServer(("127.0.0.1", 0), _AuthTestStub)
    _serve(stub)
    app = _build_app(f"http://127.0.0.1:{stub.server_port}/api/", calls)
    server = make_server(
        "127.0.0.1", 0, SlackRequestHandler(app), _ThreadingWSGIServer, _QuietHandler
    )
    _serve(server)
    yield f"http://127.0.0.1:{server.server_port}/slack/events", calls
    server.shutdown()
    stub.shutdown()
    server.server_close()
    stub.server_close()


@pytest.fixture
def calls(served: tuple[str, Calls]) -> Calls:
    """The listener calls of the current test only."""
    served[1].clear()
    return served[1]


@pytest.fixture
def driver(served: tuple[str, Calls]) -> Driver:
    """A driver aimed at the served app, with response URLs on a local base."""
    return Driver(
        served[0],
        SECRET,
        workspace=WS,
        response_url_base="http://127.0.0.1:9/hooks",
        user_names={"U0ALICE": "alice"},
    )


def _only(calls: Calls, kind: str) -> dict[str, Any]:
    assert [k for k, _ in calls] == [kind]
    return calls[0][1]


class TestDelivery:
    def test_slash_command_reaches_command_listener(self, driver: Driver, calls: Calls) -> None:
        """A slash command arrives form-encoded with the user, channel, text and a response URL."""
        result = driver.slash("U0ALICE", "declare sev2 Checkout errors", channel_id="C0OPS")
        assert result.status == 200
        assert result.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        seen = _only(calls, "command")
        assert seen["body"]["text"] == "declare sev2 Checkout errors"
        assert seen["body"]["user_name"] == "alice"
        assert seen["body"]["response_url"].startswith("http://127.0.0.1:9/hooks/commands/")
        context = seen["context"]
        assert (context["user_id"], context["channel_id"], context["team_id"]) == (
            "U0ALICE",
            "C0OPS",
            WS.team_id,
        )

    def test_click_reaches_action_listener(self, driver: Driver, calls: Calls) -> None:
        """A button click carries the button's block id, value and the clicked message."""
        assert driver.click("U0BOB", MESSAGE, "incident_ack").status == 200
        seen = _only(calls, "action")
        action = seen["body"]["actions"][0]
        assert (action["block_id"], action["value"], action["type"]) == (
            "incident_actions",
            "inc-1",
            "button",
        )
        assert seen["body"]["container"]["message_ts"] == MESSAGE["ts"]
        assert (seen["context"]["user_id"], seen["context"]["channel_id"]) == ("U0BOB", "C0INC1")

    def test_click_value_override(self, driver: Driver, calls: Calls) -> None:
        """An explicit value replaces the button's own value."""
        driver.click("U0BOB", MESSAGE, "incident_ack", value="inc-9")
        assert _only(calls, "action")["body"]["actions"][0]["value"] == "inc-9"

    def test_click_on_missing_button_is_refused(self, driver: Driver) -> None:
        """Clicking an action id the message does not hold raises before anything is sent."""
        with pytest.raises(LookupError, match="incident_resolve"):
            driver.click("U0BOB", MESSAGE, "incident_resolve")

    def test_view_submission_reaches_view_listener(self, driver: Driver, calls: Calls) -> None:
        """A submission carries Slack's nested state.values for each input type."""
        values = {"title": "Checkout errors", "severity": "sev2", "impact": ["revenue", "data"]}
        values |= {"mode": "degraded", "commander": "U0CAROL"}
        assert driver.submit_view("U0ALICE", VIEW, values).status == 200
        view = _only(calls, "view_submission")["body"]["view"]
        state = view["state"]["values"]
        assert state["title_b"]["title"] == {"type": "plain_text_input", "value": "Checkout errors"}
        assert state["sev_b"]["severity"]["selected_option"]["value"] == "sev2"
        assert [o["value"] for o in state["impact_b"]["impact"]["selected_options"]] == [
            "revenue",
            "data",
        ]
        assert state["mode_b"]["mode"]["selected_option"]["value"] == "degraded"
        assert state["ic_b"]["commander"] == {"type": "users_select", "selected_user": "U0CAROL"}
        assert (view["callback_id"], view["private_metadata"]) == ("declare", "C0INC1")

    def test_view_closed_reaches_listener(self, driver: Driver, calls: Calls) -> None:
        """Cancelling a modal opened with notify_on_close reaches the view_closed listener."""
        assert driver.close_view("U0ALICE", VIEW).status == 200
        assert _only(calls, "view_closed")["body"]["view"]["id"] == "V0DECLARE1"

    def test_message_shortcut_reaches_listener(self, driver: Driver, calls: Calls) -> None:
        """A message shortcut carries its callback id and the message it was run on."""
        assert driver.shortcut("U0ALICE", MESSAGE, "summarize", channel_id="C0INC1").status == 200
        assert _only(calls, "shortcut")["body"]["message_ts"] == MESSAGE["ts"]

    @pytest.mark.parametrize(
        ("send", "kind", "field", "expected"),
        [
            (lambda d: d.mention("U0ALICE", "C0OPS", "help"), "app_mention", "text", "help"),
            (lambda d: d.message("U0ALICE", "C0OPS", "hello"), "message", "text", "hello"),
            (
                lambda d: d.member_joined("U0DAN", "C0INC1"),
                "member_joined_channel",
                "user",
                "U0DAN",
            ),
            (lambda d: d.app_home_opened("U0DAN", "D0DAN"), "app_home_opened", "tab", "home"),
        ],
    )
    def test_event_reaches_event_listener(
        self,
        driver: Driver,
        calls: Calls,
        send: Callable[[Driver], Result],
        kind: str,
        field: str,
        expected: str,
    ) -> None:
        """Each Events API envelope arrives as JSON and reaches the listener for its type."""
        result = send(driver)
        assert result.status == 200
        assert result.request.headers["Content-Type"] == "application/json"
        body = _only(calls, kind)["body"]
        assert body["type"] == "event_callback"
        assert body["event"][field].endswith(expected)

    def test_minted_trigger_id_is_used(self, served: tuple[str, Calls], calls: Calls) -> None:
        """The emulator's trigger id minter is called with the acting user and its id is sent."""
        minted: list[str] = []

        def mint(user_id: str) -> str:
            minted.append(user_id)
            return "1.2.abc"

        driver = Driver(served[0], SECRET, mint_trigger_id=mint)
        result = driver.slash("U0ALICE", "declare")
        assert minted == ["U0ALICE"]
        assert _only(calls, "command")["body"]["trigger_id"] == "1.2.abc"
        assert "response_url" not in calls[0][1]["body"]
        assert result.latency > 0

    def test_url_verification_echoes_challenge(self, driver: Driver, calls: Calls) -> None:
        """Bolt answers the url_verification handshake with the challenge, calling no listener."""
        result = driver.url_verification("c-123")
        assert (result.status, result.json) == (200, {"challenge": "c-123"})
        assert calls == []


class TestSecurity:
    def test_forged_signature_is_rejected(self, driver: Driver, calls: Calls) -> None:
        """A request signed with another secret gets 401 and reaches no listener."""
        result = driver.slash("U0ALICE", "declare", tamper=Tamper(forge_signature=True))
        assert result.status == 401
        assert calls == []

    def test_stale_timestamp_is_rejected(self, driver: Driver, calls: Calls) -> None:
        """A correctly signed request older than five minutes gets 401."""
        stale = driver.slash("U0ALICE", "declare", tamper=Tamper(age_seconds=301))
        assert stale.status == 401
        assert calls == []

    def test_replay_of_stale_request_is_rejected(self, driver: Driver, calls: Calls) -> None:
        """A request accepted once is refused when replayed after its timestamp went stale."""
        first = driver.slash("U0ALICE", "declare", tamper=Tamper(age_seconds=298))
        assert first.status == 200
        time.sleep(3)  # 298 s + 3 s: past Bolt's 5 minutes, which it reads from time.time()
        assert driver.replay(first).status == 401
        assert len(calls) == 1

    def test_replay_within_window_is_accepted(self, driver: Driver, calls: Calls) -> None:
        """Bolt accepts a fresh replay, so deduplication is the app's job (event_id, trigger)."""
        first = driver.slash("U0ALICE", "declare")
        assert driver.replay(first).status == 200
        assert [c[1]["body"]["trigger_id"] for c in calls] == [
            first.request.payload["trigger_id"]
        ] * 2

    def test_retry_headers_reach_listener(self, driver: Driver, calls: Calls) -> None:
        """A retry re-sends the same body, re-signed, with X-Slack-Retry-Num and -Reason."""
        first = driver.message("U0ALICE", "C0OPS", "hello")
        retry = driver.retry(first, num=2, reason="http_error")
        assert retry.status == 200
        assert retry.request.body == first.request.body
        ts = retry.request.headers["X-Slack-Request-Timestamp"]
        assert retry.request.headers["X-Slack-Signature"] == sign(SECRET, ts, retry.request.body)
        headers = calls[1][1]["headers"]
        assert (headers["x-slack-retry-num"], headers["x-slack-retry-reason"]) == (
            ["2"],
            ["http_error"],
        )
        assert calls[0][1]["body"]["event_id"] == calls[1][1]["body"]["event_id"]


def _extra_keys(value: Any, sample: Any, path: str = "$") -> list[str]:
    """Paths in `value` whose keys the sample lacks.

    An empty object in the sample is a free-form map (Slack's samples leave `state`, `shares`
    and `event_payload` open). List items are checked against the sample item of the same
    `type` when the sample holds several typed items (blocks, elements), else the first.
    """
    if isinstance(value, dict) and isinstance(sample, dict):
        if not sample:
            return []
        extra = [f"{path}.{key}" for key in value if key not in sample]
        for key in value:
            if key in sample:
                extra += _extra_keys(value[key], sample[key], f"{path}.{key}")
        return extra
    if isinstance(value, list) and isinstance(sample, list) and sample:
        extra = []
        for index, item in enumerate(value):
            typed = [s for s in sample if isinstance(s, dict) and "type" in s]
            typed = typed if len(typed) > 1 else []
            match = [s for s in typed if isinstance(item, dict) and s["type"] == item.get("type")]
            if typed and isinstance(item, dict) and "type" in item and not match:
                extra.append(f"{path}[{index}] (type {item['type']!r} not in sample)")
                continue
            extra += _extra_keys(item, (match or sample)[0], f"{path}[{index}]")
        return extra
    return []


def _sample(name: str) -> Any:
    return json.loads((REFERENCE / name).read_text())


_TS = "1700000000.000200"
_COMMON = {"user_id": "U0ALICE", "user_name": "alice"}
_IN_CHANNEL = {**_COMMON, "channel_id": "C0INC1", "channel_name": "inc-1"}
_CONTRACT: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    (
        "payloads/SlashCommandPayload.json",
        lambda: dict(
            payloads.slash_command(
                WS, **_IN_CHANNEL, command="/incident", text="x", trigger_id="t", response_url="u"
            )
        ),
    ),
    (
        "payloads/BlockActionPayload.json",
        lambda: payloads.block_actions(
            WS,
            **_IN_CHANNEL,
            message=MESSAGE,
            action_id="incident_ack",
            action_ts=_TS,
            trigger_id="t",
            response_url="u",
        ),
    ),
    (
        "payloads/ViewSubmissionPayload.json",
        lambda: payloads.view_submission(
            WS, **_COMMON, view=VIEW, values={"title": "x", "impact": ["data"]}, trigger_id="t"
        ),
    ),
    (
        "payloads/ViewClosedPayload.json",
        lambda: payloads.view_closed(WS, **_COMMON, view=VIEW, is_cleared=False),
    ),
    (
        "payloads/MessageShortcutPayload.json",
        lambda: payloads.message_shortcut(
            WS,
            **_IN_CHANNEL,
            callback_id="summarize",
            message=MESSAGE,
            action_ts=_TS,
            trigger_id="t",
            response_url="u",
        ),
    ),
    (
        "events/AppMentionPayload.json",
        lambda: events.event_callback(
            WS,
            events.app_mention_event(
                WS,
                user_id="U0ALICE",
                channel_id="C0OPS",
                text="<@U0B> hi",
                ts=_TS,
                client_msg_id="m",
                thread_ts=_TS,
            ),
            event_id="Ev1",
            event_time=1,
        ),
    ),
    (
        "events/MessagePayload.json",
        lambda: events.event_callback(
            WS,
            events.message_event(
                WS,
                user_id="U0ALICE",
                channel_id="C0OPS",
                text="hi",
                ts=_TS,
                client_msg_id="m",
                thread_ts=_TS,
                parent_user_id="U0BOB",
            ),
            event_id="Ev1",
            event_time=1,
        ),
    ),
    (
        "events/MemberJoinedChannelPayload.json",
        lambda: events.event_callback(
            WS,
            events.member_joined_channel_event(
                WS, user_id="U0DAN", channel_id="C0INC1", event_ts=_TS, inviter="U0ALICE"
            ),
            event_id="Ev1",
            event_time=1,
        ),
    ),
    (
        "events/AppHomeOpenedPayload.json",
        lambda: events.event_callback(
            WS,
            events.app_home_opened_event(
                user_id="U0DAN", channel_id="D0DAN", event_ts=_TS, view=VIEW
            ),
            event_id="Ev1",
            event_time=1,
        ),
    ),
]


class TestContract:
    @pytest.mark.parametrize(("sample", "build"), _CONTRACT, ids=[c[0] for c in _CONTRACT])
    def test_builder_keys_are_in_reference_sample(
        self, sample: str, build: Callable[[], dict[str, Any]]
    ) -> None:
        """Every key a builder emits, at every depth, appears in Slack's reference sample."""
        assert _extra_keys(build(), _sample(sample)) == []

    def test_checker_reports_unknown_keys(self) -> None:
        """The key-subset check itself flags a key the sample lacks, at any depth."""
        sample = {"a": {"b": 1}, "l": [{"type": "x", "k": 1}, {"type": "w"}]}
        value = {"a": {"b": 1, "c": 2}, "l": [{"type": "x", "z": 1}, {"type": "y"}]}
        assert _extra_keys(value, sample) == [
            "$.a.c",
            "$.l[0].z",
            "$.l[1] (type 'y' not in sample)",
        ]


class TestStateValues:
    def test_untouched_inputs_keep_initial_values(self) -> None:
        """Inputs the user did not touch report their initial value, or Slack's empty value."""
        state = view_state.state_values(VIEW, {})
        assert state["sev_b"]["severity"]["selected_option"]["value"] == "sev3"
        assert state["title_b"]["title"] == {"type": "plain_text_input", "value": None}
        assert state["impact_b"]["impact"] == {"type": "checkboxes", "selected_options": []}
        assert state["ic_b"]["commander"] == {"type": "users_select", "selected_user": None}

    def test_unknown_input_is_refused(self) -> None:
        """A value for an action id the view does not hold raises LookupError."""
        with pytest.raises(LookupError, match="nope"):
            view_state.state_values(VIEW, {"nope": "x"})

    def test_unknown_option_is_refused(self) -> None:
        """Choosing an option value the select does not offer raises LookupError."""
        with pytest.raises(LookupError, match="sev9"):
            view_state.state_values(VIEW, {"severity": "sev9"})
