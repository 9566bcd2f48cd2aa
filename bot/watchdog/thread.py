"""The watchdog thread: one per `tocsin web` process, started when gunicorn loads the app.

Every `every_s` it observes (bot.watchdog.observe). When the path is down and no outage is
open, the process that takes the paging claim (SET NX, expiring) posts "down" to every
TOCSIN_WATCHDOG_URLS entry and then opens the outage marker; when the path is back, the one
that closes the marker (GETDEL) posts "recovered". So each outage pages once however many web
replicas run; if the paging process dies mid-send, its claim expires and another one pages
(a page may then arrive twice). A process dying while it sends "recovered" loses that message.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from rq import Queue

from bot import clock
from bot.state.watchdog import WatchdogState
from bot.watchdog.observe import Verdict, observe
from bot.watchdog.webhook import send

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class WatchdogConfig:
    after_s: float
    urls: tuple[str, ...]
    secret: str | None

    @property
    def every_s(self) -> float:
        return max(0.2, min(5.0, self.after_s / 5))


class Watchdog(threading.Thread):
    def __init__(self, state: WatchdogState, queue: Queue, config: WatchdogConfig) -> None:
        super().__init__(name="tocsin-watchdog", daemon=True)
        self.state, self.queue, self.config = state, queue, config
        self.stopping = threading.Event()
        self.owner = f"{socket.gethostname()}:{os.getpid()}"

    @property
    def _hold_s(self) -> int:
        """Longer than sending to every URL can take (per URL: TRIES timeouts and back-offs)."""
        return 10 + 25 * max(1, len(self.config.urls))

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.tick(clock.now_ts())
            except Exception:  # the watchdog must outlive a Redis blip
                log.exception("watchdog_error")
            self.stopping.wait(self.config.every_s)

    def tick(self, now: float) -> None:
        verdict = observe(self.state, self.queue, now, self.config.after_s)
        if verdict.down:
            if self.state.outage() is None and self.state.claim_paging(self.owner, self._hold_s):
                if self.state.outage() is None:  # not paged between our two reads
                    log.error("watchdog_outage", why=verdict.why)
                    self._page("down", verdict, verdict.since, now)
                self.state.open_outage(verdict.since, self.owner)
            return
        since = self.state.close_outage()
        if since is not None:
            log.info("watchdog_recovered", down_s=round(now - since))
            self._page("recovered", verdict, since, now)

    def _page(self, event: str, verdict: Verdict, since: float, now: float) -> None:
        if not self.config.urls or self.config.secret is None:
            return
        payload = {
            "event": f"tocsin.{event}",
            "text": _text(event, verdict, since, now),
            "since": _iso(since),
            "at": _iso(now),
            "why": verdict.why,
        }
        for url in self.config.urls:
            send(url, self.config.secret, payload)


def _text(event: str, verdict: Verdict, since: float, now: float) -> str:
    if event == "down":
        return f"Tocsin cannot escalate: {verdict.why}. Pages are not being sent."
    return f"Tocsin escalates again after {now - since:.0f} s down."


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
