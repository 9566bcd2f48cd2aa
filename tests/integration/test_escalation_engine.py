"""The escalation engine end to end: real Valkey, real `tocsin worker` processes."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
import redis
from rq.job import Job

from bot.domain.incident import Status
from bot.domain.policy import EscalationStatus
from bot.domain.timeline import Kind
from bot.paging.recording import delivery_counts, recorded
from bot.runtime import Runtime
from bot.state.timers import DUE_KEY, due_member
from tests.integration.support import FAST, Workers, all_at_once, wait_for, walked_past

pytestmark = pytest.mark.integration


def pages_of(r: redis.Redis, incident_id: str) -> list[dict[str, object]]:
    return [p for p in recorded(r) if p["incident"] == incident_id and p["kind"] == "page"]


def announcements_of(r: redis.Redis, incident_id: str) -> list[dict[str, object]]:
    return [p for p in recorded(r) if p["incident"] == incident_id and p["kind"] == "announce"]


class TestWalk:
    def test_no_ack_walks_every_step_in_order_then_announces_exhaustion(
        self, runtime: Runtime, workers: Workers, r: redis.Redis
    ) -> None:
        """Unacknowledged, each step pages one wait after the last; then exhaustion is announced."""
        workers.start(2)
        incident = runtime.engine.declare(
            title="Checkout 500s", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        wait_for(lambda: len(announcements_of(r, incident.id)) == 2, timeout=30)
        pages = pages_of(r, incident.id)
        by_step: dict[int, list[dict[str, object]]] = {}
        for page in pages:
            by_step.setdefault(int(page["step"]), []).append(page)  # type: ignore[call-overload]
        assert sorted(by_step) == [0, 1, 2]
        assert {p["to"] for p in by_step[0]} == {"U0ALICE01"}
        assert {p["to"] for p in by_step[1]} == {"U0BOB0001", "U0CAROL01"}
        # U0LEAD1 is in the usergroup and named directly: paged once for the step.
        assert sorted(p["to"] for p in by_step[2]) == ["U0GRACE01", "U0LEAD1"]
        firsts = [min(float(p["at"]) for p in by_step[s]) for s in (0, 1, 2)]  # type: ignore[arg-type]
        gaps = [b - a for a, b in itertools.pairwise(firsts)]
        assert all(0.9 <= gap <= 3.5 for gap in gaps), gaps
        assert {a["to"] for a in announcements_of(r, incident.id)} == {"@incident", "C0INCIDENTS"}
        final = runtime.store.get(incident.id)
        assert final.escalation.status is EscalationStatus.EXHAUSTED
        assert all(count == 1 for count in delivery_counts(r).values())

    def test_acknowledgement_stops_escalation(
        self, runtime: Runtime, workers: Workers, r: redis.Redis
    ) -> None:
        """After an ack no further step is paged, though its due time passes."""
        workers.start(1)
        incident = runtime.engine.declare(
            title="Latency", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        wait_for(lambda: pages_of(r, incident.id))
        outcome = runtime.engine.acknowledge(incident.id, "U0ALICE01")
        assert outcome.ok
        walked_past(runtime, r)  # every step the acked incident had left has fallen due
        assert [p["to"] for p in pages_of(r, incident.id)] == ["U0ALICE01"]
        final = runtime.store.get(incident.id)
        assert final.status is Status.ACKNOWLEDGED
        assert final.acknowledged_by == "U0ALICE01"
        kinds = [e.kind for e in runtime.store.timeline(incident.id)]
        assert Kind.ACKNOWLEDGED in kinds
        assert Kind.ESCALATION_STEP in kinds

    def test_manual_escalate_pages_next_step_now_and_continues(
        self, runtime: Runtime, workers: Workers, r: redis.Redis, config_dir: Path
    ) -> None:
        """Escalate pages step 2 at once; without an ack, step 3 follows one wait later."""
        (config_dir / "fast.yaml").write_text(FAST.replace("wait: 2s", "wait: 30s", 1))
        workers.start(1)
        incident = runtime.engine.declare(
            title="Queue backlog", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        wait_for(lambda: pages_of(r, incident.id))
        started = time.time()
        outcome = runtime.engine.escalate(incident.id, "U0ALICE01", "need payments DB help")
        assert outcome.ok
        assert outcome.incident.status is Status.TRIGGERED
        wait_for(lambda: {p["to"] for p in pages_of(r, incident.id)} >= {"U0BOB0001"}, timeout=5)
        assert time.time() - started < 3  # not the 30 s wait of step 1
        wait_for(lambda: any(p["step"] == 2 for p in pages_of(r, incident.id)), timeout=10)

    def test_escalating_an_acknowledged_incident_keeps_the_ack_and_arms_no_timer(
        self, runtime: Runtime, workers: Workers, r: redis.Redis
    ) -> None:
        """After an ack, escalate pages step 2 and stops there: still acknowledged by alice."""
        workers.start(1)
        incident = runtime.engine.declare(
            title="Queue backlog", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        wait_for(lambda: pages_of(r, incident.id))
        assert runtime.engine.acknowledge(incident.id, "U0ALICE01").ok
        outcome = runtime.engine.escalate(incident.id, "U0ERIN001", "need payments DB help")
        assert outcome.ok, outcome.message
        final = runtime.store.get(incident.id)
        assert (final.status, final.acknowledged_by) == (Status.ACKNOWLEDGED, "U0ALICE01")
        assert (final.escalation.status, final.escalation.step) == (EscalationStatus.STOPPED, 1)
        assert final.escalation.due_at is None
        wait_for(lambda: {p["to"] for p in pages_of(r, incident.id)} >= {"U0BOB0001"}, timeout=5)


class TestPolicySnapshot:
    def test_editing_the_policy_changes_only_new_incidents(
        self, runtime: Runtime, workers: Workers, r: redis.Redis, config_dir: Path
    ) -> None:
        """A running incident keeps the policy it started with; a new one gets the edit."""
        workers.start(1)
        old = runtime.engine.declare(
            title="Old", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        wait_for(lambda: pages_of(r, old.id))
        (config_dir / "fast.yaml").write_text(
            FAST.replace("user:U0BOB0001, schedule:primary", "user:U0FRANK01")
        )
        new = runtime.engine.declare(
            title="New", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        wait_for(lambda: any(p["step"] == 1 for p in pages_of(r, new.id)), timeout=10)
        wait_for(lambda: any(p["step"] == 1 for p in pages_of(r, old.id)), timeout=10)
        assert {p["to"] for p in pages_of(r, old.id) if p["step"] == 1} == {
            "U0BOB0001",
            "U0CAROL01",
        }
        assert {p["to"] for p in pages_of(r, new.id) if p["step"] == 1} == {"U0FRANK01"}


class TestSeverity:
    def test_severity_change_to_another_policy_restarts_at_its_first_step(
        self, runtime: Runtime, workers: Workers, r: redis.Redis
    ) -> None:
        """sev2 -> sev1 routes checkout to `major`, whose step 1 is paged at once."""
        workers.start(1)
        incident = runtime.engine.declare(
            title="Errors", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        wait_for(lambda: pages_of(r, incident.id))
        outcome = runtime.engine.change_severity(incident.id, "U0ALICE01", "sev1", "EU down")
        assert outcome.ok
        assert outcome.incident.policy is not None
        assert outcome.incident.policy.name == "major"
        wait_for(lambda: "U0DAVE001" in {p["to"] for p in pages_of(r, incident.id)}, timeout=5)
        kinds = [e.kind for e in runtime.store.timeline(incident.id)]
        assert Kind.REROUTED in kinds


class TestReconciler:
    def test_deleted_scheduled_job_is_rebuilt(
        self, runtime: Runtime, workers: Workers, r: redis.Redis, config_dir: Path
    ) -> None:
        """A step whose timer vanished from the due index is re-armed before it falls due and
        pages on time; the rebuild is on the timeline. (Kicking it once overdue would page
        too, but only after the reconciler's grace: the page's time tells the two apart.)"""
        (config_dir / "fast.yaml").write_text(FAST.replace("wait: 2s", "wait: 4s", 1))
        workers.start(1)
        incident = runtime.engine.declare(
            title="Lost timer", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        wait_for(lambda: pages_of(r, incident.id))
        current = wait_for(
            lambda: runtime.store.get(incident.id).token >= 2 and runtime.store.get(incident.id)
        )
        member = due_member(incident.id, current.token)
        wait_for(lambda: runtime.rq_redis.zscore(DUE_KEY, member) is not None)
        assert runtime.rq_redis.zrem(DUE_KEY, member) == 1  # the step's timer is lost
        due_at = current.escalation.due_at
        assert due_at is not None
        wait_for(lambda: runtime.rq_redis.zscore(DUE_KEY, member) is not None, timeout=10)
        assert time.time() < due_at, "the lost timer was not rebuilt before it fell due"
        assert runtime.rq_redis.zscore(DUE_KEY, member) == pytest.approx(due_at, abs=0.01)
        pages = wait_for(
            lambda: [p for p in pages_of(r, incident.id) if p["step"] == 1], timeout=10
        )
        # The overdue kick waits out a 2 s grace; a rebuilt timer pages at the due time.
        assert float(pages[0]["at"]) - due_at < 1.5, (pages[0]["at"], due_at)  # type: ignore[arg-type]
        texts = [e.text for e in runtime.store.timeline(incident.id) if e.kind is Kind.RECONCILED]
        assert any(t.startswith("rebuilt the lost timer for step 2") for t in texts), texts


class TestRaces:
    def test_twenty_simultaneous_acks_give_one_acknowledgement(
        self, runtime: Runtime, workers: Workers, r: redis.Redis
    ) -> None:
        """Of twenty concurrent acks exactly one commits; the others are told who was first.

        The acks are released together by a barrier, and the race is run on several incidents,
        so that without the store's optimistic lock more than one ack commits in every run.
        """
        workers.start(1)
        for round_ in range(5):
            incident = runtime.engine.declare(
                title=f"Race {round_}", service="checkout", severity="sev2", declared_by="U0ERIN001"
            )
            users = [f"U0RACE{n:04d}" for n in range(20)]
            outcomes = all_at_once(lambda u, i=incident.id: runtime.engine.acknowledge(i, u), users)
            winners = [o for o in outcomes if o.ok]
            assert len(winners) == 1, (round_, [o.message for o in winners])
            winner = winners[0].incident.acknowledged_by
            for loser in (o for o in outcomes if not o.ok):
                assert f"already acknowledged by <@{winner}>" in loser.message
            acks = [e for e in runtime.store.timeline(incident.id) if e.kind is Kind.ACKNOWLEDGED]
            assert len(acks) == 1


class TestReminderTimers:
    def test_deleted_reminder_job_is_rebuilt_by_the_reconciler(
        self, runtime: Runtime, workers: Workers
    ) -> None:
        """The status-update reminder survives losing its RQ job: the reconciler re-arms it."""
        from bot.state.timers import remind_job_id

        workers.start(1)
        incident = runtime.engine.declare(
            title="Reminders", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
        job_id = remind_job_id(incident.id, incident.update_token, 1)
        wait_for(lambda: runtime.escalation.timers.is_live(job_id))
        Job.fetch(job_id, connection=runtime.rq_redis, serializer=runtime.queue.serializer).delete()
        assert not runtime.escalation.timers.is_live(job_id)
        wait_for(lambda: runtime.escalation.timers.is_live(job_id), timeout=10)
