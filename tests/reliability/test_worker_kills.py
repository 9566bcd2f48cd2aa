"""Invariants 1 and 3 under worker crashes: 20 incidents escalate at once while workers are
SIGKILLed mid-step; every due page goes out exactly once and no timer is lost.

Bounded: 2 rounds x 25 kills (50 SIGKILLs). Soak (TOCSIN_SOAK=1): 8 rounds x 25 kills.
TOCSIN_RECORDING_DELAY_S makes each delivery take 2 x 100 ms, so a kill often lands between
"attempt recorded" and "sent recorded" - the window exactly-once has to survive.
"""

from __future__ import annotations

import random
import time
from collections import Counter
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
from tests.integration.support import CRASHY, Workers, crashy_deliveries, crashy_pages, wait_for
from tests.reliability.support import knob

pytestmark = pytest.mark.integration

ROUNDS = int(knob("TOCSIN_CRASH_ROUNDS", 2, 8))
KILLS_PER_ROUND = int(knob("TOCSIN_CRASH_KILLS", 25, 25))
CONCURRENT = 20


def busy_pids(rt: Runtime) -> set[int]:
    """Pids of workers in the middle of a job right now."""
    return {w.pid for w in Worker.all(connection=rt.rq_redis) if w.get_current_job_id()}


def pick_victim(rt: Runtime, pool: Workers, rng: random.Random) -> tuple[int, bool]:
    """A worker busy with a job (waiting up to 1 s for one), else any; (index, was busy)."""
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        busy = busy_pids(rt)
        candidates = [n for n, p in enumerate(pool.procs) if p.pid in busy]
        if candidates:
            return rng.choice(candidates), True
        time.sleep(0.02)
    return rng.randrange(len(pool.procs)), False


class TestWorkerKills:
    def test_twenty_concurrent_escalations_survive_sigkills(
        self, worker_env: dict[str, str], config_dir: Path, tmp_path: Path, r: redis.Redis
    ) -> None:
        """20 incidents declared at once per round; random SIGKILLs mid-step; every page exactly once, every step once."""
        (config_dir / "crashy.yaml").write_text(CRASHY)
        for name in ("fast.yaml", "major.yaml"):
            (config_dir / name).unlink()
        env = worker_env | {"TOCSIN_RECORDING_DELAY_S": "0.1"}
        rt = Runtime.build(Settings.from_env(env), owner="test")
        pool = Workers(env, tmp_path)
        pool.start(3)
        rng = random.Random(6_2026)
        incidents: list[str] = []
        kills = busy_kills = 0
        try:
            for round_no in range(ROUNDS):
                with ThreadPoolExecutor(CONCURRENT) as ex:
                    declared = list(
                        ex.map(
                            lambda n, rnd=round_no: (
                                rt.engine.declare(
                                    title=f"round {rnd} incident {n}",
                                    service="checkout",
                                    severity="sev2",
                                    declared_by="U0ERIN001",
                                ).id
                            ),
                            range(CONCURRENT),
                        )
                    )
                incidents += declared
                for _ in range(KILLS_PER_ROUND):
                    time.sleep(rng.uniform(0.1, 0.45))
                    victim, busy = pick_victim(rt, pool, rng)
                    busy_kills += busy
                    pool.restart(victim)
                    kills += 1

            def finished() -> bool:
                counts = delivery_counts(r)
                return all(
                    rt.store.get(i).escalation.status is EscalationStatus.EXHAUSTED
                    and crashy_deliveries(i) <= counts.keys()
                    for i in incidents
                )

            try:
                wait_for(finished, timeout=120, every=0.5)
            except AssertionError:
                counts = delivery_counts(r)
                stuck = [
                    (i, rt.store.get(i).escalation, sorted(crashy_deliveries(i) - counts.keys()))
                    for i in incidents
                    if not crashy_deliveries(i) <= counts.keys()
                ]
                raise AssertionError(f"{len(stuck)} incidents unfinished: {stuck[:3]}") from None
            counts = delivery_counts(r)
            pages = {k: v for k, v in counts.items() if ":page:" in k}
            assert {k: v for k, v in counts.items() if v != 1} == {}, "a delivery was doubled"
            assert set(pages) == set().union(*(crashy_pages(i) for i in incidents))
            assert set(counts) == set().union(*(crashy_deliveries(i) for i in incidents))
            for incident_id in incidents:
                steps = Counter(
                    (d["step"], d["loop"])
                    for e, d in rt.store.timeline_with_data(incident_id)
                    if e.kind is Kind.ESCALATION_STEP
                )
                assert steps == {(0, 0): 1, (1, 0): 1, (0, 1): 1, (1, 1): 1}, (incident_id, steps)
            assert kills == ROUNDS * KILLS_PER_ROUND
            assert busy_kills >= kills // 2, f"only {busy_kills}/{kills} kills hit a busy worker"
            print(
                f"\nworker kills: {kills} (victim mid-job {busy_kills}), incidents "
                f"{len(incidents)}, deliveries {len(counts)}, doubled 0"
            )
        finally:
            pool.stop()
