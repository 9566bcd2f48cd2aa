"""Benchmark 1: acknowledgement latency, Tocsin's web process against a bare Bolt app.

Three targets run under the same gunicorn gthread server class and settings (`tocsin web`'s
defaults: 2 workers x 8 threads) and verify Slack's signature: Tocsin (with a
`tocsin worker`, the Slack emulator in its own process and an embedded Valkey), `bare`, a
Bolt app whose listeners only ack, with Bolt's default settings, and `inline`, the same
bare app with `process_before_response=True` (Tocsin's setting; shown, not judged: the
floor of any app served this way).

Requests, signed by the project's Driver, identical for both targets:
  slash  `/incident note load test <n>` typed in an incident channel: Tocsin parses it,
         finds the incident, commits the note under WATCH/MULTI (timeline entry), enqueues
         the drain and header-refresh jobs, and only then acks with its reply;
  click  the Acknowledge button of the step-1 page DM, clicked again and again (a storm of
         acks): Tocsin de-duplicates, runs the transition (refused after the first) and
         answers; the response_url message telling the clicker goes after the answer.
  help   (only with --kinds help: not a target) `/incident help`, Tocsin's lightest command:
         one Redis write (the retry de-duplication key) and a parse. It shows how far a
         command that touches Redis at all is from an ack-only listener on this machine.
Each (kind, concurrency) is measured in rounds that alternate the order of the targets
(ABC, CBA, ...) to cancel drift; between runs the worker's queue is allowed to drain.

Targets, Tocsin against `bare`, slash and click, zero errors throughout:
  c = 1       p50 <= 0.5 x bare's;
  c = 20, 50  p99 <= 1.25 x bare's, and web CPU per request <= 1.5 x bare's.
"""

from __future__ import annotations

import argparse
import gc
import sys
import threading
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from bench.common import (
    SECRET,
    Verdicts,
    get_json,
    header,
    ms,
    percentile,
    start_emulator,
    start_redis,
    table,
    tocsin_env,
    tree_cpu_seconds,
    wait_for,
    wait_ready,
    world,
    write_config,
)
from bot.sandbox.bridge import payload_workspace
from bot.sandbox.driver import Driver
from bot.sandbox.emulator import BOT_TOKEN
from bot.sandbox.ports import free_port
from bot.sandbox.wire import Result
from bot.sandbox.workspace import load_workspace

CONCURRENCY = (1, 20, 50)
KINDS = ("slash", "click")
TARGET_RATIO = 1.25  # p99 at c > 1
TARGET_P50_C1 = 0.5  # p50 at c = 1
TARGET_CPU = 1.5  # web CPU per request at c > 1
TARGETS = ("tocsin", "bare", "inline")
WEB_WORKERS, WEB_THREADS = 2, 8  # `tocsin web` defaults


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0  # CPU seconds the target's web processes used during the run

    def extend(self, other: Run) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.wall += other.wall
        self.cpu += other.cpu


Send = Callable[[Driver, int], Result]


def load(drivers: list[Driver], send: Send, total: int, check: Callable[[Result], bool]) -> Run:
    """`len(drivers)` closed-loop clients share `total` requests; every latency is kept."""
    run, lock, counter = Run(), threading.Lock(), iter(range(total))

    def client(driver: Driver) -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            try:
                result = send(driver, n)
            except (OSError, urllib.error.URLError) as exc:
                with lock:
                    run.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                run.latencies.append(result.latency)
                if not check(result):
                    run.errors.append(f"{result.status}: {result.text[:200]}")

    threads = [threading.Thread(target=client, args=(d,)) for d in drivers]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.wall = time.perf_counter() - started
    return run


