"""The watchdog thread: one per `tocsin web` process, started when gunicorn loads the app.

Every `every_s` it observes (bot.watchdog.observe). When the path is down and no outage is
open, the first process to see it opens the outage and, in the same step, owes its "down";
when the path is back, the one that closes the outage owes its "recovered". Then whichever
process holds the sending lease sends what is owed (bot.watchdog.announce), each
announcement once to each destination even if a process dies mid-send. So each outage says
"down" once and "recovered" once however many web replicas run.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from rq import Queue

from bot import clock
from bot.state.watchdog import WatchdogState
from bot.watchdog.announce import Announcer, Destination
from bot.watchdog.observe import observe

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class WatchdogConfig:
    after_s: float

    @property
    def every_s(self) -> float:
        return max(0.2, min(5.0, self.after_s / 5))

    @property
    def lease_s(self) -> float:
        """The sending lease: renewed every third of it while its holder lives, so a holder
        killed mid-send is taken over after this long."""
        return max(2.0, 3 * self.every_s)


class Watchdog(threading.Thread):
    def __init__(
        self,
        state: WatchdogState,
        queue: Queue,
        config: WatchdogConfig,
        destinations: list[Destination],
        owner: str | None = None,
        confirm: Callable[[str], object] | None = None,  # WAIT after an attempt (SendLedger)
    ) -> None:
        super().__init__(name="tocsin-watchdog", daemon=True)
        self.state, self.queue, self.config = state, queue, config
        self.stopping = threading.Event()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.announcer = Announcer(state, destinations, self.owner, config.lease_s, confirm)

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
            if self.state.outage() is None and self.state.open_outage(
                verdict.since, now, verdict.why
            ):
                log.error("watchdog_outage", why=verdict.why)
        else:
            since = self.state.close_outage(now)
            if since is not None:
                log.info("watchdog_recovered", down_s=round(now - since))
        self.announcer.send_owed()
