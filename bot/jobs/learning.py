"""RQ job functions of the learning loop: thin. Load the services, bind log context, act.

Arguments are ids and primitives (the queue uses rq's JSON serializer).
"""

from __future__ import annotations

import structlog

from bot import clock
from bot.jobs import _bind, runtime
from bot.slack.home import home_view


def remind_review(incident_id: str, token: int, number: int) -> str:
    """A post-incident review may be overdue: remind the commander."""
    _bind(incident_id)
    return runtime().learning.reviews.remind(incident_id, token, number)


def post_review_draft(incident_id: str, token: int) -> str:
    """Upload the Markdown draft of the review into the incident channel."""
    _bind(incident_id)
    rt = runtime()
    if rt.slack is None:
        return "no_slack"
    return rt.learning.reviews.post_draft(incident_id, token, rt.slack)


def remind_action(ref: str) -> str:
    """An action item is due: DM its owner."""
    _bind(ref.rpartition(":")[0])
    rt = runtime()
    return rt.learning.actions.remind(ref, rt.slack)


def publish_home(user: str) -> bool:
    """Publish the user's App Home tab: open incidents, their on-call shifts, their actions."""
    structlog.contextvars.bind_contextvars(user_id=user)
    rt = runtime()
    if rt.slack is None:
        return False
    view = home_view(rt, rt.learning, user, clock.now())
    rt.slack.views_publish(user_id=user, view=view)
    return True
