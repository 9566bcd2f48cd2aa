"""Invariants 1 and 5 for pages by SMS and email while their provider fails.

Real rq worker processes page the CRASHY people (two steps of two, walked twice) on Slack
and by SMS (the sandbox's Twilio over HTTP) or by email (a real SMTP server):

- a Twilio storm (429 with Retry-After, 500, 503, and a 500 after Twilio made the message)
  for TOCSIN_TWILIO_STORM_S (bounded 8 s, soak 60 s): every SMS page lands exactly once;
- Twilio down (503 to everything) for TOCSIN_PROVIDER_OUTAGE_S (bounded 10 s, soak 60 s),
  and at least until every Slack DM landed: the DMs do not wait for Twilio, and every SMS
  lands exactly once after it returns;
- the SMTP server down for as long: every email lands after it returns, each Message-ID
  once (without kills; under kills see test_method_kills.py: SMTP has no lookup).

Counted on the providers' side (tests/reliability/method_support.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rq import Worker

from bot.config.settings import Settings
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from tests.integration.support import Workers, crashy_pages, wait_for
from tests.reliability.method_support import (
    PAGES_PER_PERSON,
    PEOPLE,
    SmtpServer,
    assert_each_sms_once,
    doubled,
    methods_env,
    people_yaml,
    settled,
    sms_pages,
)
from tests.reliability.support import deliveries, knob
from tests.reliability.test_worker_kills import crashy_only, declare_at_once

pytestmark = pytest.mark.integration

STORM_S = knob("TOCSIN_TWILIO_STORM_S", 8, 60)
OUTAGE_S = knob("TOCSIN_PROVIDER_OUTAGE_S", 10, 60)
INCIDENTS = int(knob("TOCSIN_PROVIDER_INCIDENTS", 3, 10))
Paging = tuple[Emulator, Runtime, Callable[[int], list[str]]]


@pytest.fixture
def paging(
    worker_env: dict[str, str], config_dir: Path, tmp_path: Path, mail: SmtpServer
) -> Iterator[Callable[[str], Paging]]:
    """`paging(via)`: three workers paging everyone on Slack and by `via` at once; the
    emulator, the test's runtime, and `declare(n)`."""
    started: list[tuple[Emulator, Workers]] = []

    def start(via: str) -> Paging:
        crashy_only(config_dir)
        (config_dir / "people.yaml").write_text(people_yaml([("0m", "slack"), ("0m", via)]))
        emu = Emulator(fault_seed=5).start()
        env = methods_env(worker_env, emu, mail.url)
        rt = Runtime.build(Settings.from_env(env), owner="test", inline_delivery=False)
        pool = Workers(env, tmp_path)
        started.append((emu, pool))
        pool.start(3)
        wait_for(lambda: len(Worker.all(connection=rt.rq_redis)) == 3, timeout=60)  # all up
        return emu, rt, lambda n: declare_at_once(rt, n, via)

    yield start
    for emu, pool in started:
        pool.stop()
        emu.stop()


def slack_dms(emu: Emulator, incidents: list[str]) -> dict[tuple[str, str], int]:
    """The Slack page DMs of `incidents` that landed, by (incident, outbox key)."""
    owed = {tuple(k.split(":", 1)) for i in incidents for k in crashy_pages(i)}
    return {k: n for k, n in deliveries(emu).items() if k in owed}


def all_dms(emu: Emulator, incidents: list[str]) -> bool:
    return len(slack_dms(emu, incidents)) == len(incidents) * len(PEOPLE) * PAGES_PER_PERSON


def test_a_twilio_storm_lands_every_sms_exactly_once(
    paging: Callable[[str], Paging],
) -> None:
    """429s, 5xx and a 500 after the message was made, on every Twilio call: each SMS page
    lands once when the storm passes, and each Slack DM once."""
    emu, rt, declare = paging("sms")
    storm = emu.twilio.faults
    # for certain (a page's first attempts): made, then a 500; and a 429 for the account
    storm.add("500", method="messages.create", nth=2, times=3, when="after")
    storm.add("429", method="messages.*", nth=6, times=2, retry_after=1)
    # and at random, on every call, creates and the lookups of a retry alike
    storm.add("429", method="messages.*", rate=0.2, retry_after=1)
    storm.add("500", method="messages.*", rate=0.15)
    storm.add("503", method="messages.*", rate=0.15)
    storm.add("500", method="messages.create", rate=0.15, when="after")
    incidents = declare(INCIDENTS)
    time.sleep(STORM_S)  # the storm itself: its length is the behaviour under test
    fired = {f"{r['kind']} {r['when']} #{r['id']}": r["fired"] for r in storm.snapshot()}
    storm.clear()
    wait_for(lambda: settled(rt, incidents), timeout=90, every=0.5)
    sent = assert_each_sms_once(emu.twilio, incidents)
    assert doubled(deliveries(emu)) == {}
    assert all_dms(emu, incidents)
    certain = list(fired.values())[:2]
    assert certain == [3, 2], f"the storm's certain faults did not all fire: {fired}"
    assert sum(fired.values()) >= 10, f"hardly a storm: {fired}"
    print(f"\ntwilio storm {STORM_S:.0f}s: faults {fired}, SMS {sent}, doubled 0, lost 0")


def test_twilio_down_holds_up_no_slack_dm_and_loses_no_sms(
    paging: Callable[[str], Paging],
) -> None:
    """Twilio answers 503 to everything: every Slack DM lands while it is down; once it is
    back every SMS page lands, each once."""
    emu, rt, declare = paging("sms")
    emu.twilio.faults.add("503", rate=1.0)
    down_at = time.monotonic()
    incidents = declare(INCIDENTS)
    wait_for(lambda: all_dms(emu, incidents), timeout=60, every=0.2)
    assert sms_pages(emu.twilio) == {}, "Twilio made a message while down"
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))  # the rest of the outage
    emu.twilio.faults.clear()
    wait_for(lambda: settled(rt, incidents), timeout=90, every=0.5)
    sent = assert_each_sms_once(emu.twilio, incidents)
    assert doubled(deliveries(emu)) == {}
    print(f"\ntwilio down {OUTAGE_S:.0f}s: Slack DMs all in while down; SMS {sent}, doubled 0")


def test_an_smtp_outage_delays_every_email_but_loses_none(
    paging: Callable[[str], Paging], mail: SmtpServer
) -> None:
    """The SMTP server is down: the Slack DMs go, and once it is back every email page
    lands, each Message-ID once."""
    emu, rt, declare = paging("email")
    mail.down()
    down_at = time.monotonic()
    incidents = declare(INCIDENTS)
    wait_for(lambda: all_dms(emu, incidents), timeout=60, every=0.2)
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))  # the rest of the outage
    assert mail.message_ids() == {}
    mail.up()
    wait_for(lambda: settled(rt, incidents), timeout=90, every=0.5)
    mail.assert_each_page_landed(incidents)
    ids = mail.message_ids()
    assert doubled(ids) == {}, "an email page landed twice"
    assert sum(ids.values()) == len(incidents) * len(PEOPLE) * PAGES_PER_PERSON
    print(f"\nsmtp down {OUTAGE_S:.0f}s: emails {sum(ids.values())}, each Message-ID once")
