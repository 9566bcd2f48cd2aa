"""Redis: reachable, persistent, never evicting, and replicated."""

from __future__ import annotations

from collections.abc import Iterator

import redis

from bot.cli.doctor.checkup import Checkup, Line, fail, ok, warn

MAX_LAG_S = 10  # a replica further behind than this loses that much on a failover


def check_redis(c: Checkup) -> Iterator[Line]:
    if isinstance(c.connected, str):
        yield fail(
            "redis",
            c.connected,
            "set REDIS_URL=redis://host:6379/0 (or REDIS_SENTINELS and REDIS_SENTINEL_MASTER) "
            "to a running server",
        )


def check_redis_config(c: Checkup) -> Iterator[Line]:
    conn = c.conn
    if conn is None:
        return

    def config(name: str) -> str | None:
        try:
            return str(conn.config_get(name).get(name))
        except redis.ResponseError:  # managed services often disable CONFIG
            return None

    for name, wanted, why, fix in (
        (
            "appendonly",
            "yes",
            "a restart loses timers and queued pages",
            "set `appendonly yes` (valkey.conf, or CONFIG SET appendonly yes; CONFIG REWRITE)",
        ),
        (
            "maxmemory-policy",
            "noeviction",
            "an evicted key silently drops a timer or a page",
            "set `maxmemory-policy noeviction` (or the service's parameter group)",
        ),
    ):
        value = config(name)
        label = f"redis {name}"
        if value is None:
            yield warn(label, "CONFIG GET is disabled here: not checked", f"make sure of: {fix}")
        elif value == wanted:
            yield ok(label, f"{name} {value}")
        else:
            yield fail(label, f"{name} is {value}: {why}", fix)


def check_replicas(c: Checkup) -> Iterator[Line]:
    if c.conn is not None:
        yield replication_line(c.conn.info("replication"))


def replication_line(info: dict[str, object]) -> Line:
    if info.get("role") != "master":
        return fail(
            "redis replicas",
            "REDIS_URL points at a replica (read-only)",
            "point REDIS_URL at the primary (or use Sentinel)",
        )
    lags = [int(v["lag"]) for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
    if not lags:
        return warn(
            "redis replicas",
            "no replica: losing this server loses every incident",
            "add a replica and Sentinel (deploy/)",
        )
    worst = max(lags)
    if worst > MAX_LAG_S:
        return fail(
            "redis replicas",
            f"a replica is {worst} s behind",
            "check the replica's network and load (INFO replication on it)",
        )
    return ok("redis replicas", f"{len(lags)} replica(s), at most {worst} s behind")
