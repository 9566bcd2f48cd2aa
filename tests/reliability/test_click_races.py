"""Invariant 2 (atomic transitions) under races: parallel clicks over HTTP, an ack racing a
due step, concurrent severity changes."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.serializers import JSONSerializer

from bot.config import load_catalog
from bot.domain.policy import EscalationStatus
from bot.domain.timeline import Kind
from bot.paging.recording import recorded
from bot.render.blocks import ACK
from bot.runtime import Runtime
from bot.state.store import Store
from bot.state.timers import DUE_KEY, parse_member, tick_job_id
from tests.e2e.support import wait_for
from tests.integration.support import Workers, all_at_once, walked_past
from tests.reliability.conftest import MakeStack
from tests.reliability.slack_helpers import click_payload, declare, ephemeral_texts, header
from tests.reliability.support import knob

pytestmark = pytest.mark.integration
CLICKS = 20
CLICK_ROUNDS = 4
RACE_TRIALS = int(knob("TOCSIN_RACE_TRIALS", 12, 100))
USERS = ["U0ALICE01", "U0BOB0001", "U0CAROL01", "U0DAVE001", "U0ERIN001", "U0FRANK01"]


def anyone_acks(config: Path) -> None:
    path = config / "severities.yaml"
    path.write_text(path.read_text().replace("acknowledge: [responder]", "acknowledge: [anyone]"))


MAJOR = """\
name: major
services: [payments-api]
severities: [sev1]
steps:
  - notify: [user:U0DAVE001]
    wait: 30s
repeat: 0
fallback_channel: C0INCIDENTS
"""


def major_for_sev1(config: Path) -> None:
    (config / "major.yaml").write_text(MAJOR)


def live_ticks(rt_redis: redis.Redis, queue_name: str, incident_id: str) -> list[tuple[str, int]]:
    """(job id, token) of every tick of the incident that waits in the due index, or is a job
    scheduled or queued (an indexed step is named by the job id a tick of it would have)."""
    out = [
        (tick_job_id(i, t), t)
        for i, t in (parse_member(m) for m in rt_redis.zrange(DUE_KEY, 0, -1))
        if i == incident_id
    ]
    ids = set(ScheduledJobRegistry(queue_name, connection=rt_redis).get_job_ids())
    ids |= {i.decode() for i in rt_redis.lrange(f"rq:queue:{queue_name}", 0, -1)}
    for job_id in ids:
        if job_id.startswith(f"tick-{incident_id}-"):
            job = Job.fetch(job_id, connection=rt_redis, serializer=JSONSerializer)
            out.append((job_id, int(job.args[1])))
    return out


class TestParallelClicks:
    def test_twenty_parallel_ack_clicks_make_one_acknowledgement(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """20 Acknowledge clicks at once over HTTP: one ack; the 19 others are told who was first.

        Each round's requests are built ahead and released together by a barrier, so they are
        in flight at once; several rounds make a lost lock show in every run, not only in some.
        """
        stack = make_stack(config=anyone_acks)
        store = Store(r)
        told_before = 0
        for round_ in range(CLICK_ROUNDS):
            incident_id, channel = declare(stack, f"declare sev2 Checkout errors {round_}")
            message = header(stack, channel)
            base = time.time()
            sends = [
                (
                    stack.driver(),
                    click_payload(
                        stack,
                        USERS[n % len(USERS)],
                        message,
                        ACK,
                        action_ts=f"{base + n / 1000:.6f}",
                    ),
                )
                for n in range(CLICKS)
            ]
            results = all_at_once(lambda send: send[0].post("interactive", send[1]), sends)
            assert all(res.status == 200 for res in results)
            acks = [e for e in store.timeline(incident_id) if e.kind is Kind.ACKNOWLEDGED]
            assert len(acks) == 1, (round_, acks)
            winner = acks[0].actor
            expected = told_before + CLICKS - 1
            refusals = wait_for(
                lambda n=expected: (
                    texts
                    if len(
                        texts := [t for t in ephemeral_texts(stack) if "already acknowledged" in t]
                    )
                    >= n
                    else None
                ),
                timeout=20,
            )
            told = refusals[told_before:]
            assert len(told) == CLICKS - 1
            assert all(f"already acknowledged by <@{winner}>" in t for t in told), told
            told_before = len(refusals)
            assert store.get(incident_id).acknowledged_by == winner


class TestAckRacesADueStep:
    def test_an_ack_at_the_due_instant_never_lets_the_next_step_page(
        self, runtime: Runtime, workers: Workers, r: redis.Redis
    ) -> None:
        """Acks timed at step 2's due instant: either the step committed first or it never pages; never both."""
        workers.start(2)
        incidents = []
        for n in range(RACE_TRIALS):
            incident = runtime.engine.declare(
                title=f"race {n}", service="checkout", severity="sev2", declared_by="U0ERIN001"
            )
            incidents.append(incident.id)
        # Once step 1 is paged, ack each at the instant step 2 falls due (all in parallel).

        def ack_at_due(incident_id: str) -> None:
            state = wait_for(
                lambda: (
                    runtime.store.get(incident_id).escalation.step == 0
                    and runtime.store.get(incident_id).escalation
                ),
                timeout=30,
                every=0.01,
            )
            delay = state.due_at - time.time()
            if delay > 0:  # the race is at the due instant: the workers' clocks decide it
                time.sleep(delay)
            assert runtime.engine.acknowledge(incident_id, "U0ALICE01").ok

        with ThreadPoolExecutor(len(incidents)) as ex:
            list(ex.map(ack_at_due, incidents))
        walked_past(runtime, r)  # every later step of the raced incidents has fallen due
        outcomes = Counter()
        for incident_id in incidents:
            entries = list(runtime.store.timeline_with_data(incident_id))
            kinds = [e.kind for e, _ in entries]
            ack_at = kinds.index(Kind.ACKNOWLEDGED)
            later_steps = [d for e, d in entries[ack_at:] if e.kind is Kind.ESCALATION_STEP]
            assert later_steps == [], f"{incident_id}: a step committed after the ack"
            step2_before = any(
                e.kind is Kind.ESCALATION_STEP and d.get("step") == 1 for e, d in entries[:ack_at]
            )
            outcomes["step first" if step2_before else "ack first"] += 1
            pages = [p for p in recorded(r) if p["incident"] == incident_id and p["kind"] == "page"]
            step2_pages = [p for p in pages if p["step"] == 1]
            # A page for step 2 exists only if step 2 committed before the ack.
            assert bool(step2_pages) == step2_before, (incident_id, pages)
            final = runtime.store.get(incident_id)
            assert final.escalation.status is not EscalationStatus.ACTIVE
        print(f"\nack vs due step: {dict(outcomes)}")


