"""RQ timers of the learning loop, and the reconciler that rebuilds them from Redis state.

Review reminders are fenced like status-update reminders: the job id carries the review's
token and reminder number, and the job exits unless both still match the review state.
Action-item reminders are keyed by the item; a Redis marker makes each one go out once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog
from rq import Queue

from bot import clock
from bot.state.timers import RETRY, Timers

log = structlog.get_logger(__name__)

REMIND_REVIEW = "bot.jobs.learning.remind_review"
POST_DRAFT = "bot.jobs.learning.post_review_draft"
REMIND_ACTION = "bot.jobs.learning.remind_action"
PUBLISH_HOME = "bot.jobs.learning.publish_home"
DRAIN = "bot.jobs.drain"


def review_job_id(incident_id: str, token: int, number: int) -> str:
    return f"review-{incident_id}-{token}-{number}"


def action_job_id(ref: str) -> str:
    return "action-" + ref.replace(":", "-")


class LearningTimers:
    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self._live = Timers(queue)

    def _at(self, func: str, at: float, *args: object, job_id: str) -> None:
        common = {"job_id": job_id, "retry": RETRY, "result_ttl": 600, "failure_ttl": 86400}
        if at <= clock.now_ts():
            self.queue.enqueue(func, *args, **common)
        else:
            self.queue.enqueue_at(datetime.fromtimestamp(at, UTC), func, *args, **common)

    def schedule_review(self, incident_id: str, token: int, number: int, at: float) -> None:
        """Reminder `number` (0: at the due time) of review `token`."""
        job_id = review_job_id(incident_id, token, number)
        self._at(REMIND_REVIEW, at, incident_id, token, number, job_id=job_id)

    def schedule_action(self, ref: str, at: float) -> None:
        self._at(REMIND_ACTION, at, ref, job_id=action_job_id(ref))

    def post_draft(self, incident_id: str, token: int) -> None:
        self.queue.enqueue(
            POST_DRAFT,
            incident_id,
            token,
            job_id=f"review-draft-{incident_id}-{token}",
            retry=RETRY,
            result_ttl=600,
            failure_ttl=86400,
        )

    def publish_home(self, user: str) -> None:
        self.queue.enqueue(PUBLISH_HOME, user, retry=RETRY, result_ttl=60, failure_ttl=3600)

    def drain(self, incident_id: str) -> None:
        self.queue.enqueue(DRAIN, incident_id, retry=RETRY, result_ttl=60, failure_ttl=86400)

    def is_live(self, job_id: str) -> bool:
        return self._live.is_live(job_id)


@dataclass
class LearningReport:
    reviews_rebuilt: list[str] = field(default_factory=list)
    actions_rebuilt: list[str] = field(default_factory=list)
    drains: list[str] = field(default_factory=list)
