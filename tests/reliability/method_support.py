"""Counting pages off Slack on the providers' side, and killing workers mid-send, for the
reliability suite.

Every count here is read from what the sandbox's Twilio and the SMTP server received,
never from Tocsin's outbox: a page is an SMS in the emulator's records (its body names the
incident and ends with the page's mark, so two pages never share a body), a call in them
(its words name the incident's title), or a mail in the server's mailbox (its Message-ID is
the page's).
"""

from __future__ import annotations

import random
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from rq import Worker

from bot.domain.policy import EscalationStatus
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from bot.sandbox.twilio import TwilioEmulator
from tests.integration.support import CRASHY_PEOPLE, Workers, wait_for
from tests.mailbox import Mailbox
from tests.reliability.test_worker_kills import declare_at_once, pick_victim

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


def methods_env(
    worker_env: dict[str, str], emu: Emulator, smtp_url: str | None = None
) -> dict[str, str]:
    """The workers' environment: Slack and Twilio on `emu` over HTTP, email to `smtp_url`
    (none without it)."""
    mail = {"TOCSIN_SMTP_URL": smtp_url, "TOCSIN_SMTP_FROM": SENDER} if smtp_url else {}
    return worker_env | {
        "TOCSIN_PAGER": "slack",
        "SLACK_API_URL": emu.url,
        "SLACK_BOT_TOKEN": emu.bot_token,
        "TOCSIN_PUBLIC_URL": "http://127.0.0.1:9",  # voice needs one; nobody calls back here
        "TOCSIN_ACK_LINK_SECRET": secrets.token_hex(32),
        **mail,
        **emu.twilio.env(emu.root_url),
    }


def lately(moments: Iterable[float], window_s: float) -> bool:
    """The newest of `moments` (POSIX s) is within `window_s` of now, with a 0.1 s margin:
    a provider that took a request then and answers `window_s` later has not answered yet."""
    newest = max(moments, default=None)
    return newest is not None and time.time() - newest < window_s - 0.1


def kill_mid_send(
    rt: Runtime, pool: Workers, flying: Callable[[], bool], rng: random.Random, kills: int
) -> tuple[int, int]:
    """SIGKILL (and restart) `kills` busy workers, each once a provider holds the answer to
    a send it took (`flying`) if one comes within 2 s: (kills of a busy worker, kills with
    a send in flight)."""
    busy_kills = mid_send = 0
    for _ in range(kills):
        time.sleep(rng.uniform(0.05, 0.3))  # the random point of each kill
        deadline = time.monotonic() + 2.0
        while not flying() and time.monotonic() < deadline:
            time.sleep(0.01)
        in_flight = flying()
        victim, busy = pick_victim(rt, pool, rng, patience=0.5)
        pool.restart(victim)
        busy_kills, mid_send = busy_kills + busy, mid_send + (busy and in_flight)
    return busy_kills, mid_send


def kill_rounds(
    rt: Runtime,
    pool: Workers,
    flying: Callable[[], bool],
    rng: random.Random,
    trials: int,
    label: str,
) -> tuple[list[str], int, int]:
    """Once `pool`'s 3 workers are up, rounds of 5 CRASHY incidents declared at once, each
    followed by 10 kills mid-send (`kill_mid_send`; `trials` in all), until every incident
    settled: (the incidents, kills of a busy worker, kills with a send in flight)."""
    wait_for(lambda: len(Worker.all(connection=rt.rq_redis)) == 3, timeout=60)  # all up
    incidents: list[str] = []
    busy_kills = mid_send = rounds = 0
    while rounds * 10 < trials:
        incidents += declare_at_once(rt, 5, f"{label} round {rounds}")
        busy, flew = kill_mid_send(rt, pool, flying, rng, min(10, trials - rounds * 10))
        busy_kills, mid_send, rounds = busy_kills + busy, mid_send + flew, rounds + 1
    wait_for(lambda: settled(rt, incidents), timeout=120, every=0.5)
    return incidents, busy_kills, mid_send


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


def calls_by_title(twilio: TwilioEmulator, title: str) -> Counter[str]:
    """Calls per phone whose words name the incident titled `title` (the words put a comma
    after the title, so `incident 1` is not taken for `incident 10`)."""
    with twilio.lock:
        return Counter(c.to for c in twilio.calls if c.twiml and f"{title}," in c.twiml)


def assert_each_call_once(rt: Runtime, twilio: TwilioEmulator, incidents: list[str]) -> int:
    """Every voice page of the CRASHY `incidents` rang its phone once: each phone got as
    many calls naming the incident as it was owed pages, no more, no fewer; how many."""
    owed = {PHONES[user]: PAGES_PER_PERSON for user in PEOPLE}
    got = {i: calls_by_title(twilio, rt.store.get(i).title) for i in incidents}
    wrong = {i: dict(n) for i, n in got.items() if n != owed}
    assert wrong == {}, f"calls missing or doubled, per phone (owed {owed}): {wrong}"
    return sum(sum(n.values()) for n in got.values())


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
