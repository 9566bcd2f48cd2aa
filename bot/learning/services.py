"""The learning loop's services for one process, built by the runtime (never at import).

`review_window` makes the first of them, which the Engine tells of resolves; `build_learning`
then makes the rest from the Engine and that window.
`reconcile_learning` rebuilds lost review and action-item timers and re-drives their
announcements; the worker's ticker runs it with the incident reconciler.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from rq import Queue

from bot import clock
from bot.config.learning import LearningConfig
from bot.domain.catalog import Catalog
from bot.domain.outbox import OutboxStatus
from bot.incident.commands import Engine
from bot.incident.escalation import Escalation
from bot.learning.actions import ActionItems
from bot.learning.review import Drafts, Reviews, ReviewWindow
from bot.slack_api.directory import Directory
from bot.state.learning_store import LearningStore
from bot.state.store import Store
from bot.state.timers import Timers, action_job_id, review_job_id

log = structlog.get_logger(__name__)


@dataclass
class Learning:
    incidents: Store
    config: LearningConfig
    store: LearningStore
    timers: Timers
    window: ReviewWindow
    drafts: Drafts
    reviews: Reviews
    actions: ActionItems


def review_window(
    incidents: Store, escalation: Escalation, queue: Queue, config: LearningConfig | None = None
) -> ReviewWindow:
    """The review window of one process (`config`: instead of the TOCSIN_* learning variables,
    which are read once here)."""
    config = config or LearningConfig.from_env(os.environ)
    store, timers = LearningStore(incidents), Timers(queue)
    return ReviewWindow(incidents, store, config, timers, escalation)


def build_learning(
    engine: Engine, window: ReviewWindow, catalog: Callable[[], Catalog], directory: Directory
) -> Learning:
    """The learning services of one process, sharing the window's stores, config and timers."""
    incidents, store, config, timers = window.store, window.learning, window.config, window.timers
    drafts = Drafts(incidents, store, config, catalog, directory)
    reviews = Reviews(engine, store, config, timers, drafts)
    actions = ActionItems(engine, store, config, timers)
    return Learning(incidents, config, store, timers, window, drafts, reviews, actions)


@dataclass
class LearningReport:
    reviews_rebuilt: list[str] = field(default_factory=list)
    actions_rebuilt: list[str] = field(default_factory=list)
    drains: list[str] = field(default_factory=list)


def reconcile_learning(lrn: Learning, grace_s: float = 2.0) -> LearningReport:
    """Re-arm review reminders and action-item reminders whose jobs are gone."""
    report = LearningReport()
    now = clock.now_ts()
    for incident_id in lrn.store.pending_reviews():
        state = lrn.store.review(incident_id)
        if state is None or state.done_at is not None:
            continue
        job = review_job_id(incident_id, state.token, state.reminders)
        if not lrn.timers.is_live(job):
            last = state.due_at if state.reminders == 0 else now
            lrn.timers.schedule_review(incident_id, state.token, state.reminders, max(last, now))
            report.reviews_rebuilt.append(incident_id)
        owed = [
            i
            for i in lrn.incidents.outbox(incident_id)
            if i.status is OutboxStatus.PENDING and now - i.created_at > grace_s
        ]
        if owed:
            lrn.timers.schedule_drain(incident_id)
            report.drains.append(incident_id)
    for ref, at in lrn.store.due_actions():
        if not lrn.timers.is_live(action_job_id(ref)):
            lrn.timers.schedule_action(ref, max(at, now))
            report.actions_rebuilt.append(ref)
    if report.reviews_rebuilt or report.actions_rebuilt or report.drains:
        log.warning(
            "learning_reconciled",
            reviews_rebuilt=report.reviews_rebuilt,
            actions_rebuilt=report.actions_rebuilt,
            drains=report.drains,
        )
    return report
