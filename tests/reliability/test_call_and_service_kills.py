"""Invariant 1 for pages by call, PagerDuty and webhook, under worker SIGKILLs mid-send.

Real rq worker processes (three) deliver the pages of CRASHY incidents (two steps, walked
twice) while busy workers are SIGKILLed; each kill waits for a provider that took a send
and answers it WINDOW_S later, so a kill often lands after the provider accepted the page
and before the worker recorded it. Everything is counted on the providers' side
(tests/reliability/method_support.py), never from Tocsin's outbox.

- Calls (TOCSIN_VOICE_CRASH_TRIALS kills, bounded 5, soak 50): the CRASHY people are
  called through the sandbox's Twilio; 0 calls lost, 0 doubled. Every incident calls the
  same four phones, so a retry must tell its own call from the other incidents': only the
  call SIDs recorded per number (bot.state.calls) let the voice method's `find` do that.
- PagerDuty and webhooks (TOCSIN_SERVICE_CRASH_TRIALS kills, bounded 5, soak 50): a policy
  notifying `pagerduty:ops` and `webhook:audit`, then `webhook:audit` again. PagerDuty: one
  alert per incident, 0 lost, 0 doubled (a trigger sent again after a kill is merged into
  the alert by its dedup key, so it counts as one; the triggers received are printed).
  Webhooks have no lookup: a kill after the receiver took the POST sends it again. What is
  asserted: every delivery of one page carries the same Idempotency-Key, and the distinct
  keys are exactly the pages owed, so a receiver that handles each key once sees each page
  once; the repeats are printed.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.notify.pagerduty import dedup_key
from bot.notify.webhook import IDEMPOTENCY_HEADER
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from tests.integration.support import Workers
from tests.receiver import Receiver
from tests.reliability.method_support import (
    assert_each_call_once,
    kill_rounds,
    lately,
    methods_env,
    people_yaml,
)
from tests.reliability.support import knob
from tests.reliability.test_worker_kills import crashy_only

pytestmark = pytest.mark.integration

VOICE_TRIALS = int(knob("TOCSIN_VOICE_CRASH_TRIALS", 5, 50))
SERVICE_TRIALS = int(knob("TOCSIN_SERVICE_CRASH_TRIALS", 5, 50))
WINDOW_S = 0.3  # each provider answers a send this long after taking it

SERVICES_POLICY = """\
name: services
services: [checkout]
steps:
  - notify: [pagerduty:ops, webhook:audit]
    wait: 1s
  - notify: [webhook:audit]
    wait: 1s
