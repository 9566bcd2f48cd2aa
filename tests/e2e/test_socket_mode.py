"""`tocsin socket`: the same app over Socket Mode, with the sandbox's envelope server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox import payloads
from bot.sandbox.emulator import Emulator
from bot.sandbox.socket_hub import SocketHub
from tests.e2e.support import ROOT, SECRET, stack_env, wait_for, write_config


@pytest.fixture
def hub() -> Iterator[SocketHub]:
    with SocketHub() as running:
        yield running


def test_slash_command_over_socket_mode_declares_and_pages(
    redis_url: str, tmp_path: Path, hub: SocketHub
) -> None:
    """A slash command envelope is acked with its envelope id; the incident opens its channel and pages."""
    emulator = Emulator().start()
    emulator.socket_mode_url = hub.url
    env = stack_env(
        redis_url, emulator, write_config(tmp_path / "config"), ROOT / "runbooks", SECRET
    )
    env["SLACK_APP_TOKEN"] = emulator.app_token
    # the sandbox's Twilio is configured, and voice pages need the URL Twilio posts keypresses
    # to (nothing here answers it: no call is made in this test)
    env["TOCSIN_PUBLIC_URL"] = "http://127.0.0.1:9"
    log = open(tmp_path / "socket.log", "wb")  # noqa: SIM115
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "socket"], env=env, stdout=log, stderr=log
        ),
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "worker"], env=env, stdout=log, stderr=log
        ),
    ]
    try:
        hub.wait_connected(timeout=20)
        form = payloads.slash_command(
            emulator.payload_workspace,
            user_id="U0ERIN001",
            user_name="erin",
            channel_id="C0INCIDENTS",
            channel_name="incidents",
            command="/incident",
            text="declare sev2 Checkout errors",
            trigger_id=emulator.mint_trigger_id("U0ERIN001"),
        )
        ack = hub.send("slash_commands", form, accepts_response_payload=True, timeout=10)
        assert "Declared SEV2" in str(ack.get("payload"))
        channel = wait_for(lambda: [c for c in emulator.channels() if c["name"].startswith("inc-")])
        assert wait_for(lambda: emulator.pins(channel[0]["id"]))
        wait_for(lambda: emulator.dms("U0ALICE01").get("U0ALICE01"))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        log.close()
        emulator.stop()
