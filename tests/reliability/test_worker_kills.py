"""Invariants 1 and 3 under worker crashes: incidents escalate at once while workers are
SIGKILLed mid-step; every due page goes out exactly once and no timer is lost.

Two pagers, the same kills:
- the recording pager (bounded: 1 round of 15 kills, 20 incidents a round; soak
  TOCSIN_SOAK=1: 8 rounds). TOCSIN_RECORDING_DELAY_S makes each delivery take 2 x 100 ms,
  so a kill often lands between "attempt recorded" and "sent recorded";
- the Slack pager production uses, over HTTP to the emulator (TOCSIN_SLACK_CRASH_TRIALS
  kills, bounded 10, soak 150). Every chat.postMessage answers 150 ms after Slack has
  posted it, so a kill often lands after the page is in the DM and before the worker knows:
  only the message-metadata lookup of the earlier attempt keeps it from being sent twice.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from rq import Worker

from bot.config.settings import Settings
from bot.domain.policy import EscalationStatus
from bot.domain.timeline import Kind
from bot.paging.recording import delivery_counts
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from tests.integration.support import (
    CRASHY,
    CRASHY_PEOPLE,
    Workers,
    crashy_deliveries,
    crashy_pages,
    wait_for,
)
from tests.reliability.support import deliveries, knob

pytestmark = pytest.mark.integration

ROUNDS = int(knob("TOCSIN_CRASH_ROUNDS", 1, 8))
KILLS_PER_ROUND = int(knob("TOCSIN_CRASH_KILLS", 15, 25))
SLACK_TRIALS = int(knob("TOCSIN_SLACK_CRASH_TRIALS", 10, 150))
CONCURRENT = 20
Counts = Callable[[], Counter[str]]  # "<incident>:<outbox key>" -> times delivered


def busy_pids(rt: Runtime) -> set[int]:
    """Pids of workers in the middle of a job right now."""
    return {w.pid for w in Worker.all(connection=rt.rq_redis) if w.get_current_job_id()}


def pick_victim(
    rt: Runtime, pool: Workers, rng: random.Random, patience: float = 1.0
) -> tuple[int, bool]:
    """A worker busy with a job (waiting up to `patience` s for one), else any; (index, was busy)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        busy = busy_pids(rt)
        candidates = [n for n, p in enumerate(pool.procs) if p.pid in busy]
        if candidates:
            return rng.choice(candidates), True
        time.sleep(0.02)
    return rng.randrange(len(pool.procs)), False


def declare_at_once(rt: Runtime, count: int, label: str) -> list[str]:
    """`count` CRASHY incidents declared together; their ids."""
    with ThreadPoolExecutor(count) as ex:
        return list(
            ex.map(
                lambda n: (
                    rt.engine.declare(
                        title=f"{label} incident {n}",
                        service="checkout",
                        severity="sev2",
                        declared_by="U0ERIN001",
                    ).id
                ),
                range(count),
            )
        )


def kill_busy_workers(
    rt: Runtime,
    pool: Workers,
    rng: random.Random,
    kills: int,
    gap: tuple[float, float],
    patience: float = 1.0,
) -> int:
    """SIGKILL (and restart) `kills` workers, a random `gap` apart, each one busy with a job
    if one is within `patience` s; how many were."""
    busy_kills = 0
    for _ in range(kills):
        time.sleep(rng.uniform(*gap))  # the random point of each kill
        victim, busy = pick_victim(rt, pool, rng, patience)
        busy_kills += busy
        pool.restart(victim)
    return busy_kills


def assert_each_delivered_once(
    rt: Runtime,
    incidents: list[str],
    counts: Counts,
    owed: Callable[[str], set[str]] = crashy_deliveries,
) -> Counter[str]:
    """Wait until every CRASHY incident is exhausted with all it `owed` delivered; then each
    page (incident, step, loop, person) and announcement went out exactly once, nothing
    else went out, and each step ran once. The final counts."""

    def finished() -> bool:
        seen = counts()
        return all(
            rt.store.get(i).escalation.status is EscalationStatus.EXHAUSTED
            and owed(i) <= seen.keys()
            for i in incidents
        )

    try:
        wait_for(finished, timeout=120, every=0.5)
    except AssertionError:
        seen = counts()
        stuck = [
            (i, rt.store.get(i).escalation, sorted(owed(i) - seen.keys()))
            for i in incidents
            if not owed(i) <= seen.keys()
        ]
        raise AssertionError(f"{len(stuck)} incidents unfinished: {stuck[:3]}") from None
    seen = counts()
    pages = {
        (incident_id, step, loop, user): seen[f"{incident_id}:page:{step}:{loop}:{user}"]
        for incident_id in incidents
        for step, users in CRASHY_PEOPLE.items()
        for loop in (0, 1)
        for user in users
    }
    wrong = {page: n for page, n in pages.items() if n != 1}  # (incident, step, loop, person)
    assert wrong == {}, f"{len(wrong)} of {len(pages)} pages not sent exactly once: {wrong}"
    assert {k: v for k, v in seen.items() if v != 1} == {}, "a delivery was doubled"
    assert set(seen) == set().union(*map(owed, incidents))
    assert {k for k in seen if ":page:" in k} == set().union(*map(crashy_pages, incidents))
    for incident_id in incidents:
        steps = Counter(
            (d["step"], d["loop"])
            for e, d in rt.store.timeline_with_data(incident_id)
            if e.kind is Kind.ESCALATION_STEP
        )
        assert steps == {(0, 0): 1, (1, 0): 1, (0, 1): 1, (1, 1): 1}, (incident_id, steps)
    return seen


