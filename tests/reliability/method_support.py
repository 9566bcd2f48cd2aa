"""Counting pages by SMS and email on the providers' side, for the reliability suite.

Every count here is read from what the sandbox's Twilio and the SMTP server received,
never from Tocsin's outbox: a page is an SMS in the emulator's records (its body names the
incident and ends with the page's mark, so two pages never share a body) or a mail in the
server's mailbox (its Message-ID is the page's).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from bot.domain.policy import EscalationStatus
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from bot.sandbox.twilio import TwilioEmulator
from tests.integration.support import CRASHY_PEOPLE
from tests.mailbox import Mailbox

# The CRASHY people (tests/integration/support) and the sandbox's: a phone and an address each.
PHONES = {
    "U0ALICE01": "+15555550101",
    "U0BOB0001": "+15555550102",
    "U0CAROL01": "+15555550103",
    "U0DAVE001": "+15555550104",
}


SENDER = "tocsin@example.com"
PEOPLE = [user for users in CRASHY_PEOPLE.values() for user in users]  # each paged ...
PAGES_PER_PERSON = 2  # ... once a loop: the CRASHY policy repeats once


def methods_env(worker_env: dict[str, str], emu: Emulator, smtp_url: str) -> dict[str, str]:
    """The workers' environment: Slack and Twilio on `emu` over HTTP, email to `smtp_url`."""
    return worker_env | {
        "TOCSIN_PAGER": "slack",
        "SLACK_API_URL": emu.url,
        "SLACK_BOT_TOKEN": emu.bot_token,
        "TOCSIN_SMTP_URL": smtp_url,
        "TOCSIN_SMTP_FROM": SENDER,
        "TOCSIN_PUBLIC_URL": "http://127.0.0.1:9",  # voice needs one; nobody calls back here
        "TOCSIN_ACK_LINK_SECRET": secrets.token_hex(32),
        **emu.twilio.env(emu.root_url),
    }


def settled(rt: Runtime, incidents: list[str]) -> bool:
    """Every incident walked its policy to the end and nothing is left to send (Tocsin's
    word, used only to know when to count)."""
    return all(
        rt.store.get(i).escalation.status is EscalationStatus.EXHAUSTED
        and all(item.status in ("sent", "failed") for item in rt.store.outbox(i))
        for i in incidents
    )


def people_yaml(rules: Iterable[tuple[str, str]], users: Iterable[str] = PHONES) -> str:
    """people.yaml giving `users` their phone, an address and the same `rules` (after, via)."""
    lines = ["people:"]
    for user in users:
        lines += [
            f"  {user}:",
            f'    phone: "{PHONES[user]}"',
            f"    email: {user.lower()}@example.com",
            "    notify:",
        ]
        lines += [f"      - {{after: {after}, via: {via}}}" for after, via in rules]
    return "\n".join(lines) + "\n"


def sms_pages(twilio: TwilioEmulator) -> Counter[tuple[str, str]]:
    """How many times each SMS (to, body) from the account reached its phone."""
    with twilio.lock:
        return Counter((m.to, m.body) for m in twilio.sms if m.direction == "outbound-api")


def sms_by_incident(twilio: TwilioEmulator, incident_id: str) -> Counter[str]:
    """Distinct SMS pages of `incident_id` per phone number."""
    return Counter(to for to, body in sms_pages(twilio) if f" {incident_id}:" in body)


def doubled(counts: Counter[Any]) -> dict[Any, int]:
    return {k: n for k, n in counts.items() if n != 1}


def assert_each_sms_once(
    twilio: TwilioEmulator, incidents: list[str], explain: Callable[[str], object] = str
) -> int:
    """Every SMS page of the CRASHY `incidents` reached its phone and none twice (`explain`
    an incident that failed it); how many there were."""
    owed = {PHONES[user]: PAGES_PER_PERSON for user in PEOPLE}
    lost = {i: n for i in incidents if (n := sms_by_incident(twilio, i)) != owed}
    why = [explain(i) for i in lost]
    assert lost == {}, f"SMS pages missing or not owed, per phone: {lost}; {why}"
    sms = sms_pages(twilio)
    assert doubled(sms) == {}, "an SMS page reached a phone twice"
    assert sum(sms.values()) == len(incidents) * len(owed) * PAGES_PER_PERSON
    return sum(sms.values())


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a fixed port that can go down and come back up,
    keeping what it accepted across both."""

    def __init__(self, port: int) -> None:
        self.port, self.mailbox = port, Mailbox()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def up(self) -> None:
        if self._controller is None:
            self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def message_ids(self) -> Counter[str]:
        """How many times each Message-ID was accepted."""
        with self.mailbox.lock:
            return Counter(str(m["Message-ID"]) for m in self.mailbox.messages)

    def assert_each_page_landed(self, incidents: list[str]) -> None:
        """Every email page of the CRASHY `incidents` landed, each under a Message-ID of its
        own (a page is never two different mails)."""
        for incident_id in incidents:
            ids = {str(m["Message-ID"]) for m in self.mails(incident_id)}
            assert len(ids) == len(PEOPLE) * PAGES_PER_PERSON, (incident_id, sorted(ids))

    def mails(self, incident_id: str) -> list[Message]:
        """The mails of `incident_id` (their subject ends with it, in brackets)."""
        with self.mailbox.lock:
            return [m for m in self.mailbox.messages if f"({incident_id})" in str(m["Subject"])]


def smtp(port: int) -> Iterator[SmtpServer]:
    """An SMTP server, up, for the duration (a fixture's body)."""
    server = SmtpServer(port)
    server.up()
    try:
        yield server
    finally:
        server.down()
