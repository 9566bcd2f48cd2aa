"""The learning loop's services for one process, built from its Runtime (never at import).

`learning(rt)` builds them once per Runtime and hooks the review window onto resolve.
`reconcile_learning` rebuilds lost review and action-item timers and re-drives their
announcements; the worker's ticker runs it with the incident reconciler.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import clock
from bot.actions import ActionItems
from bot.learning_config import LearningConfig
from bot.learning_store import LearningStore
from bot.learning_timers import LearningReport, LearningTimers, action_job_id, review_job_id
from bot.prom import instrument_slack
from bot.review import Drafts, Reviews
from bot.runtime import Runtime

log = structlog.get_logger(__name__)


class NameCache:
    """People's Slack names for reviews (cached; None when Slack is not reachable)."""

    def __init__(self, slack: WebClient | None) -> None:
        self.slack = slack
        self._names: dict[str, str | None] = {}

    def __call__(self, user: str) -> str | None:
        if user not in self._names:
            name = None
            if self.slack is not None:
                try:
                    profile = self.slack.users_info(user=user)["user"]
                    name = profile.get("name") or profile.get("real_name")
                except (SlackApiError, OSError, KeyError, TypeError):
                    name = None
            self._names[user] = name
        return self._names[user]


@dataclass
class Learning:
    rt: Runtime
    config: LearningConfig
    store: LearningStore
    timers: LearningTimers
    drafts: Drafts
    reviews: Reviews
    actions: ActionItems


_BUILT: dict[int, Learning] = {}


def learning(rt: Runtime, config: LearningConfig | None = None) -> Learning:
    """The services of `rt`'s process (TOCSIN_* learning variables read once here)."""
    found = _BUILT.get(id(rt))
    if found is not None and found.rt is rt:
        return found
    config = config or LearningConfig.from_env(os.environ)
    store = LearningStore(rt.store)
    timers = LearningTimers(rt.queue)
    drafts = Drafts(rt.store, store, config, rt.catalog, NameCache(rt.slack))
    reviews = Reviews(rt.engine, store, config, timers, drafts)
    actions = ActionItems(rt.engine, store, config, timers)
    built = Learning(rt, config, store, timers, drafts, reviews, actions)
    hooks: list[Any] = getattr(rt.engine, "resolved_hooks", [])
    hooks.append(built.reviews.on_resolved)
    if rt.slack is not None:
        instrument_slack(rt.slack, rt.r)
    _BUILT[id(rt)] = built
    return built


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
            for i in lrn.rt.store.outbox(incident_id)
            if i.status == "pending" and now - i.created_at > grace_s
        ]
        if owed:
            lrn.timers.drain(incident_id)
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