def crashy_only(config_dir: Path) -> None:
    (config_dir / "crashy.yaml").write_text(CRASHY)
    for name in ("fast.yaml", "major.yaml"):
        (config_dir / name).unlink()


class TestWorkerKills:
    def test_twenty_concurrent_escalations_survive_sigkills(
        self, worker_env: dict[str, str], config_dir: Path, tmp_path: Path, r: redis.Redis
    ) -> None:
        """20 incidents declared at once per round; random SIGKILLs mid-step; every page exactly once, every step once."""
        crashy_only(config_dir)
        env = worker_env | {"TOCSIN_RECORDING_DELAY_S": "0.1"}
        rt = Runtime.build(Settings.from_env(env), owner="test")
        pool = Workers(env, tmp_path)
        pool.start(3)
        rng = random.Random(6_2026)
        incidents: list[str] = []
        busy_kills = 0
        try:
            wait_for(lambda: len(Worker.all(connection=rt.rq_redis)) == 3, timeout=60)  # all up
            for round_no in range(ROUNDS):
                incidents += declare_at_once(rt, CONCURRENT, f"round {round_no}")
                busy_kills += kill_busy_workers(rt, pool, rng, KILLS_PER_ROUND, (0.1, 0.45))
            kills = ROUNDS * KILLS_PER_ROUND
            counts = assert_each_delivered_once(rt, incidents, lambda: delivery_counts(r))
            # a third at least (half when the machine is quiet): a loaded host starts workers
            # slowly, so more kills find a worker between jobs (22/50 seen under load 10)
            assert busy_kills >= kills // 3, f"only {busy_kills}/{kills} kills hit a busy worker"
            print(
                f"\nworker kills: {kills} (victim mid-job {busy_kills}), incidents "
                f"{len(incidents)}, deliveries {len(counts)}, doubled 0"
            )
        finally:
            pool.stop()

    def test_slack_pager_sigkills_double_and_lose_no_page(
        self, worker_env: dict[str, str], config_dir: Path, tmp_path: Path
    ) -> None:
        """The Slack pager through the emulator over HTTP; random SIGKILLs of busy workers, many after Slack posted a page and before the worker recorded it; each (incident, step, loop, person) paged exactly once."""
        crashy_only(config_dir)
        emu = Emulator(fault_seed=20).start()
        # Slack posts, then answers 150 ms later: the window a kill must not double a page in.
        emu.faults.add("delay", method="chat.postMessage", delay=0.15, when="after")
        env = worker_env | {
            "TOCSIN_PAGER": "slack",
            "SLACK_API_URL": emu.url,
            "SLACK_BOT_TOKEN": emu.bot_token,
        }
        rt = Runtime.build(Settings.from_env(env), owner="test", inline_delivery=False)
        pool = Workers(env, tmp_path)
        pool.start(3)
        rng = random.Random(20_2026)
        incidents: list[str] = []
        busy_kills = rounds = 0
        try:
            wait_for(lambda: len(Worker.all(connection=rt.rq_redis)) == 3, timeout=60)  # all up
            while rounds * 10 < SLACK_TRIALS:  # 10 kills a round of 12 incidents
                incidents += declare_at_once(rt, 12, f"slack round {rounds}")
                kills = min(10, SLACK_TRIALS - rounds * 10)
                busy_kills += kill_busy_workers(rt, pool, rng, kills, (0.1, 0.6), patience=3.0)
                rounds += 1

            def counts() -> Counter[str]:
                return Counter({f"{i}:{k}": n for (i, k), n in deliveries(emu).items()})

            def owed(incident_id: str) -> set[str]:  # and the channel header, also tagged
                return crashy_deliveries(incident_id) | {f"{incident_id}:header"}

            seen = assert_each_delivered_once(rt, incidents, counts, owed)
            # a third at least (half when the machine is quiet): a loaded host starts workers slowly
            assert busy_kills >= SLACK_TRIALS // 3, f"only {busy_kills} kills hit a busy worker"
            lookups = len(emu.calls("conversations.history"))
            print(
                f"\nslack pager kills: {SLACK_TRIALS} (victim mid-job {busy_kills}), incidents "
                f"{len(incidents)}, deliveries {len(seen)}, doubled 0, lost 0, "
                f"history lookups {lookups}"
            )
        finally:
            pool.stop()
            emu.stop()
