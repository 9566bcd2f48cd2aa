"""Inspection: the call log and state as Python methods and as JSON over HTTP; the runner."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.emulator import Emulator
from bot.sandbox.workspace import WorkspaceError, load_workspace


class TestCallLog:
    def test_every_call_is_recorded(self, emulator: Emulator, client: WebClient) -> None:
        """Each call is logged with method, arguments (no token), outcome, status and time."""
        client.chat_postMessage(channel="C0INCIDENTS", text="hi")
        with pytest.raises(SlackApiError):
            client.chat_postMessage(channel="C0NOPE", text="hi")
        ok, failed = emulator.calls("chat.postMessage")
        assert (ok["ok"], ok["status"], ok["args"]["text"]) == (True, 200, "hi")
        assert (failed["ok"], failed["error"]) == (False, "channel_not_found")
        assert "token" not in ok["args"]
        assert ok["at"] <= failed["at"]
        assert emulator.calls(since=ok["seq"]) == [failed]

    def test_wait_for_returns_the_truthy_value(self, emulator: Emulator, client: WebClient) -> None:
        """wait_for polls until the predicate is truthy, and times out otherwise."""
        client.chat_postMessage(channel="C0INCIDENTS", text="hi")
        found = emulator.wait_for(
            lambda: [m for m in emulator.transcript("incidents") if m["text"] == "hi"]
        )
        assert found[0]["text"] == "hi"
        with pytest.raises(TimeoutError):
            emulator.wait_for(lambda: emulator.transcript("status"), timeout=0.1)


class TestHttpInspection:
    def test_state_over_http(self, emulator: Emulator, client: WebClient, admin: Any) -> None:
        """Channels, transcripts, pins, bookmarks, DMs, ephemerals, calls: JSON under /sandbox."""
        ts = client.chat_postMessage(channel="C0INCIDENTS", text="header")["ts"]
        client.chat_postMessage(channel="C0INCIDENTS", text="update", thread_ts=ts)
        client.pins_add(channel="C0INCIDENTS", timestamp=ts)
        client.bookmarks_add(
            channel_id="C0INCIDENTS", title="Runbook", type="link", link="https://x.example/rb"
        )
        client.chat_postMessage(channel="U0CAROL01", text="paged")
        client.chat_postEphemeral(channel="C0INCIDENTS", user="U0BOB0001", text="psst")
        names = {c["name"] for c in admin("/sandbox/channels")}
        assert {"general", "incidents", "status"} <= names
        assert admin("/sandbox/channels/incidents")["id"] == "C0INCIDENTS"
        [header] = admin("/sandbox/channels/C0INCIDENTS/messages")
        assert [r["text"] for r in header["replies"]] == ["update"]
        assert header["pinned"] is True
        assert admin("/sandbox/channels/incidents/pins")[0]["ts"] == ts
        assert admin("/sandbox/channels/incidents/bookmarks")[0]["link"] == "https://x.example/rb"
        assert admin("/sandbox/dms/U0CAROL01")[0]["text"] == "paged"
        assert admin("/sandbox/ephemerals?user=U0BOB0001")[0]["text"] == "psst"
        assert [c["method"] for c in admin("/sandbox/calls?method=pins.add")] == ["pins.add"]
        assert admin("/sandbox/views") == []
        users = {u["id"] for u in admin("/sandbox/workspace")["users"]}
        assert {"U0ALICE01", "U0LEAD1", "U0TOCSIN1"} <= users

    def test_post_as_user_over_http(self, emulator: Emulator, admin: Any) -> None:
        """POST /sandbox/messages puts a human's message in a channel."""
        posted = admin(
            "/sandbox/messages", {"user": "U0ALICE01", "channel": "incidents", "text": "hi"}
        )
        assert emulator.transcript("incidents")[0]["ts"] == posted["ts"]

    def test_unknown_paths_are_404(self, emulator: Emulator, admin: Any) -> None:
        """Unknown paths and unknown channels are 404 with JSON (`/` is the sandbox page)."""
        for path in ("/nope", "/sandbox/channels/nope/messages"):
            with pytest.raises(urllib.error.HTTPError) as caught:
                admin(path)
            assert caught.value.code == 404


class TestWorkspace:
    def test_default_workspace(self) -> None:
        """The bundled workspace has the ids the rest of Tocsin's tests rely on."""
        spec = load_workspace()
        users = {u.name: u.id for u in spec.users}
        assert users["alice"] == "U0ALICE01"
        assert users["lead"] == "U0LEAD1"
        groups = {g.handle: list(g.users) for g in spec.usergroups}
        assert groups == {
            "eng-managers": ["U0GRACE01", "U0LEAD1"],
            "payments-oncall": ["U0ALICE01", "U0BOB0001"],
        }
        assert spec.bot.user_id == "U0TOCSIN1"
        assert spec.bot.bot_id == "B0TOCSIN1"

    def test_users_methods(self, client: WebClient) -> None:
        """users.info / lookupByEmail / list and usergroups come from the workspace file."""
        assert client.users_info(user="U0CAROL01")["user"]["tz"] == "Asia/Singapore"
        assert client.users_lookupByEmail(email="dave@example.com")["user"]["id"] == "U0DAVE001"
        with pytest.raises(SlackApiError) as caught:
            client.users_lookupByEmail(email="nobody@example.com")
        assert caught.value.response["error"] == "users_not_found"
        with pytest.raises(SlackApiError) as caught:
            client.users_info(user="U0GHOST")
        assert caught.value.response["error"] == "user_not_found"
        members = client.users_list()["members"]
        assert [m["is_bot"] for m in members if m["id"] == "U0TOCSIN1"] == [True]
        assert client.usergroups_users_list(usergroup="S0PAYMENTS")["users"] == [
            "U0ALICE01",
            "U0BOB0001",
        ]

    def test_bad_workspace_names_the_key(self, tmp_path: Path) -> None:
        """A workspace file with an unknown member fails with the file and the problem."""
        bad = tmp_path / "ws.yaml"
        bad.write_text(
            "team: {id: T1, name: t, domain: t}\n"
            "bot: {user_id: U0B, bot_id: B0B, app_id: A0B, name: b, real_name: B}\n"
            "users: [{id: U1, name: a, real_name: A}]\n"
            "channels: [{id: C1, name: x, members: [U9]}]\n"
        )
        with pytest.raises(WorkspaceError, match=r"ws\.yaml.*unknown member U9"):
            load_workspace(bad)


class TestRunner:
    def test_run_sandbox_serves_until_interrupted(self, tmp_path: Path) -> None:
        """`run_sandbox` serves a real WebClient and exits 0 on Ctrl-C."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        code = (
            "import sys; from bot.sandbox.cli import run_sandbox; "
            f"sys.exit(run_sandbox({port}, None))"
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", code], stderr=subprocess.PIPE, env=dict(os.environ)
        )
        try:
            url = f"http://127.0.0.1:{port}/api/"
            deadline = time.monotonic() + 10
            while True:
                try:
                    assert WebClient(token="xoxb-sandbox", base_url=url).auth_test()["ok"]
                    break
                except (urllib.error.URLError, ConnectionError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
