"""Exposed HTTP surfaces of the real `tocsin web` (gunicorn): request bodies are capped at
1 MiB before they are read, and /metrics asks for a bearer token when one is configured."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping

import pytest

from bot.sandbox import payloads
from bot.sandbox.wire import sign
from bot.web_limits import MAX_BODY
from tests.e2e.support import SECRET, Stack
from tests.raw_http import announced, pieces, streamed
from tests.reliability.conftest import MakeStack

pytestmark = pytest.mark.integration

TWO_MIB = 2 * 1024 * 1024
METRICS_TOKEN = "metrics-token-for-tests"


def get(stack: Stack, path: str, headers: Mapping[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(stack.url + path, headers=dict(headers or {}))  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class TestBodyCap:
    def test_a_2_mib_body_gets_413_on_every_endpoint_before_it_is_read(
        self, make_stack: MakeStack
    ) -> None:
        """Every route answers 413 to a head announcing 2 MiB, before the body is sent; a sent 2 MiB body too; the process still serves signed commands."""
        stack = make_stack(workers=1)
        web = stack.procs[0]
        for method, path in (
            ("POST", "/slack/events"),
            ("POST", "/healthz"),
            ("GET", "/metrics"),
            ("GET", "/readyz"),
            ("POST", "/notify/ack/some-token"),
            ("PUT", "/anything/else"),
        ):
            status, body = announced(stack.url, method, path, TWO_MIB)
            assert (path, status) == (path, 413), body
            assert f"over {MAX_BODY} bytes".encode() in body
        assert announced(stack.url, "POST", "/slack/events", MAX_BODY + 1)[0] == 413
        sent = streamed(stack.url, "/slack/events", pieces(TWO_MIB), {}, length=TWO_MIB)
        assert sent[0] == 413  # the whole 2 MiB sent: answered all the same
        assert get(stack, "/healthz")[0] == 200
        reply = stack.driver().slash("U0ALICE01", "help")
        assert reply.status == 200
        assert "/incident" in reply.text
        assert web.poll() is None

    def test_a_chunked_body_is_cut_off_at_1_mib_and_a_small_one_still_works(
        self, make_stack: MakeStack
    ) -> None:
        """2 MiB sent chunked: 413 after 1 MiB; a signed command sent chunked is answered as usual."""
        stack = make_stack(workers=1)
        status, body = streamed(stack.url, "/slack/events", pieces(TWO_MIB), {})
        assert status == 413, body
        emu = stack.emulator
        fields = payloads.slash_command(
            emu.payload_workspace,
            user_id="U0ALICE01",
            user_name="alice",
            channel_id="C0INCIDENTS",
            channel_name="incidents",
            command="/incident",
            text="help",
            trigger_id=emu.mint_trigger_id("U0ALICE01"),
        )
        body = urllib.parse.urlencode(fields).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(SECRET, stamp, body),
        }
        status, answer = streamed(
            stack.url, "/slack/events", iter([body[:100], body[100:]]), headers
        )
        assert status == 200, answer
        assert "`/incident ack`" in answer.decode()
        assert stack.procs[0].poll() is None


class TestMetricsToken:
    def test_metrics_needs_the_bearer_token_when_one_is_set(self, make_stack: MakeStack) -> None:
        """TOCSIN_METRICS_TOKEN set: no or a wrong Authorization is 401; the right bearer token scrapes."""
        stack = make_stack(workers=1, env={"TOCSIN_METRICS_TOKEN": METRICS_TOKEN})
        status, body = get(stack, "/metrics")
        assert status == 401
        assert "tocsin_" not in body
        assert get(stack, "/metrics", {"Authorization": "Bearer wrong"})[0] == 401
        assert get(stack, "/metrics", {"Authorization": METRICS_TOKEN})[0] == 401
        status, body = get(stack, "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert status == 200
        assert "tocsin_pages_sent_total" in body
        assert get(stack, "/healthz")[0] == 200  # only /metrics asks for it

    def test_without_a_token_metrics_stay_open(self, make_stack: MakeStack) -> None:
        """No TOCSIN_METRICS_TOKEN: /metrics answers without Authorization, as before."""
        stack = make_stack(workers=1)
        status, body = get(stack, "/metrics")
        assert status == 200
        assert "tocsin_pages_sent_total" in body