def settle(r: redis.Redis, timeout: float = 120.0) -> None:
    """Wait until the worker has drained what the last run enqueued (background work)."""

    def idle() -> bool:
        return r.llen("rq:queue:tocsin") == 0 and r.zcard("rq:wip:tocsin") == 0

    wait_for(idle, timeout=timeout, every=0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a <= 60 s version")
    parser.add_argument(
        "--kinds",
        default=",".join(KINDS),
        help="slash,click (the targets); help (a floor, no target)",
    )
    parser.add_argument("--concurrency", default=",".join(map(str, CONCURRENCY)))
    parser.add_argument("--rounds", type=int, help="override the number of ABBA rounds")
    args = parser.parse_args(argv)
    kinds = tuple(args.kinds.split(","))
    concurrency = tuple(int(c) for c in args.concurrency.split(","))
    header("Acknowledgement latency: Tocsin web vs bare Bolt", sys.argv)
    rounds = args.rounds or (2 if args.quick else 6)
    per_run = {1: 50, 20: 200, 50: 300} if args.quick else {1: 150, 20: 500, 50: 750}

    with world() as (stack, tmp, procs):
        redis_url = start_redis(stack)
        config = write_config(tmp / "config")
        emu_root = start_emulator(procs, tocsin_env(redis_url, config))
        env = tocsin_env(
            redis_url,
            config,
            SLACK_API_URL=emu_root + "api/",
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            # one person sends every note: lift the per-person write limit, or most notes
            # would be answered by the limiter (a shorter path) instead of being recorded
            TOCSIN_WRITES_PER_MINUTE="1000000000",
            TOCSIN_WRITES_BURST="1000000000",
        )
        tocsin_port, bare_port, inline_port = free_port(), free_port(), free_port()
        web = ["web", "--bind", f"127.0.0.1:{tocsin_port}"]
        tocsin_web = procs.spawn(
            "web",
            ["-m", "bot.cli", *web, "--workers", str(WEB_WORKERS), "--threads", str(WEB_THREADS)],
            env,
        )
        procs.spawn("worker", ["-m", "bot.cli", "worker", "--name", "bench-worker"], env)
        bare = ["-m", "bench.bare_app", "--workers", str(WEB_WORKERS)]
        bare += ["--threads", str(WEB_THREADS)]
        bare_web = procs.spawn("bare", [*bare, "--bind", f"127.0.0.1:{bare_port}"], env)
        inline_web = procs.spawn(
            "inline", [*bare, "--bind", f"127.0.0.1:{inline_port}", "--inline"], env
        )
        urls = {
            "tocsin": f"http://127.0.0.1:{tocsin_port}",
            "bare": f"http://127.0.0.1:{bare_port}",
            "inline": f"http://127.0.0.1:{inline_port}",
        }
        pids = {"tocsin": tocsin_web.pid, "bare": bare_web.pid, "inline": inline_web.pid}
        for url in urls.values():
            wait_ready(procs, url)
        r = redis.Redis.from_url(redis_url)
        workspace = payload_workspace(load_workspace(None))

        def driver(target: str) -> Driver:
            return Driver(
                urls[target] + "/slack/events",
                SECRET,
                workspace=workspace,
                response_url_base=emu_root + "sandbox/respond",
            )

        # One real incident: its channel (for /incident note) and alice's page (for clicks).
        declared = driver("tocsin").slash("U0ERIN001", "declare sev2 Bench checkout errors")
        assert declared.status == 200, declared.text
        channel = wait_for(
            lambda: [
                c for c in get_json(emu_root + "sandbox/channels") if c["name"].startswith("inc-")
            ],
            timeout=20,
        )[0]["id"]
        page = wait_for(lambda: get_json(emu_root + "sandbox/dms/U0ALICE01"), timeout=20)[0]
        settle(r)

        senders: dict[str, Send] = {
            "slash": lambda d, n: d.slash("U0ERIN001", f"note load test {n}", channel_id=channel),
            "click": lambda d, n: d.click("U0ALICE01", page, "incident_ack"),
            "help": lambda d, n: d.slash("U0ERIN001", "help", channel_id=channel),
        }

        def check(target: str, kind: str) -> Callable[[Result], bool]:
            if target == "tocsin" and kind == "slash":
                return lambda res: res.status == 200 and "note by" in res.text
            return lambda res: res.status == 200

        results: dict[tuple[str, str, int], Run] = {}

        def measure(target: str, kind: str, c: int, total: int) -> Run:
            drivers = [driver(target) for _ in range(c)]
            cpu = tree_cpu_seconds(pids[target])
            # the load generator's own full collections (tens of ms with 50 client threads'
            # garbage) would stall every client mid-request, whichever target is measured
            gc.collect()
            gc.disable()
            try:
                run = load(drivers, senders[kind], total, check(target, kind))
            finally:
                gc.enable()
            run.cpu = tree_cpu_seconds(pids[target]) - cpu
            procs.check_alive()
            settle(r)
            return run

        for target in urls:  # warm both up (imports, caches, connection pools)
            for kind in kinds:
                measure(target, kind, 10, 100)

        for c in concurrency:
            for n in range(rounds):
                order = TARGETS if n % 2 == 0 else TARGETS[::-1]
                for kind in kinds:
                    for target in order:
                        run = measure(target, kind, c, per_run[c])
                        results.setdefault((target, kind, c), Run()).extend(run)
            print(f"c={c}: done ({rounds} rounds)", flush=True)

    print()
    rows, verdicts = [], Verdicts()
    ratios: dict[tuple[str, int], float] = {}  # the judged one per (kind, c): p50 at c=1, else p99
    summary: list[list[object]] = []
    for kind in kinds:
        for c in concurrency:
            p50, p99, cpu = {}, {}, {}
            for target in TARGETS:
                run = results[(target, kind, c)]
                lat = run.latencies
                p50[target], p99[target] = percentile(lat, 50), percentile(lat, 99)
                cpu[target] = run.cpu / len(lat)
                rows.append(
                    [
                        kind,
                        c,
                        target,
                        len(lat),
                        ms(p50[target]),
                        ms(p99[target]),
                        ms(max(lat)),
                        f"{len(lat) / run.wall:.0f}",
                        f"{cpu[target] * 1000:.2f}",
                        len(run.errors),
                    ]
                )
                verdicts.check(
                    f"{target} {kind} c={c} errors", str(len(run.errors)), "0", not run.errors
                )
                for err in run.errors[:3]:
                    print(f"  error ({target} {kind} c={c}): {err}")
            p50_ratio, p99_ratio = p50["tocsin"] / p50["bare"], p99["tocsin"] / p99["bare"]
            cpu_ratio = cpu["tocsin"] / cpu["bare"] if cpu["bare"] else float("inf")
            summary.append([kind, c, f"{p50_ratio:.2f}", f"{p99_ratio:.2f}", f"{cpu_ratio:.2f}"])
            ratios[(kind, c)] = p50_ratio if c == 1 else p99_ratio
            if kind not in KINDS:  # the help floor is shown, not judged
                continue
            if c == 1:
                verdicts.check(
                    f"p50 ratio tocsin/bare, {kind} c=1",
                    f"{p50_ratio:.2f}",
                    f"<= {TARGET_P50_C1}",
                    p50_ratio <= TARGET_P50_C1,
                )
                continue
            verdicts.check(
                f"p99 ratio tocsin/bare, {kind} c={c}",
                f"{p99_ratio:.2f}",
                f"<= {TARGET_RATIO}",
                p99_ratio <= TARGET_RATIO,
            )
            verdicts.check(
                f"web CPU ratio tocsin/bare, {kind} c={c}",
                f"{cpu_ratio:.2f}",
                f"<= {TARGET_CPU}",
                cpu_ratio <= TARGET_CPU,
            )
    print(
        table(
            [
                "kind",
                "c",
                "target",
                "requests",
                "p50 ms",
                "p99 ms",
                "max ms",
                "req/s",
                "web CPU ms/req",
                "errors",
            ],
            rows,
        )
    )
    print()
    print(table(["kind", "c", "p50 ratio", "p99 ratio", "web CPU ratio"], summary))
    print()
    verdicts.report()
    judged = [k for k in kinds if k in KINDS] or list(kinds)
    loaded = [c for c in concurrency if c > 1] or list(concurrency)
    worst_kind, worst_c = max(((k, c) for k in judged for c in loaded), key=lambda key: ratios[key])
    at = 20 if 20 in concurrency else loaded[0]
    key = max(ratios[(k, at)] for k in judged)
    print(
        f"ack p99 ratio tocsin/bare at c={at}: {key:.2f} "
        f"(worst {ratios[(worst_kind, worst_c)]:.2f}: {worst_kind} at c={worst_c})"
    )
    return verdicts.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
