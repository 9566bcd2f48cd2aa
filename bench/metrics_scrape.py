"""Benchmark 4: the cost of one `GET /metrics` scrape against the number of open incidents.

Open incidents (200, then 2,000; 50 then 500 with --quick), half acknowledged, over three
severities with a three-step policy, plus half as many resolved ones, written through
`Store.put` into an embedded Valkey. At each size, in this process, as a fresh gunicorn
worker would: a first scrape from a new registry, then 30 more. For each: wall time of
`metrics.exposition` and the Redis work it caused (commands run and bytes Redis sent, from
`INFO commandstats` and `INFO stats`). Then the gauges are dropped, as before an upgrade
that adds them, and the next scrape rebuilds them (once). Also printed: the time to write
the incidents (each `Store.put` also updates the gauges). Target: a warm scrape at the
larger size reads at most 32 KiB from Redis, whatever the number of incidents.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta

import redis

from bench.common import Verdicts, header, ms, percentile, start_redis, table, world
from bot import metrics
from bot.domain.incident import Incident, Roles, Status
from bot.domain.policy import Policy, Step, Target, TargetKind
from bot.state import gauges
from bot.state.server import connect
from bot.state.store import Store

SEVERITIES = ("sev1", "sev2", "sev3")
MAX_BYTES = 32 * 1024
POLICY = Policy(
    "checkout",
    ("checkout",),
    tuple(
        Step((Target(TargetKind.USER, u),), 300) for u in ("U0ALICE01", "U0BOB0001", "U0CAROL01")
    ),
    fallback_channel="C0INCIDENTS",
)


def write_incidents(store: Store, prefix: str, open_count: int) -> None:
    now = datetime.now(UTC)
    total = open_count + open_count // 2
    for start in range(0, total, 500):
        with store.r.pipeline(transaction=False) as pipe:
            for n in range(start, min(start + 500, total)):
                declared = now - timedelta(minutes=n % 90)
                status = (
                    Status.RESOLVED
                    if n >= open_count
                    else (Status.TRIGGERED, Status.ACKNOWLEDGED)[n % 2]
                )
                acked = (
                    declared + timedelta(seconds=30 + n % 1200)
                    if status is not Status.TRIGGERED
                    else None
                )
                incident = Incident(
                    id=f"{prefix}-{n + 1}",
                    title=f"Checkout errors {n + 1}",
                    service="checkout",
                    severity=SEVERITIES[n % 3],
                    declared_by="U0ERIN001",
                    declared_at=declared,
                    roles=Roles(commander="U0ERIN001"),
                    policy=POLICY,
                    status=status,
                    acknowledged_at=acked,
                    resolved_at=now if status is Status.RESOLVED else None,
                )
                store.put(incident, pipe)
            pipe.execute()


def redis_work(r: redis.Redis) -> tuple[int, int]:
    """Commands run so far (INFO and CONFIG left out) and bytes sent to clients."""
    stats = r.info("commandstats")
    calls = sum(
        int(v["calls"])
        for k, v in stats.items()
        if not k.startswith(("cmdstat_info", "cmdstat_config"))
    )
    return calls, int(r.info("stats")["total_net_output_bytes"])


def scrape(store: Store, reg: object) -> tuple[float, int, int]:
    """Time, Redis commands and bytes of one scrape (less what looking at INFO costs)."""
    idle = redis_work(store.r)
    before = redis_work(store.r)
    started = time.perf_counter()
    data, _ = metrics.exposition(reg)  # type: ignore[arg-type]
    took = time.perf_counter() - started
    after = redis_work(store.r)
    assert b"tocsin_incidents" in data
    looking = before[1] - idle[1]
    return took, after[0] - before[0], after[1] - before[1] - looking


def measure(store: Store) -> tuple[tuple[float, int, int], list[tuple[float, int, int]]]:
    """The first scrape of a fresh registry, and 30 more."""
    reg = metrics.registry(store)
    first = scrape(store, reg)
    return first, [scrape(store, reg) for _ in range(30)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = (50, 500) if args.quick else (200, 2000)
    header("Benchmark 4: /metrics scrape cost", sys.argv)
    rows: list[tuple[object, ...]] = []
    with world() as (stack, _, _):
        store = Store(connect(start_redis(stack, appendonly=False)))
        written, wrote = 0, 0.0
        for size in sizes:
            started = time.perf_counter()
            write_incidents(store, f"s{size}", size - written)
            wrote += time.perf_counter() - started
            written = size
            first, warm = measure(store)
            times = [w[0] for w in warm]
            rows.append((size, "first", ms(first[0]), first[1], first[2]))
            rows.append((size, "warm p50", ms(percentile(times, 50)), warm[-1][1], warm[-1][2]))
            rows.append((size, "warm p95", ms(percentile(times, 95)), "", max(w[2] for w in warm)))
        kept = [int(store.r.memory_usage(k) or 0) for k in (gauges.ROWS, gauges.GAUGES)]
        store.r.delete(gauges.ROWS, gauges.GAUGES)
        rebuilt, after = measure(store)
        rows.append((sizes[-1], "rebuilding the gauges", ms(rebuilt[0]), rebuilt[1], rebuilt[2]))
        rows.append((sizes[-1], "the one after", ms(after[0][0]), after[0][1], after[0][2]))
    total = sizes[-1] + sizes[-1] // 2
    print(f"writing {total} incidents through Store.put: {wrote:.2f} s")
    per = kept[0] / total
    print(f"gauges in Redis: rows {kept[0]:,} B ({per:.0f} B per incident), sums {kept[1]:,} B")
    print(table(["open incidents", "scrape", "ms", "Redis commands", "bytes from Redis"], rows))
    verdicts = Verdicts()
    read = max(w[2] for w in warm)
    verdicts.check(
        f"bytes from Redis per warm scrape, {sizes[-1]} open",
        f"{read:,}",
        f"<= {MAX_BYTES:,}",
        read <= MAX_BYTES,
    )
    print()
    verdicts.report()
    print(
        f"metrics scrape with {sizes[-1]} open incidents: warm p50 "
        f"{ms(percentile(times, 50))} ms, {read:,} bytes from Redis"
    )
    return verdicts.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
