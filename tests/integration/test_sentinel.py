"""Sentinel-managed Redis: the clients Settings builds find the primary through the sentinels,
and find the promoted replica after the primary dies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.config.settings import Settings
from bot.runtime import Runtime, redis_target
from bot.state import counters
from bot.state.replicas import ReplicaWait
from bot.state.target import open_redis
from tests.sentinel_cluster import SentinelCluster

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[SentinelCluster]:
    cluster = SentinelCluster(tmp_path / "valkey")
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def test_settings_reach_the_primary_through_the_sentinels(cluster: SentinelCluster) -> None:
    """A write through REDIS_SENTINELS lands on the primary and replicates; the bytes client
    (rq's) reaches the same server."""
    target = redis_target(Settings.from_env({"REDIS_SENTINELS": cluster.sentinels}))
    conn = open_redis(target)
    conn.set("tocsin:probe", "written")
    assert conn.get("tocsin:probe") == "written"
    primary = redis.Redis(port=cluster.primary_port, decode_responses=True)
    assert primary.get("tocsin:probe") == "written"
    assert open_redis(target, decode_responses=False).get("tocsin:probe") == b"written"
    replica = redis.Redis(port=cluster.replica_port, decode_responses=True)
    cluster.wait_until(lambda: replica.get("tocsin:probe") == "written", "replication")


def test_after_the_primary_dies_the_client_finds_the_promoted_replica(
    cluster: SentinelCluster,
) -> None:
    """What the replica acknowledged (WAIT) survives a SIGKILL of the primary, and the same
    client object writes to the promoted replica once the sentinels have elected it."""
    conn = open_redis(redis_target(Settings.from_env({"REDIS_SENTINELS": cluster.sentinels})))
    conn.set("tocsin:ack", "kept")
    assert conn.wait(1, 2000) == 1
    cluster.kill_primary()
    cluster.wait_until(lambda: cluster.primary() == cluster.replica_port, "the promotion")

    def writes() -> bool:
        conn.set("tocsin:after", "yes")
        return True

    cluster.wait_until(writes, "a write after the failover")
    assert conn.get("tocsin:ack") == "kept"
    promoted = redis.Redis(port=cluster.replica_port, decode_responses=True)
    assert promoted.get("tocsin:after") == "yes"


def test_promised_writes_wait_for_the_replica(cluster: SentinelCluster) -> None:
    """With a replica, WAIT confirms; the marker write it is anchored on reached the replica."""
    conn = open_redis(redis_target(Settings.from_env({"REDIS_SENTINELS": cluster.sentinels})))
    conn.set("tocsin:promise", "acknowledged")
    assert ReplicaWait(conn, replicas=1, timeout_ms=5000).confirm("acknowledge")
    replica = redis.Redis(port=cluster.replica_port, decode_responses=True)
    assert replica.get("tocsin:promise") == "acknowledged"
    assert dict(counters.read(conn)) == {}


def test_an_unconfirmed_promise_is_counted_and_the_command_still_answers(
    worker_env: dict[str, str], r: redis.Redis
) -> None:
    """No replica at all: the declaration and the ack still succeed, and each write that
    waited in vain is counted under what it was."""
    env = worker_env | {"TOCSIN_REDIS_WAIT_REPLICAS": "1", "TOCSIN_REDIS_WAIT_MS": "20"}
    rt = Runtime.build(Settings.from_env(env), owner="test")
    incident = rt.engine.declare(
        title="no replica", service="checkout", severity="sev2", declared_by="U0ERIN001"
    )
    assert rt.engine.acknowledge(incident.id, "U0ALICE01").ok
    short = {
        labels["what"]: n for name, labels, n in counters.read(r) if name == "redis_wait_short"
    }
    assert short == {"declare": 1, "acknowledge": 1, "send_attempt": 1}  # the ack said in channel


def test_after_a_short_wait_the_next_writes_do_not_wait(r: redis.Redis) -> None:
    """No replica (as right after a failover): one WAIT runs out, the next promise within the
    hold-off does not wait again, and both are counted unconfirmed."""
    r.config_resetstat()
    wait = ReplicaWait(r, replicas=1, timeout_ms=20)
    assert not wait.confirm("declare")
    assert not wait.confirm("step")
    assert r.info("commandstats")["cmdstat_wait"]["calls"] == 1
    short = {
        labels["what"]: n for name, labels, n in counters.read(r) if name == "redis_wait_short"
    }
    assert short == {"declare": 1, "step": 1}
