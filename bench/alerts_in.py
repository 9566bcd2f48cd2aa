"""Benchmark 6: alerts in. `POST /alerts/<source>` under load, and an alert storm.

The whole stack as in production, with Slack replaced by the emulator (its own process):
`tocsin web` (gunicorn, 2 x 8), two `tocsin worker`s with production defaults, an embedded
Valkey, and the baseline `bench.bare_app` on the same gunicorn settings, whose
`/alerts/<source>` only reads and parses the JSON body and answers 202.

Ingestion: Alertmanager-shaped notifications of 10 alerts each, open loop at 200 a second
for 30 s (10 s with --quick), to the baseline and to Tocsin at the same time (so both share
the machine with the workers handling what Tocsin accepted), each from 32 client threads on
keep-alive connections. A request's latency runs from its scheduled send time to its
answer, so a client or server falling behind shows. 20 groups; each notification repeats 9
of its group's alerts and adds one, as Alertmanager's resends do. Targets: Tocsin's p99 at
most 2x the baseline's; every alert answered 202 is in its group's record once the worker
has drained (none lost); every group has exactly one incident.

Storm (run first, as the ingestion leaves thousands of thread posts for Slack's pacing of
1 message a second per channel to work through): 500 notifications, each a new group of
one alert, within 10 s (50 a second), into a source with `storm: {new_groups: 6, within:
1m}` (six, so that each incident's first page goes to a different person: Slack's 1 message
a second per DM would otherwise be measured).
Targets: at most `new_groups` channels for groups plus one for the storm incident; one
storm incident; every group in exactly one incident; each incident's first page p95 <= 1 s
after the notification that opened it (the storm incident's: after the earliest-sent
notification among the groups that joined it, a conservative start).
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis

from bench.common import (
    SECRET,
    STORM_USERS,
    Procs,
    Verdicts,
    get_json,
    header,
    ms,
    percentile,
    start_emulator,
    start_redis,
    table,
    tocsin_env,
    wait_for,
    wait_ready,
    world,
    write_config,
)
from bot.domain.alerts import groups
from bot.sandbox.emulator import BOT_TOKEN
from bot.sandbox.ports import free_port
from bot.state.alerts import AlertStore, inbox_key

TOKEN = "bench-alerts-token"  # noqa: S105 - a local benchmark's fake token
RATE, ALERTS_PER, GROUPS = 200, 10, 20
STORM_GROUPS, STORM_SECONDS, STORM_LINE = 500, 10.0, 6
CLIENTS = 32
TARGET_RATIO, TARGET_PAGE_P95 = 2.0, 1.0
PAGERS = (*STORM_USERS, "U0LEAD1")  # one person per own-channel group (svc0..svc5)
ROUTES = "".join(
    f'      - {{match: {{pager: "{n}"}}, service: svc{n}, severity: sev3}}\n'
    for n in range(len(PAGERS))
)
ALERTS_YAML = f"""\
alert_sources:
  ingest:
    kind: alertmanager
    token_env: TOCSIN_ALERTS_BENCH_TOKEN
    default: {{service: checkout, severity: sev3}}
    storm: {{new_groups: 1000, within: 1m}}
  storm:
    kind: alertmanager
    token_env: TOCSIN_ALERTS_BENCH_TOKEN
    routes:
{ROUTES}\
    default: {{service: storm, severity: sev3}}
    storm: {{new_groups: {STORM_LINE}, within: 1m}}
"""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def notification(group: str, alerts: Sequence[tuple[str, dict[str, str]]]) -> bytes:
    """An Alertmanager webhook (version 4) of firing alerts (fingerprint, labels)."""
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{group="{group}"}}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "tocsin",
            "groupLabels": {"group": group},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://127.0.0.1:9093",
            "alerts": [
                {
                    "status": "firing",
                    "labels": labels,
                    "annotations": {"summary": f"Bench group {group}"},
                    "startsAt": _now(),
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://127.0.0.1:9090/graph",
                    "fingerprint": fp,
                }
                for fp, labels in alerts
            ],
        }
    ).encode()


@dataclass
class Sent:
    latencies: list[float] = field(default_factory=list)
    codes: dict[int, int] = field(default_factory=dict)
    sent_at: dict[int, float] = field(default_factory=dict)  # request index -> send time
    accepted: set[int] = field(default_factory=set)


def blast(url: str, bodies: Sequence[bytes], rate: float) -> Sent:
    """Send `bodies` open loop at `rate` a second from CLIENTS threads; latency from each
    request's scheduled time to its answer."""
    parts = urlsplit(url)
    todo: queue.Queue[tuple[int, float, bytes] | None] = queue.Queue()
    out, lock = Sent(), threading.Lock()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        while (job := todo.get()) is not None:
            index, due, body = job
            time.sleep(max(0.0, due - time.time()))
            sent = time.time()
            try:
                conn.request("POST", parts.path, body, headers)
                response = conn.getresponse()
                response.read()
                code = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
                code = 0
            done = time.time()
            with lock:
                out.latencies.append(done - due)
                out.codes[code] = out.codes.get(code, 0) + 1
                out.sent_at[index] = sent
                if code == 202:
                    out.accepted.add(index)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    start = time.time() + 0.2
    for index, body in enumerate(bodies):
        todo.put((index, start + index / rate, body))
    for _ in threads:
        todo.put(None)
    for t in threads:
        t.join()
    return out


