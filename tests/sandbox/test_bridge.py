"""The app bridge against a real Bolt app over real HTTP, signed requests verified by Bolt.

The app's WebClient points at the emulator, so what its listeners do (views.open,
chat.postMessage, respond()) lands in the emulator, where these tests look for it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.sandbox.app_server import AppServer
from bot.sandbox.emulator import Emulator
from bot.sandbox.payloads import Workspace
from bot.sandbox.stack import free_port, wait_for
from bot.web_limits import MAX_BODY
from tests.raw_http import announced

SECRET = "bridge-test-signing-secret"
ALICE, BOB = "U0ALICE01", "U0BOB0001"
INCIDENTS = "C0INCIDENTS"
TWO_MIB = 2 * 1024 * 1024

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "declare",
    "notify_on_close": True,
    "title": {"type": "plain_text", "text": "Declare an incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title_block",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title"},
        },
        {
            "type": "input",
            "block_id": "sev_block",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "severity",
                "options": [
                    {"text": {"type": "plain_text", "text": f"SEV{n}"}, "value": f"sev{n}"}
                    for n in (1, 2, 3)
                ],
            },
        },
        {
            "type": "actions",
            "block_id": "helpers",
            "elements": [
                {
                    "type": "button",
                    "action_id": "suggest",
                    "text": {"type": "plain_text", "text": "Suggest"},
                    "value": "s",
                }
            ],
        },
    ],
}
BUTTON_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*SEV2* Checkout errors"}},
    {
        "type": "actions",
        "block_id": "header_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "incident_ack",
                "style": "primary",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "value": "inc-1",
            }
        ],
    },
]


def _step_view(title: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "wizard",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Next"},
        "blocks": [
            {
                "type": "input",
                "block_id": "next",
                "label": {"type": "plain_text", "text": "Then what?"},
                "element": {"type": "plain_text_input", "action_id": "next"},
            }
        ],
    }


SELECT_BLOCKS: list[dict[str, Any]] = [
    {
        "type": "section",
        "block_id": "sev",
        "text": {"type": "mrkdwn", "text": "Severity?"},
        "accessory": MODAL["blocks"][1]["element"] | {"action_id": "pick_sev"},
    }
]


def _build_app(emulator: Emulator, seen: list[tuple[str, Any]]) -> App:
    client = WebClient(token=emulator.bot_token, base_url=emulator.url, timeout=5)
    app = App(
        token=emulator.bot_token,
        signing_secret=SECRET,
        client=client,
        request_verification_enabled=True,
    )

    @app.command("/incident")
    def incident(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        verb = command["text"].split(" ", 1)[0]
        seen.append(("command", command))
        if verb == "help":
            ack("Usage: /incident declare <sev> <title>")
        elif verb == "public":
            ack(response_type="in_channel", text="Declared for everyone")
        elif verb == "modal":
            ack()
            client.views_open(trigger_id=command["trigger_id"], view=MODAL)
        elif verb == "button":
            ack()
            client.chat_postMessage(
                channel=command["channel_id"], text="SEV2", blocks=BUTTON_BLOCKS
            )
        elif verb == "wizard":
            ack()
            client.views_open(trigger_id=command["trigger_id"], view=_step_view("Step 1"))
        elif verb == "select":
            ack()
            client.chat_postMessage(channel=command["channel_id"], text="?", blocks=SELECT_BLOCKS)
        elif verb == "later":
            ack()
            respond("Working on it")
        else:
            ack(f"Unknown command {verb}")

    @app.view("declare")
    def declare(ack: Ack, view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        seen.append(("submission", values))
        if len(values["title_block"]["title"]["value"] or "") < 4:
            ack(response_action="errors", errors={"title_block": "Say a little more"})
        else:
            ack()

    @app.view("wizard")
    def wizard(ack: Ack, view: dict[str, Any]) -> None:
        step = view["state"]["values"]["next"]["next"]["value"]
        if step in ("push", "update"):
            ack(response_action=step, view=_step_view(step.title()))
        else:
            ack(response_action="clear")

    @app.action("pick_sev")
    def pick(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        seen.append(("select", body["actions"][0]))

    @app.view_closed("declare")
    def closed(ack: Ack, view: dict[str, Any]) -> None:
        ack()
        seen.append(("closed", view["id"]))

    @app.action("incident_ack")
    def acknowledge(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        seen.append(("click", body))
        respond(replace_original=True, text=f"Acknowledged by <@{body['user']['id']}>")

    @app.action("suggest")
    def suggest(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        seen.append(("view_click", body))

    return app


@pytest.fixture
def world() -> Iterator[tuple[Emulator, list[tuple[str, Any]]]]:
    """An emulator whose bridge talks to a Bolt app served over HTTP; the app's listener log."""
    seen: list[tuple[str, Any]] = []
    with Emulator(signing_secret=SECRET) as emulator:
        app = _build_app(emulator, seen)
        with AppServer(SlackRequestHandler(app)) as server:
            emulator.app_url = server.url
            yield emulator, seen
        assert emulator.server_errors == []


