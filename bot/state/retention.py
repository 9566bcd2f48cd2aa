"""Retention: what a closed incident keeps for good, and what goes TOCSIN_RETENTION_DAYS
after it was resolved.

`Store.put` indexes every resolved incident in `tocsin:closed` by when it was resolved (a
reopen takes it out). The reconciler's thread calls `sweep` every period, one
ZRANGEBYSCORE when nothing is due. For an incident resolved longer ago than the retention
it deletes, in one transaction under WATCH of the incident (a racing reopen wins):

- its outbox: every page and announcement it owed, delivered long ago;
- the markers its channel and deliveries left: the header post attempt, the runbook
  bookmark, the cached topic (bot.incident.channel), the start of a Slack outage
  (bot.incident.delivery), the review draft uploads and the id of the draft file a later
  round would replace (bot.learning.review);
- its place among the pending reviews: reminders of a review never held stop.

Delivery claims, Slack-retry de-duplication keys and write rate-limit keys expire on their
own (seconds to an hour). Kept: the incident record, its timeline (capped) and facts,
milestone corrections, action items, the review state and the channel's link to the
incident: what `tocsin export`, `/incident stats`, /metrics and commands typed in the old
channel read. After the retention a reopen is refused (`Engine.expired`).
"""

from __future__ import annotations

import structlog
from redis.client import Pipeline

from bot.state import keys
from bot.state.learning_store import PENDING_REVIEWS, LearningStore
from bot.state.store import Store, parse_incident

log = structlog.get_logger(__name__)
INDEXED = keys.CLOSED_INDEXED


def sweep(store: Store, retention_s: float, now: float, limit: int = 200) -> list[str]:
    """Delete the operational keys of up to `limit` incidents past retention; their ids."""
    if not store.r.exists(INDEXED):
        backfill(store)
    cutoff = now - retention_s
    due = store.r.zrangebyscore(store.closed_key, "-inf", cutoff, start=0, num=limit)
    swept = [str(i) for i in due if _expire(store, str(i), cutoff)]
    if swept:
        log.info("retention_swept", incidents=swept, retention_s=retention_s)
    return swept


def _expire(store: Store, incident_id: str, cutoff: float) -> bool:
    """Delete one incident's operational keys if it is still resolved since before `cutoff`."""
    learning = LearningStore(store)
    key = store.incident_key(incident_id)

    def expire(pipe: Pipeline) -> bool:
        raw = pipe.get(key)
        incident = None if raw is None else parse_incident(raw)
        if incident is not None and not incident.is_open:
            closed = incident.resolved_at or incident.declared_at
            if closed.timestamp() > cutoff:  # resolved again meanwhile: not yet
                return False
            review = learning.review(incident_id, pipe)
            posted = range(1, (review.token if review else 0) + 1)
            pipe.multi()
            pipe.delete(
                store.outbox_key(incident_id),
                keys.slack_gap(incident_id),
                *(keys.channel_marker(incident_id, m) for m in keys.CHANNEL_MARKERS),
                *(keys.review_posted(incident_id, t) for t in posted),
                keys.review_draft(incident_id),
            )
            pipe.zrem(PENDING_REVIEWS, incident_id)
        else:  # gone, or reopened: nothing to delete, only the index entry
            pipe.multi()
        pipe.zrem(store.closed_key, incident_id)
        return incident is not None and not incident.is_open

    return store.transact([key], expire)


def backfill(store: Store, chunk: int = 500) -> int:
    """Index the resolved incidents written before `tocsin:closed` existed; how many."""
    ids = [str(i) for i in store.r.zrange(store.all_key, 0, -1)]
    found = 0
    for start in range(0, len(ids), chunk):
        closed = {
            i: (inc.resolved_at or inc.declared_at).timestamp()
            for i, inc in store.get_many(ids[start : start + chunk]).items()
            if not inc.is_open
        }
        if closed:
            store.r.zadd(store.closed_key, closed, nx=True)  # put() knows better: keep its
            found += len(closed)
    store.r.set(INDEXED, "1")
    return found