repeat: 1
fallback_channel: C0INCIDENTS
"""
LOOPS = 2  # the policy repeats once
HOOK_PAGES = 2 * LOOPS  # webhook:audit in both steps


def three_workers(env: dict[str, str], tmp_path: Path) -> tuple[Runtime, Workers]:
    rt = Runtime.build(Settings.from_env(env), owner="test", inline_delivery=False)
    pool = Workers(env, tmp_path)
    pool.start(3)
    return rt, pool


def test_voice_pages_survive_sigkills_mid_call(
    worker_env: dict[str, str], config_dir: Path, tmp_path: Path
) -> None:
    """SIGKILLs of busy workers, many after Twilio made a call and before the worker
    recorded it, while other incidents call the same phones: each voice page rang its
    phone exactly once."""
    crashy_only(config_dir)
    (config_dir / "people.yaml").write_text(people_yaml([("0m", "voice")]))
    emu = Emulator(fault_seed=16).start()
    # Twilio makes the call, then answers WINDOW_S later: the window a kill lands in.
    emu.twilio.faults.add("delay", method="calls.create", delay=WINDOW_S, when="after")
    rt, pool = three_workers(methods_env(worker_env, emu), tmp_path)

    def flying() -> bool:
        with emu.twilio.lock:
            return lately([c.created.timestamp() for c in emu.twilio.calls], WINDOW_S)

    try:
        rng = random.Random(16_2026)
        incidents, busy, mid_send = kill_rounds(rt, pool, flying, rng, VOICE_TRIALS, "voice")
        calls = assert_each_call_once(rt, emu.twilio, incidents)
        assert mid_send >= 1, f"no kill of {VOICE_TRIALS} landed with a call in flight"
        lookups = sum(1 for c in emu.twilio.log if c["method"] == "calls.list")
        print(
            f"\nvoice kills: {VOICE_TRIALS} (victim mid-job {busy}, a call in flight "
            f"{mid_send}), incidents {len(incidents)}, calls {calls} doubled 0 lost 0, "
            f"Twilio lookups {lookups}"
        )
    finally:
        pool.stop()
        emu.stop()


def test_pagerduty_and_webhook_pages_survive_sigkills_mid_send(
    worker_env: dict[str, str], config_dir: Path, tmp_path: Path
) -> None:
    """SIGKILLs of busy workers, many after PagerDuty or the webhook receiver took a page
    and before the worker recorded it: one PagerDuty alert per incident; every webhook page
    arrived, each delivery of it under the page's one Idempotency-Key, so distinct keys
    count the pages exactly (a receiver deduping by key sees each page once)."""
    crashy_only(config_dir)
    (config_dir / "crashy.yaml").write_text(SERVICES_POLICY)
    hooks = Receiver(answer_after_s=WINDOW_S).start()
    (config_dir / "services.yaml").write_text(
        "pagerduty:\n  ops: {routing_key_env: TOCSIN_PD_OPS_KEY}\n"
        f'webhooks:\n  audit: {{url: "{hooks.url}/hook", secret_env: TOCSIN_HOOK_SECRET}}\n'
    )
    emu = Emulator(fault_seed=17).start()
    pagerduty = emu.pagerduty
    pagerduty.faults.add("delay", method="enqueue", delay=WINDOW_S)  # answers after applying
    env = methods_env(worker_env, emu) | {
        "TOCSIN_PD_OPS_KEY": "d" * 32,
        "TOCSIN_HOOK_SECRET": "audit-hook-secret",
        "TOCSIN_PAGERDUTY_EVENTS_URL": emu.pagerduty_url,
    }
    rt, pool = three_workers(env, tmp_path)

    def flying() -> bool:
        with pagerduty.lock:
            opened = [i.created for i in pagerduty.incidents.values()]
        return lately(opened + [r.at for r in list(hooks.requests)], WINDOW_S)

    try:
        rng = random.Random(17_2026)
        incidents, busy, mid_send = kill_rounds(rt, pool, flying, rng, SERVICE_TRIALS, "svc")

        alerts = {i: pagerduty.by_key(dedup_key(i)) for i in incidents}
        assert {i: len(a) for i, a in alerts.items() if len(a) != 1} == {}, "alerts lost/doubled"
        triggers = {i: a[0].events.count("trigger") for i, a in alerts.items()}
        assert min(triggers.values()) >= LOOPS  # each loop's trigger arrived

        keys_of: dict[tuple[str, str], set[str]] = defaultdict(set)  # (incident, outbox key)
        for request in list(hooks.requests):
            body, headers = json.loads(request.body), request.headers
            keys_of[body["incident_id"], body["key"]].add(headers[IDEMPOTENCY_HEADER])
        assert {page: k for page, k in keys_of.items() if len(k) != 1} == {}
        distinct = set().union(*keys_of.values())
        assert len(distinct) == len(incidents) * HOOK_PAGES, "webhook pages lost"
        assert {i for i, _ in keys_of} == set(incidents)

        assert mid_send >= 1, f"no kill of {SERVICE_TRIALS} landed with a send in flight"
        print(
            f"\nservice kills: {SERVICE_TRIALS} (victim mid-job {busy}, a send in flight "
            f"{mid_send}), incidents {len(incidents)}; PagerDuty alerts {len(alerts)} "
            f"doubled 0 lost 0, triggers {sum(triggers.values())} for "
            f"{len(incidents) * LOOPS} owed; webhook pages {len(distinct)} "
            f"lost 0, deliveries {len(hooks.requests)} (repeats of a key "
            f"{len(hooks.requests) - len(distinct)})"
        )
    finally:
        pool.stop()
        emu.stop()
        hooks.stop()
