"""Invariant 3 across Redis restarts.

With AOF (`appendonly yes`, as EmbeddedRedis and production run it), a restart in the
middle of escalation - graceful or SIGKILL - loses nothing: incidents, scheduled steps and
the outbox come back, workers reconnect, every page goes out exactly once.

Without persistence a restart empties Redis: the incidents themselves are gone, and with
them every scheduled step. The reconciler rebuilds timers *from incident state*, so there
is nothing left for it to rebuild: those incidents stop paging, silently. What the bot does
guarantee is that it keeps running - workers reconnect and new incidents escalate normally.
That is why ARCHITECTURE.md §6 requires AOF + noeviction; the test pins this behaviour down.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
import redis

from bot.config.settings import Settings
from bot.domain.policy import EscalationStatus
from bot.paging.recording import delivery_counts, recorded
from bot.runtime import Runtime
from bot.state.server import EmbeddedRedis, connect
from bot.state.timers import DUE_KEY
from tests.integration.support import WORKSPACE, Workers, wait_for, write_config
from tests.reliability.support import log_events

pytestmark = pytest.mark.integration
PEOPLE = {0: ["U0ALICE01"], 1: ["U0BOB0001", "U0CAROL01"], 2: ["U0GRACE01", "U0LEAD1"]}


def env_for(url: str, config: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REDIS_URL=url,
        TOCSIN_CONFIG_DIR=str(config),
        TOCSIN_PAGER="recording",
        TOCSIN_DIRECTORY_FILE=str(WORKSPACE),
        TOCSIN_CLAIM_LEASE_S="1",
        TOCSIN_RECONCILE_EVERY_S="0.5",
        TOCSIN_SCHEDULER_POLL_S="0.1",
        TOCSIN_SCHEDULER_LEASE_S="1.5",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def own_redis(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "redis-data", appendonly=request.param)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def expected(incident_id: str) -> set[str]:
    return {f"{incident_id}:page:{s}:0:{u}" for s, users in PEOPLE.items() for u in users}


@contextmanager
def running(own_redis: EmbeddedRedis, tmp_path: Path) -> Iterator[tuple[Runtime, Workers]]:
    """A runtime and two recording workers on `own_redis`, stopped on the way out."""
    env = env_for(own_redis.url, write_config(tmp_path / "config"))
    pool = Workers(env, tmp_path)
    pool.start(2)
    try:
        yield Runtime.build(Settings.from_env(env), owner="test"), pool
    finally:
        pool.stop()


def all_paged(rt: Runtime, r: redis.Redis, incidents: list[str]) -> bool:
    """Every incident's escalation ran out, and each page it owed is recorded."""
    counts = delivery_counts(r)
    return all(
        rt.store.get(i).escalation.status is EscalationStatus.EXHAUSTED
        and expected(i) <= counts.keys()
        for i in incidents
    )


def declare(rt: Runtime, n: int) -> list[str]:
    return [
        rt.engine.declare(
            title=f"redis {k}", service="checkout", severity="sev2", declared_by="U0ERIN001"
        ).id
        for k in range(n)
    ]


@pytest.mark.parametrize("own_redis", [True], indirect=True)
@pytest.mark.parametrize("how", ["graceful", "sigkill"])
class TestWithAof:
    def test_a_restart_mid_escalation_resumes_everything(
        self, own_redis: EmbeddedRedis, tmp_path: Path, how: str
    ) -> None:
        """Restart Redis after step 1: every later step fires, every page once, workers survive."""
        with running(own_redis, tmp_path) as (rt, pool):
            incidents = declare(rt, 5)
            r = connect(own_redis.url)
            wait_for(lambda: {p["incident"] for p in recorded(r)} >= set(incidents), timeout=20)
            if how == "sigkill":
                # No wait for the next fsync: Redis hands each write to the kernel before it
                # answers, so killing the process alone loses nothing (see TestLostLastSecond).
                own_redis.kill()
            own_redis.restart()
            r = connect(own_redis.url)
            wait_for(lambda: all_paged(rt, r, incidents), timeout=60, every=0.5)
            pages = {k: v for k, v in delivery_counts(r).items() if ":page:" in k}
            assert set(pages) == set().union(*(expected(i) for i in incidents))
            assert set(pages.values()) == {1}
            assert all(p.poll() is None for p in pool.procs), "a worker died with Redis"


