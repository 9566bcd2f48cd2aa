"""Acknowledging from a phone: the sandbox's Twilio posts signed webhooks, as Twilio does, to
the app's /notify/twilio routes, and the incident is acknowledged through the command path.

The stack is real (gunicorn `tocsin web`, an rq worker, the Slack emulator); the Twilio
routes are served by the same WebApp in this process, because which page a reply answers
(`Replies`) is given to it here: a dictionary stands in for the outbox's record of pages.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config.settings import Settings
from bot.inbound.twilio import TwilioInbound
from bot.notify import Notice
from bot.notify.twilio import TwilioVoice
from bot.runtime import Runtime
from bot.sandbox.app_server import AppServer
from bot.web import WebApp
from tests.e2e.support import SECRET, Stack, wait_for
from tests.e2e.test_declare_flow import declare, dm_texts, texts

ALICE, ALICE_PHONE = "U0ALICE01", "+4930123456"


class PagesSent:
    """Replies: the pages sent, (method, number) -> (incident, user)."""

    def __init__(self) -> None:
        self.pages: dict[tuple[str, str], tuple[str, str]] = {}

    def page_for(self, method: str, address: str, code: str | None) -> tuple[str, str] | None:
        return self.pages.get((method, address))


@pytest.fixture
def phones(stack: Stack) -> Iterator[tuple[Runtime, PagesSent, str]]:
    """The app's Twilio routes on a local server; the sandbox's phones reply to it."""
    rt = Runtime.build(Settings.from_env(stack.env), inline_delivery=False)
    sent = PagesSent()
    inbound = TwilioInbound(stack.emulator.twilio.auth_token, "http://placeholder", sent, rt.engine)
    server = AppServer(WebApp(rt, SECRET, env=stack.env, twilio=inbound), path="").start()
    inbound.public_url = server.url
    stack.emulator.twilio.sms_url = server.url + "/notify/twilio/sms"
    try:
        yield rt, sent, server.url
    finally:
        server.stop()


def test_an_sms_reply_acknowledges_and_a_forged_one_does_nothing(
    stack: Stack, phones: tuple[Runtime, PagesSent, str]
) -> None:
    rt, sent, _ = phones
    cid = declare(stack)
    [incident_id] = rt.store.open_ids()
    wait_for(lambda: dm_texts(stack, ALICE))  # paged, so a responder: she may acknowledge
    sent.pages[("sms", ALICE_PHONE)] = (incident_id, ALICE)
    twilio = stack.emulator.twilio

    forged = twilio.reply(ALICE_PHONE, "ACK", forge=True)
    assert forged["http"] == 403
    assert rt.store.get(incident_id).acknowledged_by is None

    unknown = twilio.reply("+4930999999", "ACK")
    assert unknown["answers"] == [
        "Tocsin: nothing to acknowledge: no open page was sent to this number."
    ]

    answered = twilio.reply(ALICE_PHONE, "ack")
    assert answered["http"] == 200
    assert answered["answers"] == [
        f"Tocsin: you acknowledged incident {incident_id} (Checkout errors)."
    ]
    assert rt.store.get(incident_id).acknowledged_by == ALICE
    wait_for(lambda: any(f"Acknowledged by <@{ALICE}>" in t for t in texts(stack, cid)))
    inbox = [m["body"] for m in twilio.phones()[ALICE_PHONE]["sms"]]
    assert inbox[-1] == answered["answers"][0]  # the answer reached the phone

    again = twilio.reply(ALICE_PHONE, "1")
    assert again["answers"][0].startswith(f"Tocsin: incident {incident_id} not acknowledged:")
    assert "@U0ALICE01" in again["answers"][0]  # who did, in plain text, not a Slack mention
    assert "<@" not in again["answers"][0]


def test_a_keypress_on_a_voice_page_acknowledges(
    stack: Stack, phones: tuple[Runtime, PagesSent, str]
) -> None:
    rt, sent, url = phones
    declare(stack)
    [incident_id] = rt.store.open_ids()
    wait_for(lambda: dm_texts(stack, ALICE))
    voice = TwilioVoice.from_env(stack.env | {"TOCSIN_PUBLIC_URL": url})
    assert voice is not None
    page = Notice(incident_id, "k", "Checkout errors", "sev2", "checkout", "paged", ALICE)
    call_sid = voice.send(page, ALICE_PHONE)
    sent.pages[("voice", ALICE_PHONE)] = (incident_id, ALICE)
    twilio = stack.emulator.twilio

    other_key = twilio.press(call_sid, "2")
    assert other_key["said"] == ["Not acknowledged. Goodbye."]
    assert twilio.press(call_sid, "1", forge=True)["http"] == 403
    assert rt.store.get(incident_id).acknowledged_by is None
    pressed = twilio.press(call_sid, "1")
    assert pressed["said"] == [
        f"Tocsin: you acknowledged incident {incident_id} (Checkout errors)."
    ]
    assert rt.store.get(incident_id).acknowledged_by == ALICE
    assert twilio.phones()[ALICE_PHONE]["calls"][0]["status"] == "completed"
