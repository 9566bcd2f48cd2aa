"""A Sentinel failover in the middle of escalation, with real processes.

A primary, a replica and three sentinels (tests/sentinel_cluster.py); two rq workers and this
process reach them through REDIS_SENTINELS, with TOCSIN_REDIS_WAIT_REPLICAS=1. Incidents
escalate (50 here, 200 under `make soak`), half are acknowledged, then the primary is
SIGKILLed; a quarter more are acknowledged as soon as Redis answers again. After the sentinels
promote the replica: every acknowledgement that was answered
is still there, no page went out twice (counted in the workers' logs, not in Redis, which
could have forgotten), every escalation that was not acknowledged runs to its end, and the
workers are still alive. The failover time and the time until paging resumed are printed
(docs/BENCHMARKS.md).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.domain.incident import Status
from bot.domain.policy import EscalationStatus
from bot.runtime import Runtime
from tests.integration.support import WORKSPACE, Workers, write_config
from tests.reliability.test_redis_restarts import PEOPLE, page_deliveries
from tests.sentinel_cluster import SentinelCluster

pytestmark = pytest.mark.integration
INCIDENTS = 200 if os.environ.get("TOCSIN_SOAK") else 50


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[SentinelCluster]:
    cluster = SentinelCluster(tmp_path / "valkey")
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def acknowledged(rt: Runtime, incident_id: str) -> bool:
    """Acknowledge; an earlier try that committed before its answer was lost counts."""
    if rt.engine.acknowledge(incident_id, "U0BOB0001").ok:
        return True
    return rt.store.get(incident_id).status is Status.ACKNOWLEDGED


def test_a_failover_mid_escalation_keeps_acks_and_pages_once(
    cluster: SentinelCluster, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        REDIS_SENTINELS=cluster.sentinels,
        TOCSIN_REDIS_WAIT_REPLICAS="1",
        TOCSIN_REDIS_WAIT_MS="200",
        TOCSIN_CONFIG_DIR=str(write_config(tmp_path / "config")),
        TOCSIN_PAGER="recording",
        TOCSIN_DIRECTORY_FILE=str(WORKSPACE),
        TOCSIN_CLAIM_LEASE_S="1",
        TOCSIN_RECONCILE_EVERY_S="0.5",
        TOCSIN_SCHEDULER_POLL_S="0.1",
        TOCSIN_SCHEDULER_LEASE_S="1.5",
        PYTHONUNBUFFERED="1",
    )
    pool = Workers(env, tmp_path)
    pool.start(2)
    try:
        rt = Runtime.build(Settings.from_env(env), owner="test")
        incidents = [
            rt.engine.declare(
                title=f"failover {k}", service="checkout", severity="sev2", declared_by="U0ERIN001"
            ).id
            for k in range(INCIDENTS)
        ]
        first = {(i, "page:0:0:U0ALICE01") for i in incidents}
        cluster.wait_until(
            lambda: first <= page_deliveries(tmp_path).keys(), "every first page", 60
        )
        acked: dict[str, float] = {}
        for incident_id in incidents[::2]:
            assert rt.engine.acknowledge(incident_id, "U0ALICE01").ok
            acked[incident_id] = time.time()  # answered: from here on it is a promise

        killed_at, killed_wall = cluster.kill_primary(), time.time()
        cluster.wait_until(lambda: cluster.primary() == cluster.replica_port, "the promotion", 30)
        failover_s = time.monotonic() - killed_at
        cluster.restart_old_primary()  # back as a replica, so WAIT has one to wait for
        for incident_id in incidents[1::4]:  # people acknowledge through the failover too
            cluster.wait_until(lambda i=incident_id: acknowledged(rt, i), "an ack", 30)
            acked[incident_id] = time.time()

        def ran_out(incident_id: str) -> bool:
            return rt.store.get(incident_id).escalation.status is EscalationStatus.EXHAUSTED

        open_ones = [i for i in incidents if i not in acked]
        cluster.wait_until(
            lambda: all(ran_out(i) for i in open_ones), "every open escalation to end", 120
        )

        for incident_id in acked:  # nothing acknowledged was lost with the old primary
            assert rt.store.get(incident_id).status is Status.ACKNOWLEDGED, incident_id
        sent = page_deliveries(tmp_path)
        twice = {key: times for key, times in sent.items() if len(times) > 1}
        assert twice == {}, twice
        owed = {
            (i, f"page:{step}:0:{user}")
            for i in open_ones
            for step, users in PEOPLE.items()
            for user in users
        }
        assert owed <= sent.keys(), sorted(owed - sent.keys())[:5]
        late = {key for key, times in sent.items() if key[0] in acked and times[0] > acked[key[0]]}
        assert late == set(), sorted(late)[:5]  # an ack stopped its escalation for good
        assert all(p.poll() is None for p in pool.procs), "a worker died in the failover"
        resumed = min(t for times in sent.values() for t in times if t > killed_wall)
        print(
            f"\nfailover: {INCIDENTS} incidents, promotion after {failover_s:.1f} s, "
            f"first page after the kill at {resumed - killed_wall:.1f} s"
        )
    finally:
        pool.stop()
