"""The jobs Timers puts on RQ, read back from Redis: what runs, with which arguments, under
which id (the ids the reconcilers look for), when, and how rq retries and keeps it.

The escalation steps' due index has its own tests (test_due_index.py); these are the drain
and the learning loop's timers, which no other fast test waits for: a review reminder or a
draft falls due hours after the resolution that scheduled it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from rq.job import Job

from bot.runtime import Runtime
from bot.state.timers import (
    DRAIN,
    POST_DRAFT,
    PUBLISH_HOME,
    REMIND_ACTION,
    REMIND_REVIEW,
    TICK_MANY,
    Timers,
    action_job_id,
    review_job_id,
)

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
RETRIES = (5, [1, 2, 5, 10, 30])  # rq retries a failing timer job five times, backing off


def job(runtime: Runtime, job_id: str) -> Job:
    found = runtime.queue.fetch_job(job_id)
    assert found is not None, job_id
    return found


def kept(found: Job) -> tuple[object, ...]:
    """(function, arguments, retries, retry intervals, result TTL, failure TTL) of a job."""
    return (
        found.func_name,
        list(found.args),
        found.retries_left,
        found.retry_intervals,
        found.result_ttl,
        found.failure_ttl,
    )


def queued(runtime: Runtime) -> list[str]:
    return runtime.queue.get_job_ids()


def scheduled_at(runtime: Runtime, job_id: str) -> datetime | None:
    at = runtime.queue.scheduled_job_registry.get_scheduled_time(job_id)
    return None if at is None else at.replace(tzinfo=UTC)


@pytest.fixture
def timers(runtime: Runtime) -> Timers:
    return runtime.escalation.timers


class TestQueue:
    def test_jobs_go_to_the_configured_queue_with_a_two_minute_limit(
        self, runtime: Runtime, timers: Timers
    ) -> None:
        """The queue is the settings' queue; a job runs at most 120 s before rq stops it."""
        timers.schedule_drain("20260309-1", job_id="drain-a")
        found = job(runtime, "drain-a")
        assert runtime.queue.name == runtime.settings.queue == found.origin
        assert found.timeout == 120


class TestDueSteps:
    def test_due_steps_become_batches_of_at_least_four_jobs_ahead_of_the_queue(
        self, runtime: Runtime, timers: Timers
    ) -> None:
        """Two steps due: two tick_many jobs of one step each (a burst is shared by four
        jobs), in front of a queued drain, retried, their results not kept."""
        with freeze_time(T0):
            timers.schedule_drain("20260309-9", job_id="drain-first")
            for n, incident_id in enumerate(("20260309-1", "20260309-2")):
                timers.schedule_tick(incident_id, 7, T0.timestamp() + n + 1)
        with freeze_time(T0 + timedelta(seconds=5)):
            assert timers.dispatch_due() == 2
        *ticks, last = queued(runtime)
        assert last == "drain-first"
        assert sorted(kept(job(runtime, t)) for t in ticks) == [
            (TICK_MANY, [[["20260309-1", 7]]], *RETRIES, 0, 86400),
            (TICK_MANY, [[["20260309-2", 7]]], *RETRIES, 0, 86400),
        ]

    def test_a_future_step_is_indexed_by_incident_and_token(
        self, runtime: Runtime, timers: Timers
    ) -> None:
        """A step due later waits in the due index under (incident, token), not in rq."""
        with freeze_time(T0):
            timers.schedule_tick("20260309-1", 7, T0.timestamp() + 90.25)
        assert timers.due_at("20260309-1", 7) == T0.timestamp() + 90.25
        assert timers.due_at("20260309-1", 8) is None
        assert timers.due_at("20260309-2", 7) is None
        assert queued(runtime) == []


class TestDrain:
    def test_a_drain_job_names_its_incident_and_retries(
        self, runtime: Runtime, timers: Timers
    ) -> None:
        """A drain runs now, for its incident, under the id given; retried with backoff."""
        timers.schedule_drain("20260309-1", job_id="drain-20260309-1-reconcile")
        found = job(runtime, "drain-20260309-1-reconcile")
        assert kept(found) == (DRAIN, ["20260309-1"], *RETRIES, 60, 86400)
        assert queued(runtime) == ["drain-20260309-1-reconcile"]

    def test_a_paced_drain_waits_for_the_slot_and_one_second_more(
        self, runtime: Runtime, timers: Timers
    ) -> None:
        """rq may run a scheduled job up to 1 s early, so the drain is set 1 s after the slot."""
        with freeze_time(T0):
            timers.schedule_drain_in("20260309-1", 4.5)
        job_id = f"drain-20260309-1-paced-{int((T0.timestamp() + 5.5) * 1000)}"
        assert kept(job(runtime, job_id)) == (DRAIN, ["20260309-1"], *RETRIES, 60, 86400)
        assert scheduled_at(runtime, job_id) == T0 + timedelta(seconds=5)  # rq keeps whole s
        assert queued(runtime) == []


class TestLearningTimers:
    def test_a_review_reminder_is_fenced_by_token_and_number_and_waits_for_its_time(
        self, runtime: Runtime, timers: Timers
    ) -> None:
        """Reminder 0 of review token 3, due in two days: scheduled then, id and arguments
        carrying (incident, token, number); one already due is queued at once."""
        later = T0 + timedelta(days=2)
        with freeze_time(T0):
            timers.schedule_review("20260309-1", 3, 0, later.timestamp())
            timers.schedule_review("20260309-2", 4, 1, T0.timestamp())  # due now
        first, now = review_job_id("20260309-1", 3, 0), review_job_id("20260309-2", 4, 1)
        assert first == "review-20260309-1-3-0"
        assert kept(job(runtime, first)) == (
            REMIND_REVIEW,
            ["20260309-1", 3, 0],
            *RETRIES,
            600,
            86400,
        )
        assert scheduled_at(runtime, first) == later
        assert kept(job(runtime, now)) == (
            REMIND_REVIEW,
            ["20260309-2", 4, 1],
            *RETRIES,
            600,
            86400,
        )
        assert queued(runtime) == [now]

    def test_an_action_reminder_is_keyed_by_its_item(
        self, runtime: Runtime, timers: Timers
    ) -> None:
        """An action item's reminder: its job id made from the item's ref, the ref its argument."""
        at = T0 + timedelta(days=7)
        with freeze_time(T0):
            timers.schedule_action("20260309-1:a2", at.timestamp())
        job_id = action_job_id("20260309-1:a2")
        assert job_id == "action-20260309-1-a2"
        assert kept(job(runtime, job_id)) == (
            REMIND_ACTION,
            ["20260309-1:a2"],
            *RETRIES,
            600,
            86400,
        )
        assert scheduled_at(runtime, job_id) == at
        assert queued(runtime) == []

    def test_the_draft_runs_now_once_per_review(self, runtime: Runtime, timers: Timers) -> None:
        """The review draft: now, one job per (incident, review token)."""
        timers.post_draft("20260309-1", 3)
        job_id = "review-draft-20260309-1-3"
        assert kept(job(runtime, job_id)) == (POST_DRAFT, ["20260309-1", 3], *RETRIES, 600, 86400)
        assert queued(runtime) == [job_id]

    def test_publishing_a_home_tab_runs_now_for_its_user(
        self, runtime: Runtime, timers: Timers
    ) -> None:
        """A Home tab refresh: now, for the user; its failure kept an hour."""
        timers.publish_home("U0ALICE01")
        (job_id,) = queued(runtime)
        assert kept(job(runtime, job_id)) == (PUBLISH_HOME, ["U0ALICE01"], *RETRIES, 60, 3600)
