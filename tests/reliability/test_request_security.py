"""Invariant 6: signatures, decision rights, markup injection, secrets in logs, private
incidents. Every request goes over signed HTTP to the real `tocsin web`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from structlog.testing import capture_logs

from bot.domain.timeline import Kind
from bot.render.blocks import ACK
from bot.sandbox.driver import Driver
from bot.sandbox.emulator import Emulator
from bot.sandbox.wire import Tamper
from bot.state.counters import read
from bot.state.store import Store
from tests.e2e.support import SECRET, Stack, wait_for
from tests.reliability.conftest import APP_TOKEN, MakeStack
from tests.reliability.slack_helpers import click, declare, ephemeral_texts, header
from tests.reliability.support import log_events

pytestmark = pytest.mark.integration

BOT_TOKEN = "xoxb-reliability-0123456789-abcdefSECRET"
EVIL = "<!channel> <!here> <@U0MALLORY1> <https://evil.example|x> <!subteam^S0ENGMGRS>"
RAW = ("<!channel>", "<!here>", "<@U0MALLORY1>", "<https://evil", "<!subteam^S0ENGMGRS>")


def tocsin_keys(r: redis.Redis) -> dict[str, Any]:
    return {k: r.type(k) for k in r.keys("tocsin:*")}


def driver_at(stack: Stack, seconds_ago: float) -> Driver:
    """A driver whose requests are correctly signed but stamped `seconds_ago`."""
    emu = stack.emulator
    return Driver(
        stack.url + "/slack/events",
        SECRET,
        workspace=emu.payload_workspace,
        mint_trigger_id=emu.mint_trigger_id,
        clock=lambda: time.time() - seconds_ago,
    )


def mrkdwn_strings(value: Any, rendered: bool = False) -> Iterator[str]:
    """Every string Slack renders as mrkdwn inside a message, view or blocks argument."""
    if isinstance(value, str):
        if value[:1] in "[{":
            try:
                yield from mrkdwn_strings(json.loads(value))
                return
            except ValueError:
                pass
        if rendered:
            yield value
    elif isinstance(value, list):
        for item in value:
            yield from mrkdwn_strings(item)
    elif isinstance(value, dict):
        if value.get("type") == "plain_text":
            return  # shown literally; Slack does not parse mentions there
        for key, item in value.items():
            yield from mrkdwn_strings(
                item, rendered=key == "text" and value.get("type") == "mrkdwn"
            )


def rendered_texts(emu: Emulator) -> list[str]:
    out: list[str] = []
    for call in emu.calls():
        args = call["args"]
        if call["method"] in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            out.append(str(args.get("text", "")))
            out += list(mrkdwn_strings(args.get("blocks")))
            out += list(mrkdwn_strings(args.get("attachments")))
        elif call["method"].startswith("views."):
            out += list(mrkdwn_strings(args.get("view")))
        elif call["method"] in ("conversations.setTopic", "conversations.setPurpose"):
            out.append(str(args.get("topic", args.get("purpose", ""))))
        elif call["method"] == "bookmarks.add":
            out.append(str(args.get("title", "")))
    for entry in emu.ephemerals():
        out.append(str(entry["text"]))
        out += list(mrkdwn_strings(entry.get("blocks")))
    return out


def open_view(stack: Stack, user: str, callback_id: str) -> dict[str, Any]:
    entries = wait_for(
        lambda: [v for v in stack.emulator.views(user) if v["callback_id"] == callback_id]
    )
    return {**entries[-1]["view"], "id": entries[-1]["id"]}


class TestSignatures:
    def test_forged_stale_and_replayed_stale_requests_get_401_and_write_nothing(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """Forged, 6-minute-old, and a byte-for-byte replay of a stale request: 401, no key written, no Slack call."""
        stack = make_stack()
        before, calls = tocsin_keys(r), len(stack.emulator.calls())
        forged = stack.driver().slash(
            "U0ALICE01", "declare sev1 Fake", tamper=Tamper(forge_signature=True)
        )
        stale = driver_at(stack, 360).slash("U0ALICE01", "declare sev1 Old but signed")
        replayed = stack.driver().replay(stale)
        just_stale = driver_at(stack, 301).slash("U0ALICE01", "declare sev1 Just stale")
        assert [forged.status, stale.status, replayed.status, just_stale.status] == [401] * 4
        # Nothing can follow a 401: Bolt refuses a bad signature before any listener (or its
        # ack) runs, so what the four requests wrote is all written when they are answered.
        assert tocsin_keys(r) == before
        assert len(stack.emulator.calls()) == calls

    def test_a_replay_within_the_window_is_accepted_but_has_no_second_effect(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """Bolt accepts an exact replay inside 5 minutes; the idempotency key makes it a no-op."""
        stack = make_stack()
        driver = stack.driver()
        first = driver.slash("U0ERIN001", "declare sev2 Checkout errors")
        replay = driver.replay(first)
        assert replay.status == 200
        # Declaring is done when the command is answered: a second incident would be here now.
        assert r.scard("tocsin:open") == 1
        assert replay.text == ""  # acknowledged, nothing said
        (incident_id,) = Store(r).open_ids()
        channel = wait_for(lambda: Store(r).get(incident_id).channel_id, timeout=30)
        wait_for(lambda: stack.emulator.pins(channel), timeout=30)
        assert [c["id"] for c in stack.emulator.channels() if c["name"].startswith("inc-")] == [
            channel
        ]


class TestDecisionRights:
    def test_refused_actions_are_answered_and_logged(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """frank may neither ack (command or button) nor resolve a sev2: refused, counted (not on the timeline), logged as action_refused."""
        stack = make_stack()
        incident_id, channel = declare(stack)
        driver = stack.driver()
        ack = driver.slash("U0FRANK01", "ack", channel_id=channel)
        assert "You may not acknowledge" in ack.text
        resolve = driver.slash("U0FRANK01", "resolve done", channel_id=channel)
        assert "You may not resolve" in resolve.text
        click(stack, "U0FRANK01", header(stack, channel), ACK)
        wait_for(lambda: [t for t in ephemeral_texts(stack, "U0FRANK01") if "may not" in t])
        store = Store(r)
        assert store.get(incident_id).status.value == "triggered"
        assert Kind.REFUSED not in {e.kind for e in store.timeline(incident_id)}
        counted = {tuple(labels.values()): n for name, labels, n in read(r) if name == "refused"}
        assert counted == {("acknowledge", "rights"): 2, ("resolve", "rights"): 1}
        logged = wait_for(
            lambda: (
                [
                    e
                    for e in log_events(stack.log_dir)
                    if e.get("event") == "action_refused" and e.get("user_id") == "U0FRANK01"
                ]
                if len([e for e in log_events(stack.log_dir) if e.get("event") == "action_refused"])
                >= 3
                else None
            ),
            timeout=10,
        )
        assert {e["incident_id"] for e in logged} == {incident_id}
        assert all(e["level"] == "warning" for e in logged)

    def test_refusal_is_logged_in_process(self, make_stack: MakeStack) -> None:
        """The engine logs action_refused through structlog with the rule that refused it."""
        from bot.config.settings import Settings
        from bot.runtime import Runtime

        stack = make_stack(workers=1)
        incident_id, _ = declare(stack)
        rt = Runtime.build(Settings.from_env(stack.env), owner="test")
        with capture_logs() as logs:
            outcome = rt.engine.resolve(incident_id, "U0FRANK01", "nope")
        assert not outcome.ok
        refused = [e for e in logs if e["event"] == "action_refused"]
        assert refused[0]["user_id"] == "U0FRANK01"
        assert "rights.resolve" in refused[0]["rule"]
        assert refused[0]["log_level"] == "warning"


class TestMarkupAndSecrets:
    def test_injected_markup_is_escaped_everywhere_and_no_secret_is_logged(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """Mentions and links typed into titles, notes, updates, reasons and modals never reach Slack unescaped; no log line holds a secret."""
        emu = Emulator(bot_token=BOT_TOKEN)
        stack = make_stack(emulator=emu)
        driver = stack.driver()
        incident_id, channel = declare(stack, f"declare sev2 Checkout {EVIL}")
        slash_replies = []
        for text in (
            f"note {EVIL}",
            f"update {EVIL}",
            f"escalate {EVIL}",
            f"page <@U0BOB0001|bob> {EVIL}",
            f"sev sev1 {EVIL}",
            "status",
            "timeline",
            "list",
        ):
            slash_replies.append(driver.slash("U0ERIN001", text, channel_id=channel).text)
        driver.slash("U0ERIN001", "update", channel_id=channel)
        view = open_view(stack, "U0ERIN001", "status_update")
        driver.submit_view(
            "U0ERIN001",
            view,
            {
                "status": "identified",
                "symptoms": EVIL,
                "actions": EVIL,
                "next_steps": EVIL,
                "next_in": "1800",
            },
        )
        driver.slash("U0ERIN001", "")
        view = open_view(stack, "U0ERIN001", "declare_incident")
        driver.submit_view(
            "U0ERIN001",
            view,
            {
                "title": EVIL,
                "service": "checkout",
                "users_affected": "lt5",
                "severity": "sev2",
                "description": EVIL,
            },
        )
        driver.slash("U0ERIN001", f"resolve {EVIL}", channel_id=channel)
        driver.slash("U0FRANK01", f"declare sev9 {EVIL}")  # a usage error echoes nothing raw
        store = Store(r)
        wait_for(
            lambda: (
                len(store.open_ids()) >= 1
                and all(
                    i.status == "sent"
                    for inc in [*store.open_ids(), incident_id]
                    for i in store.outbox(inc)
                )
            ),
            timeout=40,
        )
        texts = rendered_texts(emu) + slash_replies
        assert any("&lt;!channel&gt;" in t for t in texts)  # the payload did get rendered
        leaks = [t for t in texts if any(raw in t for raw in RAW)]
        assert leaks == []
        # Secrets: every log line of web and workers, and the in-process logs.
        secrets = (BOT_TOKEN, SECRET, APP_TOKEN)
        refused = stack.driver().slash("U0ALICE01", "ack", tamper=Tamper(forge_signature=True))
        assert refused.status == 401  # Bolt logs the refused request before it answers 401
        for path in stack.log_dir.glob("*.log"):
            content = path.read_text(errors="replace")
            assert content, path
            for secret in secrets:
                assert secret not in content, f"{secret[:6]}… in {path.name}"
        from bot.config.settings import Settings
        from bot.runtime import Runtime

        with capture_logs() as logs:
            rt = Runtime.build(Settings.from_env(stack.env), owner="test")
            rt.engine.note(incident_id, "U0ERIN001", "in-process")
            repr(rt.settings)
        dumped = json.dumps(logs, default=str) + repr(rt.settings)
        assert not [s for s in secrets if s in dumped]


class TestPrivateIncidents:
    def test_a_private_incident_leaks_nothing_outside_its_channel(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """Title, description and service of a private incident reach neither the stakeholder nor the fallback channel, nor /incident list elsewhere."""
        stack = make_stack()
        driver = stack.driver()
        title, description = "Tenant data exposed zq41", "other tenants rows xk77"
        driver.slash("U0ERIN001", "")
        view = open_view(stack, "U0ERIN001", "declare_incident")
        driver.submit_view(
            "U0ERIN001",
            view,
            {
                "title": title,
                "service": "payments-api",
                "users_affected": "lt5",
                "severity": "sev2",
                "private": ["private"],
                "description": description,
            },
        )
        store = Store(r)
        (incident_id,) = wait_for(lambda: store.open_ids(), timeout=10)
        channel = wait_for(lambda: store.get(incident_id).channel_id, timeout=30)
        wait_for(lambda: stack.emulator.pins(channel), timeout=30)
        driver.slash("U0ERIN001", "update", channel_id=channel)
        view = open_view(stack, "U0ERIN001", "status_update")
        driver.submit_view(
            "U0ERIN001",
            view,
            {
                "status": "identified",
                "symptoms": "s",
                "actions": "a",
                "next_steps": "n",
                "next_in": "1800",
            },
        )
        # Nobody acknowledges: the policy runs out and the fallback channel hears.
        wait_for(
            lambda: [
                m for m in stack.emulator.transcript("C0INCIDENTS") if "exhausted" in m["text"]
            ],
            timeout=30,
        )
        listed = driver.slash("U0FRANK01", "list", channel_id="C0GENERAL").text

        def public_once_update_1_is_in() -> list[str] | None:
            msgs = [
                json.dumps(m)
                for ref in ("C0STATUS", "C0INCIDENTS", "C0GENERAL")
                for m in stack.emulator.transcript(ref)
            ]
            return msgs if any("update 1 posted" in m for m in msgs) else None

        # The stakeholders hear of update 1 (after the declaration): both posts are in.
        public = wait_for(public_once_update_1_is_in, timeout=30)
        for secret in (title, description, "payments-api"):
            assert not [p for p in public if secret in p], secret
            assert secret not in listed
