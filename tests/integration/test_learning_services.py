"""Learning services on a real Redis, in-process with frozen time: corrections, fenced review
reminders, the reconciler, counters on /metrics, Slack error counting, logs through structlog."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from structlog.testing import capture_logs

from bot import logs, metrics
from bot.config.learning import LearningConfig
from bot.config.settings import Settings
from bot.domain.outbox import OutboxKind
from bot.domain.timeline import Kind
from bot.incident.spec import UserError
from bot.learning.services import Learning, LearningReport, reconcile_learning
from bot.runtime import Runtime
from bot.sandbox.emulator import Emulator
from bot.slack_api.client import instrument_slack
from bot.state import counters
from bot.state.learning_store import ACTIONS_DUE
from bot.state.store import OutboxItem
from bot.state.timers import DRAIN, REMIND_REVIEW, action_job_id, review_job_id

T0 = datetime(2026, 3, 9, 23, 50, tzinfo=UTC)


def resolved(runtime: Runtime) -> str:
    with freeze_time(T0):
        inc = runtime.engine.declare(
            title="Checkout errors", service="checkout", severity="sev2", declared_by="U0ERIN001"
        )
    with freeze_time(T0 + timedelta(minutes=14)):
        assert runtime.engine.acknowledge(inc.id, "U0ERIN001").ok
    with freeze_time(T0 + timedelta(minutes=40)):
        assert runtime.engine.resolve(inc.id, "U0ERIN001").ok
    return inc.id


@pytest.fixture
def runtime(worker_env: dict[str, str]) -> Runtime:
    config = LearningConfig.from_env({"TOCSIN_TIMEZONE": "Europe/Stockholm"})
    return Runtime.build(Settings.from_env(worker_env), owner="test", learning_config=config)


@pytest.fixture
def lrn(runtime: Runtime) -> Learning:
    return runtime.learning


class TestCorrectionsAndReviews:
    def test_commander_correction_changes_the_figures_and_is_on_the_timeline(
        self, runtime: Runtime, lrn: Learning
    ) -> None:
        """Ack corrected to 00:55 Stockholm (23:55 UTC): time to acknowledge becomes 5 minutes."""
        incident_id = resolved(runtime)
        with freeze_time(T0 + timedelta(hours=1)):
            outcome = lrn.reviews.correct(incident_id, "U0ERIN001", "ack", "2026-03-10 00:55")
        assert outcome.ok, outcome.message
        kinds = [e.kind for e in runtime.store.timeline(incident_id)]
        assert Kind.MILESTONE_CORRECTED in kinds
        _, f = lrn.store.history(T0.timestamp(), T0.timestamp() + 1)[0]
        assert f.tta == 300.0
        assert f.corrected == ("ack",)
        with (
            freeze_time(T0 + timedelta(hours=1)),
            pytest.raises(UserError, match="after mitigated"),
        ):
            lrn.reviews.correct(incident_id, "U0ERIN001", "ack", "2026-03-10 01:45")

    def test_review_is_due_two_business_days_later_and_reminders_are_fenced(
        self, runtime: Runtime, lrn: Learning
    ) -> None:
        """Resolved Tuesday 01:30 Stockholm: due Thursday 01:30 (00:30 UTC); a stale reminder and one after done are no-ops."""
        incident_id = resolved(runtime)
        state = lrn.store.review(incident_id)
        assert state is not None
        assert datetime.fromtimestamp(state.due_at, UTC) == datetime(2026, 3, 12, 0, 30, tzinfo=UTC)
        with freeze_time(T0 + timedelta(hours=1)):
            assert lrn.reviews.remind(incident_id, state.token, 0) == "not_due"
        with freeze_time(datetime(2026, 3, 12, 8, 0, tzinfo=UTC)):
            assert lrn.reviews.remind(incident_id, state.token + 1, 0) == "stale"
            assert lrn.reviews.remind(incident_id, state.token, 0) == "reminded"
            assert lrn.reviews.remind(incident_id, state.token, 0) == "stale"  # a duplicate
            assert lrn.reviews.mark_done(incident_id, "U0ERIN001").ok
            assert lrn.reviews.remind(incident_id, state.token, 1) == "stale"
            with pytest.raises(UserError, match="already marked done"):
                lrn.reviews.mark_done(incident_id, "U0ERIN001")
        assert incident_id not in lrn.store.pending_reviews()

    def test_reconciler_rebuilds_a_lost_review_reminder(
        self, runtime: Runtime, lrn: Learning
    ) -> None:
        """Delete the reminder job: the reconciler schedules it again under the same id."""
        incident_id = resolved(runtime)
        state = lrn.store.review(incident_id)
        assert state is not None
        job_id = review_job_id(incident_id, state.token, 0)
        assert lrn.timers.is_live(job_id)
        runtime.queue.connection.delete(f"rq:job:{job_id}")
        assert not lrn.timers.is_live(job_id)
        report = reconcile_learning(lrn)
        assert incident_id in report.reviews_rebuilt
        assert lrn.timers.is_live(job_id)

    def test_reconciler_rearms_what_is_lost_at_its_time_and_leaves_the_rest(
        self, runtime: Runtime, lrn: Learning
    ) -> None:
        """Lost: a later review reminder (re-armed now, its due time passed), an action
        item's reminder (at its time), a drain owed past the grace; kept: live jobs, a done
        review, an item owed within the grace. A second pass finds nothing to do."""
        incident_id = resolved(runtime)
        state = lrn.store.review(incident_id)
        assert state is not None
        state.reminders = 2  # two reminders went out; the third's job is lost
        with lrn.store.r.pipeline() as pipe:
            lrn.store.put_review(incident_id, state, pipe)
            pipe.zadd(ACTIONS_DUE, {f"{incident_id}:a1": T0.timestamp() + 9 * 86400})
            pipe.execute()
        done = resolved(runtime)
        assert lrn.reviews.mark_done(done, "U0ERIN001").ok
        runtime.queue.connection.delete(f"rq:job:{review_job_id(done, state.token, 0)}")
        owed = OutboxItem("announce:late", OutboxKind.ANNOUNCE, "@incident", "x", created_at=0)
        with runtime.store.transaction() as pipe:
            runtime.store.add_outbox(incident_id, [owed], pipe)
        now = T0 + timedelta(days=3)
        with freeze_time(now), capture_logs() as logs:
            report = reconcile_learning(lrn, grace_s=2.0)
        assert report == LearningReport([incident_id], [f"{incident_id}:a1"], [incident_id])
        assert {
            "event": "learning_reconciled",
            "reviews_rebuilt": [incident_id],
            "actions_rebuilt": [f"{incident_id}:a1"],
            "drains": [incident_id],
            "log_level": "warning",
        } in logs
        queued = {(j.func_name, tuple(j.args)) for j in runtime.queue.jobs}
        assert (REMIND_REVIEW, (incident_id, state.token, 2)) in queued  # due: at once
        assert (DRAIN, (incident_id,)) in queued
        action = action_job_id(f"{incident_id}:a1")
        at = runtime.queue.scheduled_job_registry.get_scheduled_time(action)
        assert at.replace(tzinfo=UTC) == T0 + timedelta(days=9)
        with freeze_time(now), capture_logs() as logs:
            owed.created_at = now.timestamp() - 2  # owed for just the grace: a drain is on its way
            runtime.store.save_outbox_item(incident_id, owed)
            assert reconcile_learning(lrn, grace_s=2.0) == LearningReport()
            runtime.queue.connection.delete(f"rq:job:{action}")  # lost alone: logged too
            assert reconcile_learning(lrn, grace_s=2.0) == LearningReport([], [f"{incident_id}:a1"])
        assert [e["actions_rebuilt"] for e in logs] == [[f"{incident_id}:a1"]]

    def test_a_lost_first_reminder_is_rearmed_for_the_review_due_time(
        self, runtime: Runtime, lrn: Learning
    ) -> None:
        """Before the review falls due, a lost first reminder is scheduled for the due time
        (not for now); one lost after it fell due runs now."""
        incident_id = resolved(runtime)
        state = lrn.store.review(incident_id)
        assert state is not None
        job_id = review_job_id(incident_id, state.token, 0)
        at = runtime.queue.scheduled_job_registry.get_scheduled_time
        for when, expected in (
            (T0 + timedelta(hours=1), state.due_at),
            (T0 + timedelta(days=5), None),
        ):
            runtime.queue.connection.delete(f"rq:job:{job_id}")
            runtime.queue.scheduled_job_registry.remove(job_id)
            with freeze_time(when):
                assert reconcile_learning(lrn).reviews_rebuilt == [incident_id]
            if expected is None:
                assert job_id in runtime.queue.get_job_ids()
            else:
                assert at(job_id).timestamp() == expected


class TestMetrics:
    def test_collector_exposes_incidents_histogram_and_counters(
        self, runtime: Runtime, lrn: Learning
    ) -> None:
        """One resolved sev2 acknowledged after 14 minutes, a drill left out, counters from the timeline."""
        resolved(runtime)
        with freeze_time(T0):
            runtime.engine.declare(
                title="Game day",
                service="checkout",
                severity="sev2",
                declared_by="U0ERIN001",
                drill=True,
            )
        counters.incr(runtime.r, "job_failure", job="bot.jobs.tick")
        data, content_type = metrics.exposition(metrics.registry(runtime.store))
        assert content_type.startswith("text/plain")
        families = {f.name: f for f in text_string_to_metric_families(data.decode())}
        assert [(s.labels, s.value) for s in families["tocsin_incidents"].samples] == [
            ({"severity": "sev2", "status": "resolved"}, 1.0)
        ]
        buckets = {
            s.labels["le"]: s.value
            for s in families["tocsin_time_to_acknowledge_seconds"].samples
            if s.name.endswith("_bucket")
        }
        assert (buckets["600.0"], buckets["900.0"], buckets["+Inf"]) == (0.0, 1.0, 1.0)
        assert families["tocsin_acknowledgements"].samples[0].value == 1.0
        assert families["tocsin_job_failures"].samples[0].labels == {"job": "bot.jobs.tick"}
        kinds = {s.labels["kind"] for s in families["tocsin_timeline_events"].samples}
        assert {"declared", "acknowledged", "resolved", "review_due"} <= kinds

    def test_slack_errors_and_429s_are_counted(self, runtime: Runtime) -> None:
        """A failed call counts by method and error; a 429 counts before the retry handler retries."""
        with Emulator() as emulator:
            client = instrument_slack(
                WebClient(token=emulator.bot_token, base_url=emulator.url), runtime.r
            )
            with pytest.raises(SlackApiError):
                client.chat_postMessage(channel="C0NOSUCH", text="x")
            emulator.faults.add("429", method="auth.test", times=1, retry_after=0)
            with pytest.raises(SlackApiError):
                client.auth_test()
        got = {(n, tuple(sorted(labels.items()))): v for n, labels, v in counters.read(runtime.r)}
        assert (
            got[("slack_error", (("error", "channel_not_found"), ("method", "chat.postMessage")))]
            == 1
        )
        assert got[("slack_429", (("method", "auth.test"),))] == 1


class TestLogs:
    def test_bolt_and_rq_stdlib_logs_go_through_structlog_with_bound_context(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Records from slack_bolt and rq loggers come out as JSON with incident_id, job_id and user_id."""
        import structlog

        logs.configure(json=True)
        structlog.contextvars.bind_contextvars(incident_id="I1", job_id="J1", user_id="U1")
        try:
            logging.getLogger("slack_bolt.App").warning("listener slow")
            logging.getLogger("rq.worker").warning("job %s moved", "J1")
            structlog.get_logger("bot.test").info("review_due", step=2)
        finally:
            structlog.contextvars.clear_contextvars()
        lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
        by_logger = {line["logger"]: line for line in lines}
        assert by_logger["slack_bolt.App"]["event"] == "listener slow"
        assert by_logger["rq.worker"]["event"] == "job J1 moved"
        for line in by_logger.values():
            assert (line["incident_id"], line["job_id"], line["user_id"]) == ("I1", "J1", "U1")
        assert by_logger["bot.test"]["step"] == 2