@pytest.mark.parametrize("own_redis", [False], indirect=True)
class TestWithoutPersistence:
    def test_a_restart_forgets_running_incidents_but_the_bot_keeps_working(
        self, own_redis: EmbeddedRedis, tmp_path: Path
    ) -> None:
        """No AOF, Redis crashes: running incidents and their timers are gone (nothing to rebuild); new ones escalate."""
        env = env_for(own_redis.url, write_config(tmp_path / "config"))
        rt = Runtime.build(Settings.from_env(env), owner="test")
        pool = Workers(env, tmp_path)
        pool.start(2)
        try:
            lost = declare(rt, 3)
            r = connect(own_redis.url)
            wait_for(lambda: {p["incident"] for p in recorded(r)} >= set(lost), timeout=20)
            # Each lost incident's next step waits in the due index: the crash must empty it.
            wait_for(lambda: r.zcard(DUE_KEY) >= len(lost), timeout=10)
            own_redis.kill()
            own_redis.restart()
            r = connect(own_redis.url)
            assert rt.store.open_ids() == []
            assert all(rt.store.find(i) is None for i in lost)
            assert r.zcard(DUE_KEY) == 0
            fresh = declare(rt, 1)[0]  # the day counter restarted too: the id may repeat
            wait_for(
                lambda: rt.store.get(fresh).escalation.status is EscalationStatus.EXHAUSTED,
                timeout=30,
            )
            pages = [p for p in recorded(r) if p["kind"] == "page"]
            assert {p["to"] for p in pages} == {u for us in PEOPLE.values() for u in us}
            assert {p["incident"] for p in pages} == {fresh}  # nothing more for the lost ones
            assert all(p.poll() is None for p in pool.procs), "a worker died with Redis"
        finally:
            pool.stop()


def command_starts(aof: bytes) -> list[int]:
    """Offsets in an AOF at which Redis could stop and load cleanly: the start of every
    command outside a MULTI/EXEC block (a cut inside one would leave half a transaction)."""
    starts, pos, in_multi = [], 0, False
    while pos < len(aof):
        if not in_multi:
            starts.append(pos)
        end = aof.index(b"\r\n", pos)
        args = []
        cursor = end + 2
        for _ in range(int(aof[pos + 1 : end])):
            size_end = aof.index(b"\r\n", cursor)
            size = int(aof[cursor + 1 : size_end])
            args.append(aof[size_end + 2 : size_end + 2 + size])
            cursor = size_end + 2 + size + 2
        name = args[0].upper()
        in_multi = (in_multi or name == b"MULTI") and name != b"EXEC"
        pos = cursor
    return [*starts, pos] if not in_multi else starts


def page_deliveries(log_dir: Path) -> dict[tuple[str, str], list[float]]:
    """(incident, page key) -> when each delivery of it was logged by a worker."""
    out: dict[tuple[str, str], list[float]] = {}
    for event in log_events(log_dir):
        if event.get("event") == "delivered" and str(event.get("key", "")).startswith("page:"):
            at = datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))
            out.setdefault((event["incident_id"], event["key"]), []).append(at.timestamp())
    return out


@pytest.mark.parametrize("own_redis", [True], indirect=True)
class TestLostLastSecond:
    def test_a_host_crash_that_loses_the_last_second_of_writes_is_recovered(
        self, own_redis: EmbeddedRedis, tmp_path: Path
    ) -> None:
        """What `appendfsync everysec` can lose, and what the bot does about it.

        Redis writes the AOF to the kernel before it answers, and fsyncs it once a second:
        a SIGKILL of Redis alone loses nothing (the test above), but a host crash (power,
        kernel) loses what was not yet fsynced, up to about the last second of writes (two
        if the disk stalls). Simulated here: Redis is killed and its AOF cut back by about a
        second, across step 2's commits and pages. Redis comes back in the past; the bot
        carries on from there: every escalation finishes and every page owed goes out. The
        price is at-least-once for the lost second: a page first sent inside it may be sent
        again (Redis no longer knows it was), while every page sent before it goes out once.
        """
        with running(own_redis, tmp_path) as (rt, pool):
            incidents = declare(rt, 5)
            r = connect(own_redis.url)
            wait_for(lambda: {p["incident"] for p in recorded(r)} >= set(incidents), timeout=20)
            (aof_path,) = own_redis_dir(tmp_path).glob("appendonlydir/*.incr.aof")
            step_2_due = min(rt.store.get(i).escalation.due_at or 0 for i in incidents)
            time.sleep(max(0.0, step_2_due - 0.5 - time.time()))  # fsynced up to here...
            synced, lost_from = aof_path.stat().st_size, time.time()
            step_2 = {f"{i}:page:1:0:U0BOB0001" for i in incidents}
            wait_for(lambda: step_2 <= delivery_counts(r).keys(), timeout=20)
            own_redis.kill()  # ...and the host dies with step 2 paged
            aof = aof_path.read_bytes()
            cut = max(s for s in command_starts(aof) if s <= synced)
            assert cut < len(aof)
            aof_path.write_bytes(aof[:cut])
            own_redis.restart()
            r = connect(own_redis.url)
            assert not step_2 <= delivery_counts(r).keys()  # Redis forgot step 2's pages
            wait_for(lambda: all_paged(rt, r, incidents), timeout=60, every=0.5)
            sent = page_deliveries(tmp_path)
            owed = {(i, k.split(":", 1)[1]) for i in incidents for k in expected(i)}
            assert owed <= sent.keys(), sorted(owed - sent.keys())
            again = {key: times for key, times in sent.items() if len(times) > 1}
            assert all(times[0] >= lost_from - 0.2 for times in again.values()), again
            assert all(p.poll() is None for p in pool.procs), "a worker died with Redis"
            print(f"\npages sent again after the lost second: {len(again)} of {len(owed)}")


def own_redis_dir(tmp_path: Path) -> Path:
    return tmp_path / "redis-data"
