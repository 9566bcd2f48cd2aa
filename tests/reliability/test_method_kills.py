"""Invariant 1 for pages by SMS and email, under worker SIGKILLs mid-send.

Real rq worker processes page the CRASHY people (two steps of two, walked twice) by SMS
through the sandbox's Twilio over HTTP and by email through a real SMTP server. Twilio
makes each message, then answers 300 ms later: a kill in that window leaves a message
Twilio accepted that the worker never recorded, and only the SMS method's `find` (the
message listed back by its mark) keeps the retry from sending it twice.
Each kill waits for an SMS in that window, then kills a busy worker (of three).
TOCSIN_SMS_CRASH_TRIALS kills (bounded 10, soak 100): 0 SMS doubled, 0 lost.

SMTP has no lookup: the email method's `find` never finds, so a kill after the server took
the message and before the worker recorded it sends it again, with the same Message-ID
(bot/notify/email.py). What is guaranteed, and asserted: every email page lands, and no
page ever lands as two different Message-IDs; repeats of one Message-ID are counted.
Everything is counted on the providers' side (tests/reliability/method_support.py).
"""

from __future__ import annotations

import random
from functools import partial
from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from bot.sandbox.twilio import TwilioEmulator
from tests.integration.support import Workers
from tests.reliability.method_support import (
    SmtpServer,
    assert_each_sms_once,
    kill_rounds,
    lately,
    methods_env,
    people_yaml,
)
from tests.reliability.support import knob
from tests.reliability.test_worker_kills import crashy_only

pytestmark = pytest.mark.integration

TRIALS = int(knob("TOCSIN_SMS_CRASH_TRIALS", 10, 100))
WINDOW_S = 0.3  # Twilio answers a create this long after making the message


def in_flight(twilio: TwilioEmulator) -> bool:
    """Twilio made a message and has not answered yet."""
    with twilio.lock:
        made = [m.created.timestamp() for m in twilio.sms]
    return lately(made, WINDOW_S)


def test_sms_and_email_pages_survive_sigkills_mid_send(
    worker_env: dict[str, str], config_dir: Path, tmp_path: Path, mail: SmtpServer
) -> None:
    """SIGKILLs of busy workers, many after Twilio accepted an SMS and before the worker
    recorded it: each SMS page reached its phone exactly once, each email page landed with
    one Message-ID of its own."""
    crashy_only(config_dir)
    (config_dir / "people.yaml").write_text(people_yaml([("0m", "sms"), ("0m", "email")]))
    emu = Emulator(fault_seed=15).start()
    # Twilio makes the message, then answers WINDOW_S later: the window a kill lands in.
    emu.twilio.faults.add("delay", method="messages.create", delay=WINDOW_S, when="after")
    env = methods_env(worker_env, emu, mail.url)
    rt = Runtime.build(Settings.from_env(env), owner="test", inline_delivery=False)
    pool = Workers(env, tmp_path)
    pool.start(3)
    rng = random.Random(15_2026)
    try:
        flying = partial(in_flight, emu.twilio)
        incidents, busy_kills, mid_send = kill_rounds(rt, pool, flying, rng, TRIALS, "sms")

        def outbox(incident_id: str) -> object:  # Tocsin's word, to explain a failure only
            items = rt.store.outbox(incident_id)
            return [(o.key, o.status, o.ref, o.last_error) for o in items if "|sms" in o.key]

        sent = assert_each_sms_once(emu.twilio, incidents, outbox)
        mail.assert_each_page_landed(incidents)
        repeats = sum(n - 1 for n in mail.message_ids().values())

        # a third at least (most when the machine is quiet): a loaded host starts workers slowly
        assert mid_send >= TRIALS // 3, f"only {mid_send}/{TRIALS} kills with an SMS in flight"
        lookups = sum(1 for c in emu.twilio.log if c["method"] == "messages.list")
        print(
            f"\nsms/email kills: {TRIALS} (victim mid-job {busy_kills}, an SMS in flight "
            f"{mid_send}), incidents "
            f"{len(incidents)}, SMS {sent} doubled 0 lost 0, Twilio lookups "
            f"{lookups}; emails {sum(mail.message_ids().values())}, repeated Message-IDs "
            f"{repeats}"
        )
    finally:
        pool.stop()
        emu.stop()
