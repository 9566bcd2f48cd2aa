"""response_url POSTs over kept-alive connections, against a real HTTP/1.1 server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk.models.blocks import SectionBlock

from bot.slack.response_urls import ResponseUrls, message

pytestmark = pytest.mark.integration


class Hooks(ThreadingHTTPServer):
    """Records each POST; with `hang_up`, closes every connection after answering, without
    saying so (as a server timing out an idle kept-alive connection does)."""

    def __init__(self, hang_up: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hang_up = hang_up
        self.bodies: list[dict[str, Any]] = []
        self.connections = 0


class _Handler(BaseHTTPRequestHandler):
    server: Hooks
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.server.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
        self.close_connection = self.server.hang_up


def serve(hang_up: bool) -> Iterator[Hooks]:
    server = Hooks(hang_up)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    yield from serve(hang_up=False)


@pytest.fixture
def hanging_up() -> Iterator[Hooks]:
    yield from serve(hang_up=True)


def url(server: Hooks) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/actions/T1/abc"


def test_messages_share_one_connection_and_arrive_in_order(hooks: Hooks) -> None:
    urls = ResponseUrls()
    first = message("first", response_type="ephemeral", replace_original=False)
    second = message(
        "second", blocks=[SectionBlock(text="*hi*")], replace_original=True, thread_ts=None
    )
    assert urls.post(url(hooks), first) == 200
    assert urls.post(url(hooks), second) == 200
    assert hooks.connections == 1
    assert hooks.bodies[0] == {
        "text": "first",
        "response_type": "ephemeral",
        "replace_original": False,
    }
    assert hooks.bodies[1]["text"] == "second"
    assert hooks.bodies[1]["blocks"][0]["text"] == {"type": "mrkdwn", "text": "*hi*"}
    assert "thread_ts" not in hooks.bodies[1]


def test_a_connection_the_server_closed_is_replaced_and_nothing_is_lost(
    hanging_up: Hooks,
) -> None:
    urls = ResponseUrls()
    for n in range(3):
        assert urls.post(url(hanging_up), message(f"m{n}")) == 200
    assert [b["text"] for b in hanging_up.bodies] == ["m0", "m1", "m2"]  # once each
    assert hanging_up.connections == 3


def test_only_http_urls_are_posted_to() -> None:
    with pytest.raises(ValueError, match="http"):
        ResponseUrls().post("file:///etc/passwd", message("x"))
