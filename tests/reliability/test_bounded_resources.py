"""Invariant 10: what outsiders send cannot grow Redis without bound. A refused command writes
nothing but a counter, each person's writes to an incident are rate-limited, a timeline keeps
its latest 5,000 entries with its facts whole, and a closed incident's operational keys go
TOCSIN_RETENTION_DAYS after it was resolved, while export and stats still work."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest
import redis

from bot import clock
from bot.domain.timeline import Kind
from bot.render.blocks import ACK
from bot.runtime import Runtime
from bot.state import counters
from bot.state.retention import INDEXED, sweep
from bot.state.store import Store
from tests.e2e.support import ROOT, Stack, wait_for
from tests.integration.support import Workers
from tests.reliability.conftest import MakeStack
from tests.reliability.slack_helpers import click, declare, ephemeral_texts, header

pytestmark = pytest.mark.integration

ERIN, ALICE, FRANK = "U0ERIN001", "U0ALICE01", "U0FRANK01"
KEPT = 5000  # entries a timeline keeps (README, bot.domain.timeline.TIMELINE_MAX)


def persistent(r: redis.Redis) -> dict[str, bytes]:
    """Every `tocsin:*` key that never expires, as DUMPed bytes (the counters hash aside)."""
    keys = [k for k in r.scan_iter("tocsin:*") if r.ttl(k) == -1 and k != counters.COUNTERS]
    return {k: r.dump(k) for k in keys}


def refusals(r: redis.Redis) -> dict[tuple[str, str], int]:
    return {
        (labels["action"], labels["reason"]): value
        for name, labels, value in counters.read(r)
        if name == "refused"
    }


def quiet(stack: Stack, r: redis.Redis, incident_id: str) -> None:
    """Wait until the incident owes nothing (every outbox item delivered)."""
    store = Store(r)
    wait_for(
        lambda: all(i.status == "sent" for i in store.outbox(incident_id)),
        timeout=20,
    )


def tocsin(env: dict[str, str], *args: str) -> str:
    """The real CLI, with the environment of the stack or workers (their Redis)."""
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def acknowledged(stack: Stack, r: redis.Redis, channel: str, incident_id: str) -> None:
    """alice (paged at step 1) acknowledges, so no escalation step writes meanwhile."""
    wait_for(lambda: stack.emulator.dms(ALICE).get(ALICE), timeout=20)
    assert stack.driver().slash(ALICE, "ack", channel_id=channel).text == ""  # said in channel
    quiet(stack, r, incident_id)


class TestRefusedCommands:
    def test_refused_commands_change_no_stored_byte_but_a_counter(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """frank has no rights on a sev2: resolve, escalate, page, sev and a late Ack click are answered, and no key that lasts changes."""
        stack = make_stack(workers=1)
        incident_id, channel = declare(stack)
        acknowledged(stack, r, channel, incident_id)
        driver = stack.driver()
        before = persistent(r)
        for text in ("resolve done", "escalate now", "page <@U0BOB0001|bob> wake up", "sev sev1"):
            assert "You may not" in driver.slash(FRANK, text, channel_id=channel).text, text
        click(stack, FRANK, header(stack, channel), ACK)  # refused by state: already acked
        wait_for(lambda: [t for t in ephemeral_texts(stack, FRANK) if "already acknowledged" in t])
        assert persistent(r) == before
        assert refusals(r) == {
            ("resolve", "rights"): 1,
            ("escalate", "rights"): 1,
            ("page", "rights"): 1,
            ("change_severity", "rights"): 1,
        }
        assert Kind.REFUSED not in {e.kind for e in Store(r).timeline(incident_id)}


class TestWriteRateLimit:
    def test_a_flood_past_the_limit_is_refused_politely_and_writes_nothing(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """With 1 write a minute and a burst of 3, erin's 4th note, an update and an action item are refused with when to retry; alice may still write."""
        stack = make_stack(
            workers=1, env={"TOCSIN_WRITES_PER_MINUTE": "1", "TOCSIN_WRITES_BURST": "3"}
        )
        incident_id, channel = declare(stack)
        acknowledged(stack, r, channel, incident_id)
        driver = stack.driver()
        for n in range(3):
            assert "note by" in driver.slash(ERIN, f"note step {n}", channel_id=channel).text
        quiet(stack, r, incident_id)
        before = persistent(r)
        flood = [f"note flood {n}" for n in range(10)] + ["update all good", "action Fix it"]
        for text in flood:
            reply = driver.slash(ERIN, text, channel_id=channel).text
            assert reply.startswith(":no_entry: Easy there: each person can make 1 changes"), reply
            wait = re.search(r"Try again in (\d+) s\.", reply)
            assert wait, reply
            assert 40 <= int(wait.group(1)) <= 60, reply
        assert persistent(r) == before
        assert refusals(r) == {
            ("note", "rate_limit"): 10,
            ("update", "rate_limit"): 1,
            ("add_action_item", "rate_limit"): 1,
        }
        limiter = f"tocsin:rate:{incident_id}:{ERIN}"
        assert 0 < r.pttl(limiter) <= 3 * 60_000  # gone once erin's allowance is full again
        assert "note by" in driver.slash(ALICE, "note alice is fine", channel_id=channel).text
        notes = [e.text for e in Store(r).timeline(incident_id) if e.kind is Kind.NOTE]
        assert [t for t in notes if "flood" in t] == []
        assert len([t for t in notes if "step" in t]) == 3


