"""POST /alerts/<source> in `tocsin web`: verify, parse, write, enqueue, answer. No Slack here.

Answers: 202 accepted (a repeat too); 400 naming the bad field (senders do not retry a 4xx);
401 bad credentials; 404 unknown source; 405 not a POST; 503 when Redis is away (Alertmanager
and Grafana retry a 5xx). The 413 over 1 MiB comes before this, from bot.web_limits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import redis
import structlog
from rq import Queue

from bot import clock
from bot.alerts.heartbeat import BACK
from bot.alerts.verify import verified
from bot.domain.alerts.payloads import FIRING, PayloadError, is_heartbeat, parse
from bot.domain.catalog import Catalog
from bot.state.alerts import AlertStore, InboxFull
from bot.state.timers import RETRY

log = structlog.get_logger(__name__)
DRAIN = "bot.jobs.alerts.drain_alerts"
INBOX_MAX = 20_000  # notifications waiting for the worker; past this a sender is told to retry
Answer = tuple[int, dict[str, Any]]


class Intake:
    def __init__(
        self,
        catalog: Callable[[], Catalog],
        store: AlertStore,
        queue: Queue,
        env: Mapping[str, str],
    ) -> None:
        self.catalog, self.store, self.queue, self.env = catalog, store, queue, env

    def handle(self, name: str, method: str, environ: Mapping[str, Any], body: bytes) -> Answer:
        source = self.catalog().alert_sources.get(name)
        if source is None:
            return 404, {"ok": False, "error": f"no alert source {name!r} in alerts.yaml"}
        if method != "POST":
            return 405, {"ok": False, "error": "POST the notification"}
        now = clock.now_ts()
        if not verified(source, environ, body, self.env, now):
            log.warning("alert_refused", source=name, reason="credentials")
            return 401, {"ok": False, "error": "bad or missing credentials"}
        try:
            note = parse(source.kind, body)
        except PayloadError as exc:
            log.warning("alert_refused", source=name, reason="payload", field=exc.field)
            return 400, {"ok": False, "error": exc.message, "field": exc.field}
        beat = source.heartbeat
        alerts = [a for a in note.alerts if beat is None or not is_heartbeat(beat, a)]
        entry = {
            "group_key": note.group_key,
            "truncated": note.truncated,
            "alerts": [a.to_dict() for a in alerts],
            "at": now,
        }
        pairs = [(a.fingerprint, a.status) for a in alerts]
        try:
            beating = beat is not None and any(
                is_heartbeat(beat, a) and a.status == FIRING for a in note.alerts
            )
            if beat is not None and beating and self.store.beat(name, now, now + 2 * beat.every_s):
                self._enqueue(BACK, name)
            admitted = self.store.admit(name, pairs, entry, INBOX_MAX) if alerts else None
            queued, owed = admitted or (False, False)
            if owed:
                self._enqueue(DRAIN, name)
        except InboxFull:
            log.error("alert_inbox_full", source=name)
            return 503, {"ok": False, "error": "too many notifications waiting; retry"}
        except redis.RedisError as exc:
            log.error("alert_not_stored", source=name, error=type(exc).__name__)
            return 503, {"ok": False, "error": "storage unavailable; retry"}
        return 202, {"ok": True, "queued": queued}

    def _enqueue(self, func: str, name: str) -> None:
        enqueue(self.queue, func, name)


def enqueue(queue: Queue, func: str, name: str) -> None:
    queue.enqueue(func, name, retry=RETRY, result_ttl=60, failure_ttl=86400)


def kick_waiting(store: AlertStore, queue: Queue) -> list[str]:
    """Enqueue a drain for each source whose inbox holds entries and no drain is queued
    (its enqueue failed after the entry was stored); the reconciler runs this."""
    kicked = [name for name in store.waiting_sources() if store.kick(name)]
    for name in kicked:
        enqueue(queue, DRAIN, name)
    return kicked