class TestConcurrentSeverityChanges:
    def test_parallel_sev_changes_end_consistent(
        self, make_stack: MakeStack, r: redis.Redis
    ) -> None:
        """Ten `/incident sev` at once: the final severity was requested, its policy is snapshotted, one live tick for the token."""
        stack = make_stack(config=major_for_sev1)
        catalog = load_catalog(stack.env["TOCSIN_CONFIG_DIR"])
        trials = int(knob("TOCSIN_SEV_TRIALS", 3, 10))
        store = Store(r)
        for trial in range(trials):
            incident_id, channel = declare(stack, f"declare sev2 Payments-api trial {trial}")
            requested = [
                "sev1",
                "sev3",
                "sev1",
                "sev2",
                "sev3",
                "sev1",
                "sev3",
                "sev1",
                "sev2",
                "sev3",
            ]
            driver = stack.driver()
            with ThreadPoolExecutor(len(requested)) as ex:
                results = list(
                    ex.map(
                        lambda sev, d=driver, c=channel: d.slash(
                            "U0ERIN001", f"sev {sev} trial", channel_id=c
                        ),
                        requested,
                    )
                )
            assert all(res.status == 200 for res in results), [res.text for res in results]
            final = store.get(incident_id)
            assert final.severity in requested
            changes = [e for e in store.timeline(incident_id) if e.kind is Kind.SEVERITY_CHANGED]
            assert changes
            assert changes[-1].text.startswith(f"severity set to {final.severity}")
            # the changes are answered by the channel's message alone; the others are refused
            assert len(changes) == sum(res.text == "" for res in results)
            # A reroute restarts paging at step 1: wait until that step is taken.
            wait_for(lambda i=incident_id: stepped_since_reroute(store, i), timeout=15)
            final = store.get(incident_id)
            expected = catalog.policy_for(final.service, final.severity)
            assert final.policy == expected, (final.severity, final.policy, expected)
            assert final.escalation.status is EscalationStatus.ACTIVE
            ticks = wait_for(
                lambda i=incident_id: [
                    t for t in live_ticks(stack_rq(r), "tocsin", i) if t[1] == store.get(i).token
                ],
                timeout=10,
            )
            assert len({job_id.split("-early")[0] for job_id, _ in ticks}) == 1, ticks


def stepped_since_reroute(store: Store, incident_id: str) -> bool:
    """True once a step was taken after the last reroute (or ever, if never rerouted)."""
    kinds = [e.kind for e in store.timeline(incident_id)]
    last = max((n for n, k in enumerate(kinds) if k is Kind.REROUTED), default=-1)
    return Kind.ESCALATION_STEP in kinds[last + 1 :]


def stack_rq(r: redis.Redis) -> redis.Redis:
    pool = r.connection_pool.connection_kwargs
    return redis.Redis(host=pool["host"], port=pool["port"], db=pool.get("db", 0))