def _raw_post(
    emulator: Emulator, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, Any]:
    """POST `body` with exactly these headers (Host and Origin included when given)."""
    request = urllib.request.Request(  # noqa: S310 - the emulator's own http:// URL
        emulator.root_url + path.lstrip("/"), data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _post(emulator: Emulator, path: str, body: Any) -> tuple[int, Any]:
    return _raw_post(
        emulator, path, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )


class TestIds:
    def test_driver_workspace_matches_workspace_yaml(self) -> None:
        """The driver's default ids are the bundled workspace's team, bot and app."""
        with Emulator() as emulator:
            assert emulator.payload_workspace == Workspace()
            assert Workspace().bot_user_id == emulator.workspace()["bot"]["user_id"]


class TestSlash:
    def test_ack_text_is_an_ephemeral(self, world: tuple[Emulator, list[Any]]) -> None:
        """`ack("text")` to a slash command shows as an ephemeral to the user, over HTTP."""
        emulator, seen = world
        status, result = _post(
            emulator,
            "/sandbox/act/slash",
            {"user": ALICE, "channel": INCIDENTS, "text": "help", "command": "/incident"},
        )
        assert (status, result["outcome"]) == (200, "ephemeral")
        shown = emulator.ephemerals(ALICE, INCIDENTS)
        assert [e["text"] for e in shown] == ["Usage: /incident declare <sev> <title>"]
        command = seen[0][1]
        assert (command["user_id"], command["channel_name"]) == (ALICE, "incidents")
        assert command["team_id"] == "T0SANDBOX"

    def test_in_channel_ack_is_a_bot_message(self, world: tuple[Emulator, list[Any]]) -> None:
        """`response_type: in_channel` posts a real message from the bot in the channel."""
        emulator, _ = world
        assert emulator.act_slash(BOB, "public")["outcome"] == "posted"
        message = emulator.transcript("incidents")[-1]
        assert (message["text"], message["user"], message["bot"]) == (
            "Declared for everyone",
            "U0TOCSIN1",
            True,
        )

    def test_respond_without_original_posts_ephemeral(
        self, world: tuple[Emulator, list[Any]]
    ) -> None:
        """respond() from a slash command's response_url is an ephemeral to that user."""
        emulator, _ = world
        assert emulator.act_slash(ALICE, "later")["outcome"] == "acked"
        shown = emulator.wait_for(lambda: emulator.ephemerals(ALICE, INCIDENTS))
        assert shown[0]["text"] == "Working on it"

    def test_without_app_the_page_is_told(self) -> None:
        """With no app configured, act endpoints answer 409 naming what to set."""
        with Emulator() as emulator:
            status, body = _post(
                emulator, "/sandbox/act/slash", {"user": ALICE, "channel": INCIDENTS, "text": "/x"}
            )
        assert status == 409
        assert "app_url" in body["error"]


class TestModal:
    def _open(self, emulator: Emulator) -> str:
        emulator.act_slash(ALICE, "modal")
        views = emulator.wait_for(lambda: emulator.views(ALICE))
        assert views[0]["callback_id"] == "declare"
        return str(views[0]["id"])

    def test_submit_sends_values_and_closes(self, world: tuple[Emulator, list[Any]]) -> None:
        """A submission reaches the app with state values; an empty ack closes the modal."""
        emulator, seen = world
        view_id = self._open(emulator)
        status, result = _post(
            emulator,
            "/sandbox/act/submit",
            {
                "user": ALICE,
                "view_id": view_id,
                "values": {"title": "Checkout", "severity": "sev2"},
            },
        )
        assert (status, result["outcome"]) == (200, "closed")
        values = next(v for kind, v in seen if kind == "submission")
        assert values["title_block"]["title"]["value"] == "Checkout"
        assert values["sev_block"]["severity"]["selected_option"]["value"] == "sev2"
        assert emulator.views(ALICE) == []

    def test_errors_keep_the_modal_open(self, world: tuple[Emulator, list[Any]]) -> None:
        """`response_action: errors` keeps the modal open with the error under its block."""
        emulator, _ = world
        view_id = self._open(emulator)
        result = emulator.act_submit(ALICE, view_id, {"title": "no"})
        assert result["outcome"] == "errors"
        assert emulator.view_errors(view_id) == {"title_block": "Say a little more"}
        assert [v["id"] for v in emulator.views(ALICE)] == [view_id]
        assert emulator.act_submit(ALICE, view_id, {"title": "enough"})["outcome"] == "closed"
        assert emulator.view_errors(view_id) == {}

    def test_button_in_modal_and_close(self, world: tuple[Emulator, list[Any]]) -> None:
        """A button in a modal sends container.type=view; Cancel sends view_closed."""
        emulator, seen = world
        view_id = self._open(emulator)
        emulator.bridge.click(ALICE, "suggest", view_id=view_id, values={"title": "draft"})
        body = emulator.wait_for(lambda: next(v for k, v in seen if k == "view_click"))
        assert body["container"] == {"type": "view", "view_id": view_id}
        assert body["view"]["state"]["values"]["title_block"]["title"]["value"] == "draft"
        emulator.act_close(ALICE, view_id)
        assert emulator.wait_for(lambda: [v for k, v in seen if k == "closed"]) == [view_id]
        assert emulator.views(ALICE) == []


class TestViewResponses:
    def test_push_update_and_clear(self, world: tuple[Emulator, list[Any]]) -> None:
        """`push` stacks a view, `update` replaces the submitted one, `clear` closes all."""
        emulator, _ = world
        emulator.act_slash(ALICE, "wizard")
        first = emulator.wait_for(lambda: emulator.views(ALICE))[0]
        assert emulator.act_submit(ALICE, first["id"], {"next": "push"})["outcome"] == "pushed"
        stack = emulator.views(ALICE)
        assert [v["view"]["title"]["text"] for v in stack] == ["Step 1", "Push"]
        second = stack[1]
        assert second["previous_view_id"] == first["id"]
        assert emulator.act_submit(ALICE, second["id"], {"next": "update"})["outcome"] == "updated"
        assert emulator.views(ALICE)[1]["view"]["title"]["text"] == "Update"
        assert emulator.act_submit(ALICE, second["id"], {"next": "done"})["outcome"] == "cleared"
        assert emulator.views(ALICE) == []


class TestClick:
    def test_select_in_message_sends_selected_option(
        self, world: tuple[Emulator, list[Any]]
    ) -> None:
        """Choosing from a static_select in a message sends `selected_option`, as Slack does."""
        emulator, seen = world
        emulator.act_slash(ALICE, "select")
        message = emulator.wait_for(lambda: emulator.transcript("incidents")[-1])
        emulator.act_click(ALICE, "pick_sev", channel=INCIDENTS, ts=message["ts"], value="sev1")
        action = emulator.wait_for(lambda: next(v for k, v in seen if k == "select"))
        assert action["type"] == "static_select"
        assert action["selected_option"]["value"] == "sev1"
        assert "value" not in action

    def test_click_runs_listener_and_respond_replaces(
        self, world: tuple[Emulator, list[Any]]
    ) -> None:
        """A click on a posted button reaches the listener; respond() replaces the original."""
        emulator, seen = world
        emulator.act_slash(ALICE, "button")
        message = emulator.wait_for(lambda: emulator.transcript("incidents")[-1])
        status, _ = _post(
            emulator,
            "/sandbox/act/click",
            {"user": BOB, "channel": INCIDENTS, "ts": message["ts"], "action_id": "incident_ack"},
        )
        assert status == 200
        body = emulator.wait_for(lambda: next(v for k, v in seen if k == "click"))
        assert body["actions"][0]["value"] == "inc-1"
        assert body["container"]["message_ts"] == message["ts"]
        emulator.wait_for(lambda: "Acknowledged" in emulator.transcript("incidents")[-1]["text"])
        replaced = emulator.transcript("incidents")[-1]
        assert (replaced["ts"], replaced["text"]) == (message["ts"], f"Acknowledged by <@{BOB}>")

    def test_unknown_message_is_404(self, world: tuple[Emulator, list[Any]]) -> None:
        """A click on a message that is not there is refused, not sent."""
        emulator, seen = world
        status, _ = _post(
            emulator,
            "/sandbox/act/click",
            {"user": BOB, "channel": INCIDENTS, "ts": "1.000001", "action_id": "incident_ack"},
        )
        assert status == 404
        assert seen == []


class TestResponseUrl:
    def test_response_url_is_single_origin_and_limited(self, world: tuple[Emulator, Any]) -> None:
        """A response_url accepts five posts, then answers used_url; unknown tokens are 404."""
        emulator, seen = world
        emulator.act_slash(ALICE, "help")
        url = seen[0][1]["response_url"]
        path = url.removeprefix(emulator.root_url)
        for n in range(5):
            assert _post(emulator, path, {"text": f"update {n}"})[0] == 200
        status, body = _post(emulator, path, {"text": "one too many"})
        assert (status, body["error"]) == (400, "used_url")
        assert _post(emulator, "/sandbox/respond/nope", {"text": "x"})[0] == 404
        assert len(emulator.ephemerals(ALICE)) == 6  # the ack text and five updates


class TestPageOnly:
    """The act endpoints sign what they send: only the page's own same-origin JSON gets through."""

    SLASH = json.dumps(
        {"user": ALICE, "channel": INCIDENTS, "text": "help", "command": "/incident"}
    ).encode()

    def test_same_origin_json_reaches_the_app(self, world: tuple[Emulator, list[Any]]) -> None:
        """JSON with the page's own Origin and a loopback Host is signed and sent, as before."""
        emulator, seen = world
        own = f"127.0.0.1:{emulator.port}"
        headers = {"Content-Type": "application/json", "Origin": f"http://{own}", "Host": own}
        status, result = _raw_post(emulator, "/sandbox/act/slash", self.SLASH, headers)
        assert (status, result["outcome"]) == (200, "ephemeral")
        assert [kind for kind, _ in seen] == ["command"]

    @pytest.mark.parametrize(
        ("headers", "status", "says"),
        [
            (
                {"Content-Type": "application/json", "Origin": "http://evil.example"},
                403,
                "a page at http://evil.example may not act",
            ),
            (
                {"Content-Type": "application/json", "Origin": "null"},
                403,
                "a page at null may not act",
            ),
            ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "send JSON"),
            ({"Content-Type": "text/plain"}, 415, "not text/plain"),
        ],
    )
    def test_other_pages_and_other_types_are_refused(
        self, world: tuple[Emulator, list[Any]], headers: dict[str, str], status: int, says: str
    ) -> None:
        """A cross-origin POST (403) and a form or text body a page may send anywhere (415) reach nothing."""
        emulator, seen = world
        got, body = _raw_post(emulator, "/sandbox/act/slash", self.SLASH, headers)
        assert got == status
        assert says in body["error"]
        assert seen == []
        assert emulator.ephemerals(ALICE) == []

    def test_a_rebound_host_name_is_refused(self, world: tuple[Emulator, list[Any]]) -> None:
        """DNS rebinding: evil.example resolves to 127.0.0.1, its page posts same-origin: 403 on Host."""
        emulator, seen = world
        rebound = f"evil.example:{emulator.port}"
        headers = {
            "Content-Type": "application/json",
            "Host": rebound,
            "Origin": f"http://{rebound}",
        }
        for path in ("/sandbox/act/slash", "/sandbox/act/click", "/sandbox/act/submit"):
            status, body = _raw_post(emulator, path, self.SLASH, headers)
            assert status == 403
            assert "is not this sandbox" in body["error"]
        assert seen == []


