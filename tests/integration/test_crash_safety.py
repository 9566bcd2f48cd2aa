"""Invariant 1: a due page is sent exactly once, also when workers are SIGKILLed mid-step."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
import redis
from rq import Worker

from bot.config.settings import Settings
from bot.domain.policy import EscalationStatus
from bot.paging.recording import delivery_counts
from bot.runtime import Runtime
from tests.integration.support import CRASHY, Workers, crashy_deliveries, wait_for
from tests.reliability.support import knob

pytestmark = pytest.mark.integration
KILLS = int(knob("TOCSIN_CRASH_TRIALS", 15, 200))  # `make soak`: 200


class TestWorkerCrashes:
    def test_sigkill_at_random_points_loses_and_doubles_nothing(
        self, worker_env: dict[str, str], config_dir: Path, tmp_path: Path, r: redis.Redis
    ) -> None:
        """Over KILLS SIGKILLs of random workers mid-escalation, every page lands exactly once."""
        (config_dir / "crashy.yaml").write_text(CRASHY)
        for name in ("fast.yaml", "major.yaml"):
            (config_dir / name).unlink()
        env = worker_env | {"TOCSIN_RECORDING_DELAY_S": "0.05"}
        runtime = Runtime.build(Settings.from_env(env), owner="test")
        pool = Workers(env, tmp_path)
        pool.start(3)
        rng = random.Random(20261127)
        incidents: list[str] = []
        stop = threading.Event()

        def declare_steadily() -> None:
            while not stop.is_set():
                incident = runtime.engine.declare(
                    title=f"crash trial {len(incidents)}",
                    service="checkout",
                    severity="sev2",
                    declared_by="U0ERIN001",
                )
                incidents.append(incident.id)
                stop.wait(0.4)

        declarer = threading.Thread(target=declare_steadily)
        declarer.start()
        mid_job = 0
        try:
            # every worker up before the first kill (one killed while booting was never busy)
            wait_for(lambda: len(Worker.all(connection=runtime.rq_redis)) == 3, timeout=60)
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.2, 1.0))  # the random point of this kill
                victim = rng.randrange(len(pool.procs))
                busy = [
                    w for w in Worker.all(connection=runtime.rq_redis) if w.get_current_job_id()
                ]
                mid_job += bool(busy)
                pool.restart(victim)
        finally:
            stop.set()
            declarer.join()
        try:

            def all_done() -> bool:
                states = [runtime.store.get(i).escalation.status for i in incidents]
                counts = delivery_counts(r)
                delivered = all(crashy_deliveries(i) <= counts.keys() for i in incidents)
                return all(s is EscalationStatus.EXHAUSTED for s in states) and delivered

            try:
                wait_for(all_done, timeout=90, every=0.5)
            except AssertionError:
                counts = delivery_counts(r)
                stuck = {
                    i: (
                        runtime.store.get(i).escalation,
                        sorted(crashy_deliveries(i) - counts.keys()),
                    )
                    for i in incidents
                    if not crashy_deliveries(i) <= counts.keys()
                    or runtime.store.get(i).escalation.status is not EscalationStatus.EXHAUSTED
                }
                raise AssertionError(
                    f"{len(stuck)} incidents unfinished: {list(stuck.items())[:3]}"
                ) from None
            counts = delivery_counts(r)
            doubled = {k: v for k, v in counts.items() if v != 1}
            assert doubled == {}
            expected = set().union(*(crashy_deliveries(i) for i in incidents))
            assert set(counts) == expected
            assert len(incidents) >= KILLS  # incidents are declared throughout the kills
            assert mid_job >= KILLS // 4, f"only {mid_job} kills hit a busy worker"
            print(
                f"\ncrash trials: kills={KILLS} busy_at_kill={mid_job} incidents={len(incidents)} "
                f"deliveries={len(counts)}"
            )
        finally:
            pool.stop()
