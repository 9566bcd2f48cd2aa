"""`tocsin demo`: the scripted incident plays to the end, and leaves the page as a person expects."""

from __future__ import annotations

import subprocess
import sys
from email.utils import parsedate_to_datetime
from importlib import resources
from pathlib import Path

from bot.cli.demo import ALICE, BOB, SECRET, phones, script
from bot.sandbox.emulator import Emulator
from bot.sandbox.page import page_state
from bot.sandbox.stack import LocalStack, stack_env
from tests.e2e.support import ROOT


def test_demo_plays_the_whole_script() -> None:
    """Declare, page tier 1 on Slack then by SMS, escalate to tier 2, ack by SMS reply, two
    updates with a reminder, mitigate, resolve, a handoff."""
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--no-serve"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    for expected in (
        "DM @alice",
        "DM @bob",
        "SMS @alice",
        "SMS @bob                           bob: ACK",
        "Tocsin: you acknowledged incident",
        "Acknowledged by @bob",
        "*Update 1* · identified",
        "a status update was due",
        "*Update 2* · monitoring",
        "Mitigated by @alice",
        "Resolved by @erin",
        "time to acknowledge",
        "Alerts from *prometheus*: 1 firing",
        "Resolved by alerts from prometheus",
        "Handoff on payments-primary",
        "provider still flaky",
    ):
        assert expected in out, expected
    assert out.index("DM @alice") < out.index("SMS @alice") < out.index("DM @bob")
    assert out.index("DM @bob") < out.index("Acknowledged by @bob")


def test_alice_gets_the_sms_bob_acks_by_reply_and_no_modal_stays_open(
    redis_url: str, tmp_path: Path
) -> None:
    """After her unanswered DM alice's phone gets the page; bob's signed SMS reply reaches
    tocsin web and acknowledges, said in the channel. The demo's modals were submitted as
    Slack submits them, so the page shows none to anyone. Counted on the emulators."""
    config = Path(str(resources.files("bot.sandbox").joinpath("demo_config")))
    emulator = Emulator().start()
    env = stack_env(redis_url, emulator, config, ROOT / "runbooks", SECRET)
    stack = LocalStack(emulator, env, tmp_path, SECRET)
    try:
        stack.start()
        channel = script(stack)
        phone = phones(config)
        inbox = emulator.twilio.phones()
        [alice_dm] = [m for m in emulator.dms(ALICE)[ALICE] if "You are paged" in m["text"]]
        [alice_sms] = inbox[phone[ALICE]]["sms"]  # one page, and she never replied
        assert alice_sms["direction"] == "outbound-api"
        assert "Reply ACK" in alice_sms["body"]
        sent_at = parsedate_to_datetime(alice_sms["date_created"]).timestamp()
        assert sent_at >= int(float(alice_dm["ts"])), "the SMS came after the Slack DM"
        bobs = [(m["direction"], m["body"]) for m in inbox[phone[BOB]]["sms"]]
        assert [d for d, _ in bobs] == ["outbound-api", "inbound", "outbound-reply"]
        assert bobs[1][1] == "ACK"
        assert bobs[2][1].startswith("Tocsin: you acknowledged incident")
        said = [m["text"] for m in emulator.transcript(channel)]
        assert [t for t in said if t.endswith(f"Acknowledged by <@{BOB}>")]

        opened = [c for c in emulator.calls("views.open") if c["ok"]]
        assert len(opened) >= 3, "the demo opened the update and resolve modals"
        assert [v["callback_id"] for v in emulator.views() if v["type"] == "modal"] == []
        for user in emulator.workspace()["users"]:
            assert page_state(emulator, user["id"], channel)["modal"] is None, user["name"]
    finally:
        stack.stop()
        emulator.stop()