def ingest_bodies(count: int) -> tuple[list[bytes], dict[str, set[str]]]:
    """Notification i is for group i % GROUPS: its window of 10 alerts moves by one."""
    bodies: list[bytes] = []
    expected: dict[str, set[str]] = {}
    for i in range(count):
        group, n = str(i % GROUPS), i // GROUPS
        alerts = [
            (f"g{group}-a{n + k}", {"alertname": "Bench", "group": group, "k": str(n + k)})
            for k in range(ALERTS_PER)
        ]
        bodies.append(notification(group, alerts))
        expected.setdefault(group, set()).update(fp for fp, _ in alerts)
    return bodies, expected


@dataclass
class Stack:
    redis_url: str
    emulator: str
    tocsin: str
    bare: str
    procs: Procs


def start(stack: Any, tmp: Path, procs: Procs) -> Stack:
    url = start_redis(stack)
    config = write_config(tmp / "config")
    for n, user in enumerate(PAGERS):
        (config / f"svc{n}.yaml").write_text(
            f"name: svc{n}\nservices: [svc{n}]\nsteps:\n  - notify: [user:{user}]\n"
            "    wait: 10m\nrepeat: 0\nfallback_channel: C0INCIDENTS\n"
        )
    (config / "storm.yaml").write_text(
        "name: storm\nservices: [storm]\nsteps:\n  - notify: [user:U0ERIN001]\n"
        "    wait: 10m\nrepeat: 0\nfallback_channel: C0INCIDENTS\n"
    )
    (config / "alerts.yaml").write_text(ALERTS_YAML)
    emu = start_emulator(procs, tocsin_env(url, config))
    env = tocsin_env(
        url,
        config,
        SLACK_API_URL=emu + "api/",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        TOCSIN_ALERTS_BENCH_TOKEN=TOKEN,
    )
    tocsin_port, bare_port = free_port(), free_port()
    server = ["--workers", "2", "--threads", "8"]
    procs.spawn("web", ["-m", "bot.cli", "web", "--bind", f"127.0.0.1:{tocsin_port}", *server], env)
    procs.spawn("bare", ["-m", "bench.bare_app", "--bind", f"127.0.0.1:{bare_port}", *server], env)
    for n in range(2):
        procs.spawn(f"worker-{n}", ["-m", "bot.cli", "worker", "--name", f"bench-{n}"], env)
    tocsin, bare = f"http://127.0.0.1:{tocsin_port}", f"http://127.0.0.1:{bare_port}"
    wait_ready(procs, tocsin)
    wait_ready(procs, bare)
    return Stack(url, emu, tocsin, bare, procs)


def drained(r: redis.Redis, source: str) -> bool:
    return int(r.llen(inbox_key(source))) == 0 and not r.exists(f"tocsin:alerts:lease:{source}")


def ingestion(s: Stack, seconds: float, verdicts: Verdicts) -> float:
    count = int(RATE * seconds)
    bodies, expected = ingest_bodies(count)
    blast(s.bare + "/alerts/ingest", bodies[:RATE], RATE)  # warm both up (not counted)
    blast(s.tocsin + "/alerts/ingest", [notification("warm", [("warm", {})])], RATE)
    found: dict[str, Sent] = {}

    def run(name: str, url: str) -> None:
        found[name] = blast(url + "/alerts/ingest", bodies, RATE)

    both = [
        threading.Thread(target=run, args=(n, u))
        for n, u in (("bare", s.bare), ("tocsin", s.tocsin))
    ]
    for t in both:  # at the same time: the two share the machine and the workers' load
        t.start()
    for t in both:
        t.join()
    bare, tocsin = found["bare"], found["tocsin"]
    r = redis.Redis.from_url(s.redis_url, decode_responses=True)
    store = AlertStore(r)
    wait_for(lambda: drained(r, "ingest"), timeout=600, every=0.5)
    records = {
        g: store.group("ingest", groups.group_id(f'gk:{{}}:{{group="{g}"}}')) for g in expected
    }
    lost = sum(
        len(fps - set(rec.statuses)) if rec else len(fps)
        for g, fps in expected.items()
        for rec in [records[g]]
    )
    incidents = {rec.incident_id for rec in records.values() if rec}
    rows = [
        [
            name,
            len(v.latencies),
            dict(sorted(v.codes.items())),
            ms(percentile(v.latencies, 50)),
            ms(percentile(v.latencies, 99)),
            ms(max(v.latencies)),
        ]
        for name, v in (("bare (parse JSON, 202)", bare), ("tocsin /alerts/ingest", tocsin))
    ]
    print(f"## Ingestion: {RATE}/s x {seconds:g} s, {ALERTS_PER} alerts each, {GROUPS} groups\n")
    print(table(["target", "n", "answers", "p50 ms", "p99 ms", "max ms"], rows))
    print()
    ratio = percentile(tocsin.latencies, 99) / percentile(bare.latencies, 99)
    ok_all = tocsin.codes.get(202, 0) == count
    verdicts.check(
        "ingest p99 ratio tocsin/bare", f"{ratio:.2f}", f"<= {TARGET_RATIO}", ratio <= TARGET_RATIO
    )
    verdicts.check("ingest answered 202", f"{tocsin.codes.get(202, 0)}/{count}", "all", ok_all)
    verdicts.check("ingest alerts lost", str(lost), "0", lost == 0)
    one_each = len(incidents) == GROUPS and all(records.values())
    verdicts.check(
        "ingest incidents per group", f"{len(incidents)} for {GROUPS} groups", "1 each", one_each
    )
    return ratio