class TestTimelineCap:
    def test_a_flooded_timeline_keeps_its_latest_entries_and_whole_facts(
        self, runtime: Runtime, workers: Workers, r: redis.Redis
    ) -> None:
        """260 people writing 20 notes each (inside the rate limit) trim the timeline to ~5,000; first page and steps survive, the review says it was cut."""
        workers.start(1)
        incident = runtime.engine.declare(
            title="Flood", service="checkout", severity="sev2", declared_by=ERIN
        )
        store = runtime.store
        wait_for(lambda: Kind.PAGED in {e.kind for e in store.timeline(incident.id)}, timeout=20)
        assert runtime.engine.acknowledge(incident.id, ALICE).ok
        paged = next(e for e in store.timeline(incident.id) if e.kind is Kind.PAGED)
        for person in range(260):
            for n in range(20):
                outcome = runtime.engine.note(incident.id, f"U0FLOOD{person:03d}", f"note {n}")
                assert outcome.ok, outcome.message
        length = int(r.xlen(store.timeline_key(incident.id)))
        assert KEPT <= length <= KEPT + 100
        kinds = {e.kind for e in store.timeline(incident.id)}
        assert Kind.DECLARED not in kinds  # the oldest entries went first
        assert store.timeline_dropped(incident.id) > 5200 - length
        doc: dict[str, Any] = json.loads(
            tocsin(workers.env, "export", incident.id, "--format", "json")
        )
        assert doc["milestones"]["first_page"] == paged.at.isoformat()
        assert [p["user"] for p in doc["pages"]] == [ALICE]
        assert doc["timeline_dropped"] == store.timeline_dropped(incident.id)
        markdown = tocsin(workers.env, "export", incident.id)
        assert "_The timeline was truncated: its oldest" in markdown
        assert "(Tocsin keeps the latest 5,000 per incident)" in markdown


class TestRetention:
    def test_closed_incident_loses_operational_keys_but_export_and_stats_work(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """Retention 6 s: a reopen inside it works; after it the outbox and channel markers are gone, the record stays, export and stats work, reopen is refused."""
        stack = make_stack(workers=1, env={"TOCSIN_RETENTION_DAYS": str(6 / 86400)})
        incident_id, channel = declare(stack)
        acknowledged(stack, r, channel, incident_id)
        driver = stack.driver()
        assert "note by" in driver.slash(ERIN, "note pool exhausted", channel_id=channel).text
        # each is answered by the incident channel's message alone
        assert driver.slash(ERIN, "resolve first fix", channel_id=channel).text == ""
        assert driver.slash(ERIN, "reopen", channel_id=channel).text == ""
        assert driver.slash(ERIN, "resolve raised the pool", channel_id=channel).text == ""
        store = Store(r)
        assert r.exists(store.outbox_key(incident_id))
        wait_for(lambda: not r.exists(store.outbox_key(incident_id)), timeout=40)
        kept = {
            k.removeprefix(f"tocsin:inc:{incident_id}")
            for k in r.scan_iter(f"tocsin:inc:{incident_id}*")
        }
        assert kept == {"", ":timeline", ":facts", ":review"}
        assert r.zscore(store.closed_key, incident_id) is None
        assert r.zscore("tocsin:reviews:pending", incident_id) is None
        refused = driver.slash(ERIN, "reopen", channel_id=channel).text
        assert refused.startswith(f":no_entry: {incident_id} was resolved more than")
        assert "cannot be reopened" in refused
        assert "resolved" in driver.slash(ERIN, "timeline", channel_id=channel).text
        stats = driver.slash(ERIN, "stats 30d").text
        assert "1 incident," in stats
        assert "incident(s)" not in stats
        assert "SEV2" in stats
        doc = json.loads(tocsin(stack.env, "export", incident_id, "--format", "json"))
        assert doc["milestones"]["first_page"] is not None
        paged = [e for e in store.timeline(incident_id) if e.kind is Kind.PAGED]
        assert paged  # in the timeline and among the facts kept apart: counted once
        assert [p["user"] for p in doc["pages"]] == [ALICE] * len(paged)
        assert doc["timeline_dropped"] == 0
        markdown = tocsin(stack.env, "export", incident_id)
        assert "Resolution summary: raised the pool" in markdown

    def test_sweep_spares_a_reopened_incident_and_finds_ones_resolved_before_the_index(
        self, runtime: Runtime, r: redis.Redis
    ) -> None:
        """A stale index entry of a reopened incident is dropped with nothing deleted; an incident resolved before the index existed is found and swept."""
        store = runtime.store
        reopened, legacy = (
            runtime.engine.declare(title=t, service="checkout", severity="sev3", declared_by=ERIN)
            for t in ("Reopened", "Legacy")
        )
        for incident in (reopened, legacy):
            assert runtime.engine.resolve(incident.id, ERIN, "done").ok
        assert runtime.engine.reopen(reopened.id, ERIN).ok
        r.zadd(store.closed_key, {reopened.id: 0})  # as if the sweep raced the reopen
        r.zrem(store.closed_key, legacy.id)
        r.delete(INDEXED)
        owed = r.hlen(store.outbox_key(reopened.id))
        assert owed
        assert r.exists(store.outbox_key(legacy.id))
        assert sweep(store, 0.0, clock.now_ts() + 1) == [legacy.id]
        assert not r.exists(store.outbox_key(legacy.id))
        assert r.hlen(store.outbox_key(reopened.id)) == owed
        assert r.zscore(store.closed_key, reopened.id) is None
        assert r.zscore(store.closed_key, legacy.id) is None
        assert store.get(legacy.id).resolved_by == ERIN