def _sandbox(port: int, *args: str, secret: str | None = SECRET) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "SLACK_SIGNING_SECRET"}
    if secret is not None:
        env["SLACK_SIGNING_SECRET"] = secret
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _page_state(port: int) -> Any:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/sandbox/page/state", timeout=2
        ) as response:
            return json.loads(response.read())
    except OSError:
        return None


def _stop(proc: subprocess.Popen[str]) -> str:
    """Ctrl-C the sandbox; what it printed on stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    return err


def _exit(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """The exit code and stderr of a sandbox expected to refuse to start (stopped if it runs)."""
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise
    return proc.returncode, err


class TestSandboxCli:
    def test_the_signing_secret_comes_from_the_environment(self) -> None:
        """`tocsin sandbox --app-url` signs with SLACK_SIGNING_SECRET: the page's slash command reaches a verifying Bolt app."""
        seen: list[tuple[str, Any]] = []
        port = free_port()
        client = WebClient(token="xoxb-sandbox", base_url=f"http://127.0.0.1:{port}/api/")
        app = App(
            signing_secret=SECRET,
            client=client,
            request_verification_enabled=True,
            token_verification_enabled=False,  # the sandbox is not up yet
        )

        @app.command("/incident")
        def incident(ack: Ack, command: dict[str, Any]) -> None:
            seen.append(("command", command))
            ack("heard")

        with AppServer(SlackRequestHandler(app)) as server:
            proc = _sandbox(port, "--app-url", server.url)
            try:
                state = wait_for(lambda: _page_state(port), timeout=20)
                assert state["app"] == {"url": server.url, "ready": True}
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/sandbox/act/slash",
                    data=TestPageOnly.SLASH,
                    headers={"Content-Type": "application/json"},
                    method="POST",
                )
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    assert json.loads(response.read())["outcome"] == "ephemeral"
            finally:
                err = _stop(proc)
        assert [kind for kind, _ in seen] == ["command"], err
        assert SECRET not in " ".join(proc.args)

    def test_a_remote_app_url_is_refused_unless_allowed(self) -> None:
        """An --app-url on another machine: exit 2 naming --allow-remote-app; with the flag it serves."""
        port = free_port()
        remote = "http://bot.example.com/slack/events"
        code, err = _exit(_sandbox(port, "--app-url", remote))
        assert code == 2
        assert f"--app-url {remote} is not on this machine" in err
        assert "--allow-remote-app" in err
        allowed = _sandbox(port, "--app-url", remote, "--allow-remote-app")
        try:
            state = wait_for(lambda: _page_state(port), timeout=20)
            assert state["app"] == {"url": remote, "ready": True}
        finally:
            _stop(allowed)

    def test_a_secret_on_the_command_line_or_none_at_all_is_refused(self) -> None:
        """--signing-secret is refused (argv is public); --app-url without SLACK_SIGNING_SECRET says what to set."""
        port = free_port()
        app_url = "http://127.0.0.1:9/slack/events"
        code, err = _exit(_sandbox(port, "--app-url", app_url, "--signing-secret", "s"))
        assert code == 1
        assert "set SLACK_SIGNING_SECRET in the environment" in err
        code, err = _exit(_sandbox(port, "--app-url", app_url, secret=None))
        assert code == 2
        assert "--app-url needs the bot's signing secret in SLACK_SIGNING_SECRET" in err


class TestBodyCap:
    def test_bodies_over_1_mib_are_refused_by_the_emulator_and_the_app_server(
        self, world: tuple[Emulator, list[Any]]
    ) -> None:
        """A head announcing 2 MiB gets 413 from the page, the Web API and the app server; both still serve."""
        emulator, seen = world
        for path in ("/sandbox/act/slash", "/api/chat.postMessage", "/sandbox/messages"):
            status, body = announced(emulator.root_url, "POST", path, TWO_MIB)
            assert (path, status) == (path, 413)
            assert json.loads(body)["error"] == f"request body over {MAX_BODY} bytes"
        assert announced(emulator.root_url, "POST", "/sandbox/act/slash", MAX_BODY + 1)[0] == 413
        app_url = emulator.app_url or ""
        assert announced(app_url, "POST", urlsplit(app_url).path, TWO_MIB)[0] == 413
        assert seen == []
        assert emulator.act_slash(ALICE, "help")["outcome"] == "ephemeral"
        assert [kind for kind, _ in seen] == ["command"]