def storm(s: Stack, verdicts: Verdicts) -> float:
    emu = s.emulator
    seq = max([c["seq"] for c in get_json(emu + "sandbox/calls")[-1:]], default=0)
    bodies = [
        notification(
            f"storm{i}", [(f"storm-{i}", {"alertname": f"Storm{i}", "pager": str(i % len(PAGERS))})]
        )
        for i in range(STORM_GROUPS)
    ]
    sent = blast(s.tocsin + "/alerts/storm", bodies, STORM_GROUPS / STORM_SECONDS)
    r = redis.Redis.from_url(s.redis_url, decode_responses=True)
    store = AlertStore(r)
    wait_for(lambda: drained(r, "storm"), timeout=600, every=0.5)
    records = [
        store.group("storm", groups.group_id(f'gk:{{}}:{{group="storm{i}"}}'))
        for i in range(STORM_GROUPS)
    ]
    storm_id = store.storm_incident("storm")
    own = {i: rec.incident_id for i, rec in enumerate(records) if rec and not rec.in_storm}
    joined = [i for i, rec in enumerate(records) if rec and rec.in_storm]
    opened_at = {iid: sent.sent_at[i] for i, iid in own.items()}
    if storm_id and joined:
        opened_at[storm_id] = min(sent.sent_at[i] for i in joined)

    def pages() -> dict[str, float] | None:
        calls = get_json(emu + f"sandbox/calls?since={seq}&method=chat.postMessage")
        got: dict[str, float] = {}
        for c in calls:
            text = str(c["args"])
            if "You are paged" not in text:
                continue
            for iid, at in opened_at.items():
                if iid in text and iid not in got:
                    got[iid] = float(c["at"]) + float(c.get("duration") or 0.0) - at
        return got if len(got) == len(opened_at) else None

    firsts = wait_for(pages, timeout=120, every=0.2)
    created = [c for c in get_json(emu + f"sandbox/calls?since={seq}&method=conversations.create")]
    print(f"## Storm: {STORM_GROUPS} new groups in {STORM_SECONDS:g} s, storm line {STORM_LINE}\n")
    rows = [
        [iid, "storm" if iid == storm_id else "own", ms(v)] for iid, v in sorted(firsts.items())
    ]
    print(table(["incident", "kind", "first page after its notification, ms"], rows))
    print(
        f"\nanswers: {dict(sorted(sent.codes.items()))}; channels created: {len(created)}; "
        f"groups in their own incident: {len(own)}, in the storm incident: {len(joined)}\n"
    )
    p95 = percentile(list(firsts.values()), 95)
    in_one = len(own) + len(joined) == STORM_GROUPS
    verdicts.check(
        "storm channels",
        str(len(created)),
        f"<= {STORM_LINE} + 1 (storm)",
        len(created) <= STORM_LINE + 1,
    )
    verdicts.check("storm incidents", "1" if storm_id else "0", "1", bool(storm_id))
    verdicts.check(
        "storm groups in exactly one incident",
        f"{len(own) + len(joined)}/{STORM_GROUPS}",
        "all",
        in_one,
    )
    verdicts.check(
        "storm first page p95",
        f"{ms(p95)} ms",
        f"<= {ms(TARGET_PAGE_P95)} ms",
        p95 <= TARGET_PAGE_P95,
    )
    return p95


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 s of ingestion instead of 30")
    parser.add_argument("--only", choices=("ingest", "storm"))
    args = parser.parse_args(argv)
    header("Alerts in", sys.argv)
    verdicts = Verdicts()
    ratio = p95 = float("nan")
    with world() as (stack, tmp, procs):
        s = start(stack, tmp, procs)
        if args.only in (None, "storm"):  # first: the ingestion leaves Slack posts owed
            p95 = storm(s, verdicts)
        if args.only in (None, "ingest"):
            ratio = ingestion(s, 10.0 if args.quick else 30.0, verdicts)
        procs.check_alive()
    verdicts.report()
    print(f"alerts in: ingest p99 ratio tocsin/bare {ratio:.2f}; storm first page p95 {ms(p95)} ms")
    return verdicts.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
