"""Handoffs: at each change of who is on call for a schedule with a `handoff_channel`, post
the summary there (once), and DM whoever comes on `remind_before` the start.

The reconciler calls `arm` at each pass: it indexes the post (and reminder) of every
handoff of the next day, plus the next one beyond, and any of the last LOOKBACK not yet
told (a worker outage). The ticker moves what fell due into `bot.jobs.handoff` jobs, which
call `run`: it re-derives the handoff from the schedule as it is now, overrides included,
and does nothing if nothing changes hands then any more; else it tells under a do-once
marker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from bot import clock
from bot.domain.catalog import Catalog
from bot.domain.handoff import Note, handoff_at, handoffs_between, summary
from bot.domain.outcomes import JobOutcome
from bot.domain.schedule import LOOKAHEAD, Schedule, next_handoff, on_call
from bot.render.handoff import handoff_text, reminder_text
from bot.state import handoffs as keys
from bot.state.handoffs import HandoffTimers, Notes
from bot.state.learning_store import LearningStore
from bot.state.store import Store

log = structlog.get_logger(__name__)

ARM_AHEAD = timedelta(hours=24)
LOOKBACK = timedelta(minutes=10)  # a handoff missed while no worker ran is told this late
HOLD_S, KEEP_S = 300, 35 * 86400  # the do-once marker: while sending, then once sent


class Handoffs:
    def __init__(
        self,
        catalog: Callable[[], Catalog],
        store: Store,
        timers: HandoffTimers,
        notes: Notes,
        slack: Any | None,  # a slack_sdk WebClient; None: nothing to tell (recording pager)
    ) -> None:
        self.catalog, self.store, self.timers, self.notes = catalog, store, timers, notes
        self.slack = slack
        self.history = LearningStore(store)

    # arming ------------------------------------------------------------------------------
    def arm(self) -> int:
        """Index the handoffs ahead (and those just missed); how many were new."""
        now = clock.now()
        entries: dict[str, float] = {}
        for schedule in self.catalog().schedules.values():
            if schedule.handoff_channel:
                entries.update(self._due(schedule, now))
        if entries:  # drop those told already, so a handoff just told is not armed again
            with self.store.r.pipeline(transaction=False) as pipe:
                for member in entries:
                    pipe.exists(self._marker(member))
                told = pipe.execute()
            entries = {
                m: at for (m, at), done in zip(entries.items(), told, strict=True) if not done
            }
        return self.timers.arm(entries)

    @staticmethod
    def _marker(member: str) -> str:
        return keys.done_marker(*keys.parse_member(member))

    def _due(self, schedule: Schedule, now: datetime) -> dict[str, float]:
        instants = handoffs_between(schedule, now - LOOKBACK, now + ARM_AHEAD)
        beyond = next_handoff(schedule, instants[-1] if instants else now + ARM_AHEAD)
        if beyond is not None and beyond < now + LOOKAHEAD:
            instants.append(beyond)
        entries: dict[str, float] = {}
        for at in instants:
            entries[keys.member("post", at, schedule.name)] = at.timestamp()
            if schedule.remind_before and at > now:
                entries[keys.member("remind", at, schedule.name)] = (
                    at - schedule.remind_before
                ).timestamp()
        return entries

    # telling -----------------------------------------------------------------------------
    def run(self, kind: str, epoch: int, name: str) -> JobOutcome:
        """The job: tell handoff (`kind` post or remind) of `name` at `epoch`, once."""
        schedule = self.catalog().schedules.get(name)
        at = datetime.fromtimestamp(epoch, UTC)
        handoff = handoff_at(schedule, at) if schedule and schedule.handoff_channel else None
        if schedule is None or handoff is None or (kind == "remind" and not handoff.on):
            log.info("handoff_stale", schedule=name, at=at.isoformat(), kind=kind)
            return JobOutcome.STALE

        def tell() -> None:
            if self.slack is None:
                return
            if kind == "remind":
                for user, until in handoff.on:
                    dm = self.slack.conversations_open(users=user)["channel"]["id"]
                    text = reminder_text(name, at, until, schedule.timezone)
                    self.slack.chat_postMessage(channel=dm, text=text)
                return
            told = summary(schedule, handoff, self._incidents(handoff.since, at), self._notes(name))
            self.slack.chat_postMessage(channel=schedule.handoff_channel, text=handoff_text(told))

        marker = keys.done_marker(kind, epoch, name)
        if not self.store.markers.once(
            marker, tell, hold_s=HOLD_S, keep_s=KEEP_S, holding="sending", done="sent"
        ):
            return JobOutcome.ALREADY
        log.info("handoff_told", schedule=name, at=at.isoformat(), kind=kind)
        return JobOutcome.REMINDED

    def _incidents(self, since: datetime | None, at: datetime) -> list[Any]:
        start = (since or at - LOOKAHEAD).timestamp()
        ids = set(self.store.open_ids()) | set(self.history.incident_ids(start, at.timestamp()))
        return list(self.store.get_many(sorted(ids)).values())

    def _notes(self, name: str) -> list[Note]:
        return self.notes.of(name)

    # notes -------------------------------------------------------------------------------
    def note(self, user: str, text: str) -> list[str]:
        """Keep `text` for the next handoff of every schedule `user` is on call for now;
        the schedules' names (none: not on call)."""
        now = clock.now()
        names = [s.name for s in self.catalog().schedules.values() if user in on_call(s, now)]
        for name in names:
            self.notes.add(name, Note(user, now, text))
        return sorted(names)
