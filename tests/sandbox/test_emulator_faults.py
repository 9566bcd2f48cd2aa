"""Fault injection and rate limits, seen through the real WebClient and its retry handlers."""

from __future__ import annotations

import contextlib
import socket
import struct
import time
import urllib.error
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator

from bot.sandbox.emulator import Emulator
from bot.sandbox.faults import FaultError


class NoWait(RetryIntervalCalculator):
    def calculate_sleep_duration(self, current_attempt: int) -> float:
        return 0.0


def _post(client: WebClient, text: str = "hi") -> str:
    return str(client.chat_postMessage(channel="C0INCIDENTS", text=text)["ts"])


class TestRateLimitFaults:
    def test_429_is_retried_after_retry_after(self, emulator: Emulator) -> None:
        """A 429 carries Retry-After; RateLimitErrorRetryHandler waits that long and succeeds."""
        emulator.faults.add("429", method="chat.postMessage", nth=1, retry_after=1)
        client = WebClient(
            token=emulator.bot_token,
            base_url=emulator.url,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
        )
        started = time.monotonic()
        _post(client)
        assert time.monotonic() - started >= 1.0
        outcomes = [(c["status"], c["ok"]) for c in emulator.calls("chat.postMessage")]
        assert outcomes == [(429, False), (200, True)]
        assert len(emulator.transcript("incidents")) == 1

    def test_429_without_retry_handler_surfaces(
        self, emulator: Emulator, client: WebClient
    ) -> None:
        """Without a handler the client sees status 429, error ratelimited and the header."""
        emulator.faults.add("429", method="chat.postMessage", retry_after=7)
        with pytest.raises(SlackApiError) as caught:
            _post(client)
        assert caught.value.response.status_code == 429
        assert caught.value.response["error"] == "ratelimited"
        assert caught.value.response.headers["Retry-After"] == "7"

    def test_nth_call_fault_fires_once_on_that_call(
        self, emulator: Emulator, client: WebClient
    ) -> None:
        """nth=3 fails exactly the third matching call; calls to other methods do not count."""
        emulator.faults.add("500", method="chat.postMessage", nth=3)
        client.auth_test()
        _post(client)
        _post(client)
        with pytest.raises(SlackApiError) as caught:
            _post(client)
        assert caught.value.response.status_code == 500
        _post(client)
        statuses = [c["status"] for c in emulator.calls("chat.postMessage")]
        assert statuses == [200, 200, 500, 200]

    def test_rate_faults_replay_with_the_same_seed(self) -> None:
        """A seeded rate gives the same fault pattern on every run."""
        patterns = []
        for _ in range(2):
            with Emulator(fault_seed=42) as emu:
                emu.faults.add("503", method="auth.test", rate=0.5)
                client = WebClient(token=emu.bot_token, base_url=emu.url)
                for _ in range(20):
                    with contextlib.suppress(SlackApiError):
                        client.auth_test()
                patterns.append([c["status"] for c in emu.calls("auth.test")])
        assert patterns[0] == patterns[1]
        assert 200 in patterns[0]
        assert 503 in patterns[0]

    def test_glob_method_and_clear(self, emulator: Emulator, client: WebClient) -> None:
        """A rule on `chat.*` hits every chat method; clear() removes it."""
        emulator.faults.add("503", method="chat.*")
        with pytest.raises(SlackApiError):
            _post(client)
        client.auth_test()
        emulator.faults.clear()
        _post(client)

    def test_bad_rules_are_refused(self, emulator: Emulator) -> None:
        """Unknown kinds and out-of-range rates raise FaultError."""
        with pytest.raises(FaultError):
            emulator.faults.add("418")
        with pytest.raises(FaultError):
            emulator.faults.add("429", rate=1.5)


class TestServerErrors:
    @pytest.mark.parametrize("kind", ["500", "503"])
    def test_server_error_is_retried(self, emulator: Emulator, kind: str) -> None:
        """ServerErrorRetryHandler retries a 5xx and the second attempt succeeds."""
        emulator.faults.add(kind, method="chat.postMessage", nth=1)
        client = WebClient(
            token=emulator.bot_token,
            base_url=emulator.url,
            retry_handlers=[
                ServerErrorRetryHandler(max_retry_count=1, interval_calculator=NoWait())
            ],
        )
        _post(client)
        assert [c["status"] for c in emulator.calls("chat.postMessage")] == [int(kind), 200]
        assert len(emulator.transcript("incidents")) == 1


