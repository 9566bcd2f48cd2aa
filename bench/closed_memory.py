"""Benchmark 4: Redis bytes per closed incident, before and after the retention sweep.

The whole stack as in production, with Slack replaced by the emulator (its own process):
`tocsin web` (gunicorn, 2 x 8), one `tocsin worker` with production defaults, an embedded
Valkey. Each of 30 incidents (10 with --quick) lives a short, typical life over signed slash
commands: declared sev2 (step 1 pages alice, #status hears of it), three notes, a status
update (threaded, mirrored to #status), acknowledged by alice, resolved with a summary
(the review window opens, its draft is uploaded). Once every delivery is made and every
draft posted:

(i)   per incident, the `MEMORY USAGE` (SAMPLES 0) of each of its keys (`tocsin:inc:<id>`,
      `tocsin:inc:<id>:*` and its channel link), summed by key family;
(ii)  `bot.state.retention.sweep` runs in this process as if TOCSIN_RETENTION_DAYS had passed;
(iii) (i) again, and `INFO memory` used_memory before minus after the sweep, divided by the
      number of incidents: what the sweep frees, index memberships included.

No target: the figures are reported in docs/BENCHMARKS.md. The last line is the key figure.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from functools import partial

import redis

from bench.common import header, start_slack_stack, table, wait_for, world
from bot import clock
from bot.state.retention import sweep
from bot.state.server import connect
from bot.state.store import Store

ID = re.compile(r"`(\d{8}-\d+)`")
ERIN, ALICE = "U0ERIN001", "U0ALICE01"
LIFE = (
    (ERIN, "note error rate 4% on checkout since 12:01"),
    (ERIN, "note suspect deploy 4812, rolling back"),
    (ERIN, "note rollback done, watching"),
    (ERIN, "update 5xx back under 0.1% after rolling back deploy 4812"),
    (ALICE, "ack"),
    (ERIN, "resolve rolled back deploy 4812; fix tracked in the review"),
)


def family(incident_id: str, key: str) -> str:
    name = key.removeprefix(f"tocsin:inc:{incident_id}") or "record"
    return re.sub(r":\d+$", ":<n>", name.lstrip(":"))


def footprint(r: redis.Redis, store: Store, incident_id: str) -> dict[str, int]:
    """Bytes of each key family of one incident (its keys, and its channel's link)."""
    keys = [store.incident_key(incident_id)]
    keys += [str(k) for k in r.scan_iter(f"{store.incident_key(incident_id)}:*", count=1000)]
    out: dict[str, int] = defaultdict(int)
    for key in keys:
        size = r.memory_usage(key, samples=0)
        if size is not None:
            out[family(incident_id, key)] += int(size)
    channel = store.get(incident_id).channel_id
    out["chan link"] += int(r.memory_usage(f"tocsin:chan:{channel}", samples=0) or 0)
    return out


def paged_in(store: Store, incident_id: str) -> str | None:
    """The incident's channel once it exists and step 1 has paged."""
    incident = store.get(incident_id)
    return incident.channel_id if incident.paged else None


def live(r: redis.Redis, store: Store, incident_id: str) -> None:
    """Wait until the incident owes nothing and its review draft is posted."""
    marker = f"{store.incident_key(incident_id)}:review:posted:1"

    def done() -> bool:
        pending = [i for i in store.outbox(incident_id) if i.status != "sent"]
        return not pending and r.get(marker) == "posted"

    wait_for(done, timeout=120, every=0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a <= 60 s version")
    parser.add_argument("-n", type=int, help="number of incidents")
    args = parser.parse_args(argv)
    header("Redis bytes per closed incident", sys.argv)
    count = args.n or (10 if args.quick else 30)

    with world() as (stack, tmp, procs):
        slack = start_slack_stack(stack, tmp, procs, workers=1)
        r = connect(slack.redis_url)
        store = Store(r)
        driver = slack.driver
        ids: list[str] = []
        started = time.monotonic()
        for n in range(count):
            declared = driver.slash(ERIN, f"declare sev2 Checkout errors {n}")
            found = ID.search(declared.text)
            if not found:
                raise AssertionError(f"declare failed: {declared.status} {declared.text[:300]}")
            incident_id = found.group(1)
            channel = str(wait_for(partial(paged_in, store, incident_id)))
            for user, text in LIFE:
                answer = driver.slash(user, text, channel_id=channel)
                if ":white_check_mark:" not in answer.text:
                    raise AssertionError(f"{text!r} was refused: {answer.text[:300]}")
            ids.append(incident_id)
        for incident_id in ids:
            live(r, store, incident_id)
        procs.check_alive()
        print(f"{count} incidents declared and closed in {time.monotonic() - started:.0f}s")

        before = [footprint(r, store, i) for i in ids]
        items = sum(int(r.hlen(store.outbox_key(i))) for i in ids) / count
        entries = sum(int(r.xlen(store.timeline_key(i))) for i in ids) / count
        facts = sum(int(r.llen(store.facts_key(i))) for i in ids) / count
        used_before = int(r.info("memory")["used_memory"])
        swept: list[str] = []
        while batch := sweep(store, 0.0, clock.now_ts() + 1):  # as if the retention had passed
            swept += batch
        used_after = int(r.info("memory")["used_memory"])
        after = [footprint(r, store, i) for i in ids]
        if sorted(swept) != sorted(ids):
            raise AssertionError(f"swept {len(swept)} of {len(ids)} incidents")

    families = sorted({f for fp in before for f in fp}, key=lambda f: -sum(b[f] for b in before))
    rows = [
        [
            f,
            f"{sum(1 for b in before if f in b) / count:.1f}",
            f"{sum(b.get(f, 0) for b in before) / count:.0f}",
            f"{sum(a.get(f, 0) for a in after) / count:.0f}",
        ]
        for f in families
    ]
    total_before = sum(sum(b.values()) for b in before) / count
    total_after = sum(sum(a.values()) for a in after) / count
    freed = (used_before - used_after) / count
    rows.append(["total", "", f"{total_before:.0f}", f"{total_after:.0f}"])
    print()
    print(table(["key family", "keys/incident", "bytes before", "bytes after"], rows))
    print()
    print(
        f"per incident: {items:.1f} outbox items, {entries:.1f} timeline entries, {facts:.1f} facts"
    )
    print(f"used_memory {used_before} -> {used_after} bytes over the sweep of {count} incidents")
    print(
        f"closed incident: {total_before:.0f} B before the retention sweep, "
        f"{total_after:.0f} B after; the sweep freed {freed:.0f} B per incident (used_memory)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
