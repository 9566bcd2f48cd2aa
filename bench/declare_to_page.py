"""Benchmark 3: from `/incident declare` to the incident channel and the first page DM.

The whole stack as in production, with Slack replaced by the emulator (its own process):
`tocsin web` (gunicorn, 2 x 8), two `tocsin worker`s with production defaults, an embedded
Valkey. Each of 100 declarations (30 with --quick) is a signed slash command sent by the
project's Driver; the clock starts just before the request is sent. "Channel" is when the
emulator finished `conversations.create` for the incident; "page" is when it finished the
`chat.postMessage` of step 1's page DM (both from the emulator's call log, same host clock).
Declarations are sequential, each after the previous one's jobs have drained and at least
1.1 s after its last Slack post: Tocsin paces chat.postMessage to Slack's 1 message per second
per channel, and every declaration pages alice's DM and announces in #status, so closer
declarations would measure that documented limit rather than Tocsin.

Target: declare-to-first-page p95 <= 300 ms.

Then a storm (reported, no target): rounds of 5 declarations sent at once, each for a
service whose step 1 pages a different person, so no two pages share a DM; what they share
is the severity's stakeholder channel, whose announcements are paced to 1 per second.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from typing import Any

import redis

from bench.common import (
    STORM_USERS,
    Verdicts,
    get_json,
    header,
    ms,
    percentile,
    start_slack_stack,
    table,
    wait_for,
    world,
)

TARGET_P95 = 0.300
ID = re.compile(r"`(\d{8}-\d+)`")


def finished(call: dict[str, Any]) -> float:
    return float(call["at"]) + float(call.get("duration") or 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a <= 60 s version")
    parser.add_argument("-n", type=int, help="number of declarations")
    args = parser.parse_args(argv)
    header("Declare to first page", sys.argv)
    count = args.n or (30 if args.quick else 100)
    acks: list[float] = []
    to_channel: list[float] = []
    to_page: list[float] = []
    storm: list[float] = []

    with world() as (stack, tmp, procs):
        slack = start_slack_stack(stack, tmp, procs, workers=2)
        r = redis.Redis.from_url(slack.redis_url)
        driver, emu = slack.driver, slack.emulator

        def idle() -> bool:
            return r.llen("rq:queue:tocsin") == 0 and r.zcard("rq:wip:tocsin") == 0

        last_post = 0.0
        for n in range(count + 1):  # the first one warms caches up and is not counted
            time.sleep(max(0.0, last_post + 1.1 - time.time()))
            seq = max([c["seq"] for c in get_json(emu + "sandbox/calls")[-1:]], default=0)
            started = time.time()
            result = driver.slash("U0ERIN001", f"declare sev2 Checkout errors {n}")
            found = ID.search(result.text)
            if result.status != 200 or not found:
                raise AssertionError(f"declare failed: {result.status} {result.text[:300]}")
            incident_id = found.group(1)

            def landed(incident_id: str = incident_id, seq: int = seq) -> Any:
                calls = get_json(emu + f"sandbox/calls?since={seq}")
                created = [
                    c
                    for c in calls
                    if c["method"] == "conversations.create" and incident_id in str(c["args"])
                ]
                paged = [
                    c
                    for c in calls
                    if c["method"] == "chat.postMessage"
                    and "You are paged" in str(c["args"])
                    and incident_id in str(c["args"])
                ]
                return (created[0], paged[0]) if created and paged else None

            created, paged = wait_for(landed, timeout=15, every=0.02)
            wait_for(idle, timeout=30, every=0.02)
            procs.check_alive()
            posts = get_json(emu + f"sandbox/calls?since={seq}&method=chat.postMessage")
            last_post = max([finished(c) for c in posts], default=time.time())
            if n == 0:
                continue
            acks.append(result.latency)
            to_channel.append(finished(created) - started)
            to_page.append(finished(paged) - started)

        for _ in range(2 if args.quick else 6):
            time.sleep(max(0.0, last_post + 1.1 - time.time()))
            seq = max([c["seq"] for c in get_json(emu + "sandbox/calls")[-1:]], default=0)
            sent: dict[str, float] = {}

            def declare(k: int) -> None:
                at = time.time()
                answer = driver.slash("U0ERIN001", f"declare sev2 svc{k} errors")
                match = ID.search(answer.text)
                assert match, answer.text
                sent[match.group(1)] = at  # noqa: B023 - joined before the next round

            threads = [threading.Thread(target=declare, args=(k,)) for k in range(len(STORM_USERS))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

            def pages(seq: int = seq) -> Any:
                calls = get_json(emu + f"sandbox/calls?since={seq}&method=chat.postMessage")
                got = {
                    iid: finished(c) - at
                    for c in calls
                    if "You are paged" in str(c["args"])
                    for iid, at in sent.items()  # noqa: B023 - used before the next round
                    if iid in str(c["args"])
                }
                return got if len(got) == len(sent) else None  # noqa: B023

            storm += list(wait_for(pages, timeout=30, every=0.05).values())
            wait_for(idle, timeout=30, every=0.02)
            posts = get_json(emu + f"sandbox/calls?since={seq}&method=chat.postMessage")
            last_post = max([finished(c) for c in posts], default=time.time())

    rows = [
        [name, len(v), ms(percentile(v, 50)), ms(percentile(v, 95)), ms(max(v))]
        for name, v in (
            ("slash command acknowledged", acks),
            ("incident channel created", to_channel),
            ("first page DM posted", to_page),
            (f"first page DM, storm of {len(STORM_USERS)} at once", storm),
        )
    ]
    print(table(["from /incident declare to", "n", "p50 ms", "p95 ms", "max ms"], rows))
    print()
    verdicts = Verdicts()
    p95 = percentile(to_page, 95)
    verdicts.check(
        "declare to first page p95", f"{ms(p95)} ms", f"<= {ms(TARGET_P95)} ms", p95 <= TARGET_P95
    )
    verdicts.report()
    print(
        f"declare to first page p95: {ms(p95)} ms (p50 {ms(percentile(to_page, 50))} ms, "
        f"n={len(to_page)})"
    )
    return verdicts.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