class TestConnectionFaults:
    def test_delay_slows_the_answer(self, emulator: Emulator, client: WebClient) -> None:
        """A delay fault answers normally, late."""
        emulator.faults.add("delay", method="auth.test", delay=0.4)
        started = time.monotonic()
        client.auth_test()
        assert time.monotonic() - started >= 0.4

    def test_timeout_exceeds_the_client_timeout(self, emulator: Emulator) -> None:
        """A held connection makes the client time out; the call had no effect."""
        emulator.faults.add("timeout", method="chat.postMessage", nth=1, delay=3)
        client = WebClient(token=emulator.bot_token, base_url=emulator.url, timeout=1)
        with pytest.raises(TimeoutError):
            _post(client)
        assert emulator.transcript("incidents") == []

    def test_timeout_then_retry_succeeds(self, emulator: Emulator) -> None:
        """ConnectionErrorRetryHandler told to retry timeouts gets through on the next attempt."""
        emulator.faults.add("timeout", method="chat.postMessage", nth=1, delay=3)
        handler = ConnectionErrorRetryHandler(
            max_retry_count=1, interval_calculator=NoWait(), error_types=[TimeoutError]
        )
        client = WebClient(
            token=emulator.bot_token, base_url=emulator.url, timeout=1, retry_handlers=[handler]
        )
        _post(client)
        assert len(emulator.transcript("incidents")) == 1

    def test_timeout_after_the_effect_duplicates_on_retry(self, emulator: Emulator) -> None:
        """when="after": Slack performed the post but the client timed out; a retry posts twice."""
        emulator.faults.add("timeout", method="chat.postMessage", nth=1, delay=3, when="after")
        handler = ConnectionErrorRetryHandler(
            max_retry_count=1, interval_calculator=NoWait(), error_types=[TimeoutError]
        )
        client = WebClient(
            token=emulator.bot_token, base_url=emulator.url, timeout=1, retry_handlers=[handler]
        )
        _post(client)
        assert len(emulator.transcript("incidents")) == 2

    def test_reset_is_retried_by_the_default_handler(self, emulator: Emulator) -> None:
        """A dropped connection is a RemoteDisconnected, which the default handler retries."""
        emulator.faults.add("reset", method="auth.test", nth=1)
        client = WebClient(
            token=emulator.bot_token,
            base_url=emulator.url,
            retry_handlers=[ConnectionErrorRetryHandler(interval_calculator=NoWait())],
        )
        assert client.auth_test()["ok"] is True


class TestFaultsOverHttp:
    def test_admin_endpoint_adds_lists_and_clears(
        self, emulator: Emulator, client: WebClient, admin: Any
    ) -> None:
        """POST /sandbox/faults adds a rule another process can rely on; DELETE clears it."""
        added = admin("/sandbox/faults", {"kind": "429", "method": "chat.postMessage", "nth": 1})
        assert added["fault"]["nth"] == 1
        assert [f["kind"] for f in admin("/sandbox/faults")] == ["429"]
        with pytest.raises(SlackApiError):
            _post(client)
        admin("/sandbox/faults", method="DELETE")
        assert admin("/sandbox/faults") == []

    def test_admin_endpoint_rejects_a_bad_rule(self, admin: Any) -> None:
        """A rule with an unknown kind is answered 400 with the reason."""
        with pytest.raises(urllib.error.HTTPError) as caught:
            admin("/sandbox/faults", {"kind": "teapot"})
        assert caught.value.code == 400


class TestRealisticRateLimits:
    def test_post_message_bursts_then_limits_per_channel(self) -> None:
        """About one post per second per channel after a short burst; other channels unaffected."""
        with Emulator(rate_limits=True) as emu:
            client = WebClient(token=emu.bot_token, base_url=emu.url)
            for _ in range(3):
                _post(client)
            with pytest.raises(SlackApiError) as caught:
                _post(client)
            assert caught.value.response.status_code == 429
            assert int(caught.value.response.headers["Retry-After"]) >= 1
            client.chat_postMessage(channel="C0STATUS", text="elsewhere")

    def test_tier_2_method_limits_per_minute(self) -> None:
        """conversations.create answers 429 after about 20 calls in a minute."""
        with Emulator(rate_limits=True) as emu:
            client = WebClient(token=emu.bot_token, base_url=emu.url)
            for n in range(20):
                client.conversations_create(name=f"inc-{n}")
            with pytest.raises(SlackApiError) as caught:
                client.conversations_create(name="inc-too-many")
            assert caught.value.response.status_code == 429

    def test_limits_are_off_by_default(self, client: WebClient) -> None:
        """Without rate_limits=True a burst of posts all succeed."""
        for n in range(10):
            _post(client, str(n))


class TestBrowserDisconnects:
    def test_a_client_that_hangs_up_mid_answer_prints_no_traceback(
        self, emulator: Emulator, capfd: pytest.CaptureFixture[str]
    ) -> None:
        """A browser closing its tab mid-response is counted, not printed as a traceback."""

        def hang_up() -> None:
            with socket.create_connection(("127.0.0.1", emulator.port)) as conn:
                conn.sendall(b"GET /static/app.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

        def dropped() -> int:
            hang_up()  # a reset usually lands before the answer is written; try until one did
            return emulator.dropped_connections

        emulator.wait_for(dropped, timeout=10)
        err = capfd.readouterr().err
        assert "Traceback" not in err
        assert "ConnectionResetError" not in err
