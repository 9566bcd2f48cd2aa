"""Benchmark 2: escalation timing at scale, and Redis memory per open incident.

(i)   spread: N open incidents (10,000; 3,000 with --quick) whose next step falls due
      evenly over N/167 s (60 s; 18 s), two `tocsin worker` processes with production
      defaults (poll 0.25 s, reconcile every 15 s) and TOCSIN_PAGER=recording, so Slack is
      not the bottleneck. Lateness of each page = the recording pager's delivery time `at`
      minus the incident's `escalation.due_at`. Target p99 <= 1.0 s.
(ii)  burst: 1,000 steps due within the same second. Target p99 <= 2.0 s and <= 0.5 x the
      p99 of a naive baseline measured in the same run: one plain RQ job per timer via
      `enqueue_at`, run by the same number of plain rq SimpleWorkers (with rq's scheduler),
      each job only recording its lateness (bench/naive.py). Runs alternate naive/tocsin.
(iii) memory: `INFO memory` used_memory after creating the spread's incidents minus before,
      divided by N (before any step fires). Target <= 4 KB per open incident.

Incidents are written directly through the Store in pipelines, in the state the first tick
leaves them in (step 1 paged, timeline and outbox written, step 2's timer in the due index
and the status reminder job scheduled), not through HTTP.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta

import redis

from bench import naive
from bench.common import (
    WORKSPACE,
    Procs,
    Verdicts,
    header,
    percentile,
    start_redis,
    table,
    tocsin_env,
    wait_for,
    world,
    write_config,
)
from bot.domain.incident import Incident, Roles
from bot.domain.outbox import OutboxKind, OutboxStatus
from bot.domain.policy import EscalationState, EscalationStatus, Policy, Step, Target, TargetKind
from bot.domain.timeline import Entry, Kind
from bot.paging.recording import LOG_KEY
from bot.state.server import connect
from bot.state.store import OutboxItem, Store
from bot.state.timers import DUE_KEY, REMIND, RETRY, due_member, make_queue, remind_job_id

RATE = 10_000 / 60  # steps per second in the spread
SPREAD_P99 = 1.0
BURST_P99, BURST_RATIO = 2.0, 0.5
MEMORY_BYTES = 4096
WORKERS = 2

POLICY = Policy(
    name="checkout",
    services=("checkout",),
    steps=(
        Step((Target(TargetKind.SCHEDULE, "checkout-primary"),), 600),
        Step((Target(TargetKind.USER, "U0BOB0001"),), 3600),  # paged by the benchmark's tick
        Step((Target(TargetKind.USER, "U0CAROL01"),), 3600),
    ),
    fallback_channel="C0INCIDENTS",
)


def create_incidents(r: redis.Redis, rq_r: redis.Redis, prefix: str, dues: list[float]) -> None:
    """Write open incidents whose step 2 is due at `dues[i]`, as the first tick leaves them."""
    store, queue = Store(r), make_queue(rq_r, "tocsin")
    now = datetime.now(UTC)
    for start in range(0, len(dues), 500):
        with r.pipeline(transaction=False) as pipe, rq_r.pipeline(transaction=False) as rq_pipe:
            for n in range(start, min(start + 500, len(dues))):
                iid, due = f"{prefix}-{n + 1}", dues[n]
                incident = Incident(
                    id=iid,
                    title=f"Checkout errors {n + 1}",
                    service="checkout",
                    severity="sev2",
                    declared_by="U0ERIN001",
                    declared_at=now,
                    roles=Roles(commander="U0ERIN001"),
                    policy=POLICY,
                    escalation=EscalationState(EscalationStatus.ACTIVE, 0, 0, due),
                    token=2,
                    channel_id=f"C0BENCH{n:06d}",
                    paged=("U0ALICE01",),
                    header_ts="1700000000.000100",
                    update_token=1,
                    update_due_at=now.timestamp() + 1800,
                )
                store.put(incident, pipe)
                store.record(iid, Entry(now, Kind.DECLARED, "U0ERIN001", "declared sev2"), pipe)
                store.record(iid, Entry(now, Kind.CHANNEL_OPENED, "tocsin", "channel"), pipe)
                data = {"step": 0, "loop": 0, "users": ["U0ALICE01"]}
                step = "step 1 (loop 1): paging <@U0ALICE01>"
                store.record(iid, Entry(now, Kind.ESCALATION_STEP, "tocsin", step), pipe, data)
                page = OutboxItem(
                    key="page:0:0:U0ALICE01",
                    kind=OutboxKind.PAGE,
                    to="U0ALICE01",
                    text=f":rotating_light: You are paged for SEV2 {iid} Checkout errors",
                    via="schedule:checkout-primary",
                    status=OutboxStatus.SENT,
                    attempts=1,
                    created_at=now.timestamp(),
                    sent_at=now.timestamp(),
                    ref=f"D0ALICE01/{now.timestamp():.6f}",
                )
                store.add_outbox(iid, [page], pipe)
                paged = {"user": "U0ALICE01", "step": 0, "loop": 0, "via": page.via}
                store.record(iid, Entry(now, Kind.PAGED, "tocsin", "paged"), pipe, paged)
                common = {"retry": RETRY, "result_ttl": 600, "failure_ttl": 86400}
                rq_pipe.zadd(DUE_KEY, {due_member(iid, 2): due})  # step 2's timer
                queue.enqueue_at(
                    now + timedelta(seconds=1800),
                    REMIND,
                    iid,
                    1,
                    1,
                    job_id=remind_job_id(iid, 1, 1),
                    pipeline=rq_pipe,
                    **common,
                )
            pipe.execute()
            rq_pipe.execute()


def start_tocsin_workers(procs: Procs, env: dict[str, str], r: redis.Redis) -> list[object]:
    started = [
        procs.spawn(f"tocsin-worker-{n}-{time.time_ns()}", ["-m", "bot.cli", "worker"], env)
        for n in range(WORKERS)
    ]

    def up() -> bool:
        procs.check_alive()
        return r.scard("rq:workers:tocsin") >= WORKERS and bool(r.exists("tocsin:lease:scheduler"))

    wait_for(up, timeout=30, every=0.1)
    return list(started)


def stop(procs: Procs, started: list[object]) -> None:
    for proc in started:
        procs.stop_one(proc)  # type: ignore[arg-type]
    procs.procs = [(n, p) for n, p in procs.procs if p not in started]


def lateness_of_pages(r: redis.Redis, dues: dict[str, float], timeout: float) -> list[float]:
    wait_for(lambda: r.llen(LOG_KEY) >= len(dues), timeout=timeout, every=0.2)
    time.sleep(0.5)  # let a duplicate, if any, land before counting
    rows = [json.loads(x) for x in r.lrange(LOG_KEY, 0, -1)]
    pages = [row for row in rows if row["kind"] == "page"]
    if len(pages) != len(dues) or len({p["incident"] for p in pages}) != len(dues):
        raise AssertionError(f"{len(pages)} pages for {len(dues)} due steps (exactly once broken)")
    return [float(p["at"]) - dues[p["incident"]] for p in pages]


def summary(name: str, late: list[float]) -> list[object]:
    early = sum(1 for x in late if x < 0) / len(late)
    return [
        name,
        len(late),
        f"{percentile(late, 50):+.3f}",
        f"{percentile(late, 90):+.3f}",
        f"{percentile(late, 99):+.3f}",
        f"{max(late):+.3f}",
        f"{min(late):+.3f}",
        f"{early:.1%}",
    ]


def burst_dues(size: int, lead: float) -> list[float]:
    second = float(int(time.time() + lead))
    return [second + (n + 0.5) / size for n in range(size)]  # all within one whole second


def run_tocsin_burst(
    procs: Procs, env: dict[str, str], r: redis.Redis, rq_r: redis.Redis, size: int, tag: str
) -> list[float]:
    r.flushall()
    started = start_tocsin_workers(procs, env, r)
    try:
        time.sleep(1.0)  # past the workers' start-up reconcile
        dues = burst_dues(size, lead=3.0)
        create_incidents(r, rq_r, f"burst{tag}", dues)
        ids = {f"burst{tag}-{n + 1}": d for n, d in enumerate(dues)}
        return lateness_of_pages(r, ids, timeout=60)
    finally:
        stop(procs, started)


def run_naive_burst(procs: Procs, env: dict[str, str], url: str, size: int) -> list[float]:
    raw = redis.Redis.from_url(url)
    raw.flushall()
    started = [
        procs.spawn(f"naive-worker-{n}-{time.time_ns()}", ["-m", "bench.naive", url, "naive"], env)
        for n in range(WORKERS)
    ]
    try:
        wait_for(lambda: raw.scard("rq:workers:naive") >= WORKERS, timeout=30, every=0.1)
        time.sleep(1.0)
        queue = make_queue(raw, "naive")
        dues = burst_dues(size, lead=3.0)
        with raw.pipeline(transaction=False) as pipe:
            for due in dues:
                queue.enqueue_at(datetime.fromtimestamp(due, UTC), naive.record, due, pipeline=pipe)
            pipe.execute()
        wait_for(lambda: raw.llen(naive.LATENESS_KEY) >= size, timeout=60, every=0.2)
        return [float(x) for x in raw.lrange(naive.LATENESS_KEY, 0, -1)]
    finally:
        stop(procs, started)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a <= 60 s version")
    parser.add_argument("--incidents", type=int, help="override N of the spread")
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--rounds", type=int, help="naive/tocsin burst rounds (default 1 / 2)")
    parser.add_argument("--only", choices=("spread", "burst"), help="for profiling")
    args = parser.parse_args(argv)
    header("Escalation timing at scale", sys.argv)
    n = args.incidents or (3000 if args.quick else 10_000)
    rounds = args.rounds or (1 if args.quick else 2)
    verdicts = Verdicts()
    rows: list[list[object]] = []
    late_spread: list[float] = []
    per_incident = 0.0
    naive_late: list[float] = []
    tocsin_late: list[float] = []

    with world() as (stack, tmp, procs):
        url = start_redis(stack)
        config = write_config(tmp / "config")
        env = tocsin_env(
            url, config, TOCSIN_PAGER="recording", TOCSIN_DIRECTORY_FILE=str(WORKSPACE)
        )
        r, rq_r = connect(url), redis.Redis.from_url(url)

        if args.only in (None, "spread"):
            span = n / RATE
            started = start_tocsin_workers(procs, env, r)
            time.sleep(1.0)
            before = int(r.info("memory")["used_memory"])
            lead = 3.0 + n / 700  # creation takes about 1 ms per incident on 2 cores
            first = time.time() + lead
            dues = [first + span * i / n for i in range(n)]
            t0 = time.perf_counter()
            create_incidents(r, rq_r, "spread", dues)
            created_in = time.perf_counter() - t0
            after = int(r.info("memory")["used_memory"])
            if time.time() >= first:
                raise RuntimeError(f"creating {n} incidents took {created_in:.1f}s: raise the lead")
            per_incident = (after - before) / n
            print(
                f"created {n} incidents in {created_in:.1f}s; first step due in "
                f"{first - time.time():.1f}s, spread over {span:.0f}s ({RATE:.0f}/s)"
            )
            print(f"used_memory {before} -> {after} bytes: {per_incident:.0f} B per open incident")
            ids = {f"spread-{i + 1}": d for i, d in enumerate(dues)}
            late_spread = lateness_of_pages(r, ids, timeout=span + lead + 60)
            stop(procs, started)
            rows.append(summary(f"spread {n} over {span:.0f}s (tocsin)", late_spread))
            p99 = percentile(late_spread, 99)
            verdicts.check(
                "spread p99 lateness", f"{p99:.3f} s", f"<= {SPREAD_P99} s", p99 <= SPREAD_P99
            )
            verdicts.check(
                "Redis memory per open incident",
                f"{per_incident:.0f} B",
                f"<= {MEMORY_BYTES} B",
                per_incident <= MEMORY_BYTES,
            )

        if args.only in (None, "burst"):
            for k in range(rounds):
                naive_late += run_naive_burst(procs, env, url, args.burst)
                print(f"round {k + 1}: naive burst done", flush=True)
                tocsin_late += run_tocsin_burst(procs, env, r, rq_r, args.burst, str(k))
                print(f"round {k + 1}: tocsin burst done", flush=True)
            rows.append(summary(f"burst {args.burst} x{rounds} (naive rq)", naive_late))
            rows.append(summary(f"burst {args.burst} x{rounds} (tocsin)", tocsin_late))
            t99, n99 = percentile(tocsin_late, 99), percentile(naive_late, 99)
            verdicts.check(
                "burst p99 lateness", f"{t99:.3f} s", f"<= {BURST_P99} s", t99 <= BURST_P99
            )
            verdicts.check(
                "burst p99 tocsin/naive",
                f"{t99 / n99:.2f}",
                f"<= {BURST_RATIO}",
                t99 / n99 <= BURST_RATIO,
            )

    print()
    print(table(["run", "steps", "p50 s", "p90 s", "p99 s", "max s", "min s", "early"], rows))
    print()
    verdicts.report()
    parts = []
    if late_spread:
        parts.append(f"spread p99 {percentile(late_spread, 99):.2f} s")
        parts.append(f"{per_incident / 1024:.2f} KB/incident")
    if tocsin_late:
        t99, n99 = percentile(tocsin_late, 99), percentile(naive_late, 99)
        parts.append(f"burst p99 {t99:.2f} s = {t99 / n99:.2f}x naive ({n99:.2f} s)")
    print("escalation lateness: " + "; ".join(parts))
    return verdicts.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
