"""Follow-up action items: add (`/incident action`), close (a button), remind the owner.

An item with an owner and a due date is reminded at 09:00 (TOCSIN_TIMEZONE) on that day
by a DM with a *Close action item* button. The `actions:due` index is the truth for
pending reminders; the reconciler re-arms any whose job is gone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import structlog
from redis.client import Pipeline

from bot import clock
from bot.config.learning import LearningConfig
from bot.domain import actions as items
from bot.domain.actions import ActionItem, ActionItemError
from bot.domain.incident import Action, Incident, authorize
from bot.domain.outcomes import JobOutcome
from bot.domain.timeline import BOT, Entry, Kind
from bot.incident.commands import Engine
from bot.incident.spec import CommandSpec, Outcome, UserError, say
from bot.render import learning as lb
from bot.render.messages import escape, rule_words
from bot.state import keys
from bot.state.learning_store import LearningStore
from bot.state.timers import Timers

log = structlog.get_logger(__name__)


class ActionItems:
    def __init__(
        self,
        engine: Engine,
        learning: LearningStore,
        config: LearningConfig,
        timers: Timers,
    ) -> None:
        self.engine, self.store, self.learning = engine, engine.store, learning
        self.config, self.timers = config, timers

    def _remind_ts(self, item: ActionItem) -> float | None:
        at = items.reminder_at(item, self.config.timezone, self.config.action_remind_at)
        return at.timestamp() if at else None

    def add(
        self, incident_id: str, user: str, text: str, owner: str | None, due: date | None
    ) -> Outcome:
        tz = self.config.timezone
        try:  # bad input is refused before anything is written (the item's number too)
            items.new_item(incident_id, 0, text, user, clock.now(), owner, due, tz)
        except ActionItemError as exc:
            raise UserError(str(exc)) from None
        made: list[ActionItem] = []

        def change(inc: Incident, pipe: Pipeline, now: datetime) -> Incident:
            number = self.learning.next_action_number(inc.id)  # once the command is allowed
            try:
                item = items.new_item(inc.id, number, text, user, now, owner, due, tz)
            except ActionItemError as exc:
                raise UserError(str(exc)) from None
            self.learning.put_action(item, pipe, self._remind_ts(item))
            made.append(item)
            return inc

        def after(inc: Incident) -> None:
            at = self._remind_ts(made[-1]) if made else None
            if at is not None:
                self.timers.schedule_action(made[-1].ref, at)

        return self.engine.command(
            incident_id,
            user,
            CommandSpec(
                Action.ADD_ACTION_ITEM,
                change,
                Kind.ACTION_ADDED,
                lambda _added: lb.action_added_text(made[-1], user),
                after=after,
            ),
        )

    def close(self, ref: str, user: str) -> Outcome:
        """Close an item: its owner may, and whoever holds the tier's resolve right."""
        incident_id, _, item_id = ref.rpartition(":")
        incident = self.store.get(incident_id)
        now = clock.now()

        def change(pipe: Pipeline) -> Outcome:
            item = self.learning.action(ref)
            if item is None:
                raise UserError(f"no action item {item_id} on {incident_id}")
            if user != item.owner:
                rights = self.engine.esc.catalog().tier(incident.severity).rights
                groups = self.engine.esc.directory.groups_of(user)
                ok, rule = authorize(rights, Action.CLOSE_ACTION_ITEM, incident, user, groups)
                if not ok:
                    return Outcome(
                        False, incident, f"Only the owner may close it, or {rule_words(rule)}."
                    )
            try:
                closed = items.close(item, user, now)
            except ActionItemError as exc:
                return Outcome(False, incident, str(exc))
            pipe.multi()
            self.learning.put_action(closed, pipe, None)
            text = f"action item {closed.id} closed by <@{user}>: {escape(closed.text)}"
            self.store.record(incident_id, Entry(now, Kind.ACTION_CLOSED, user, text), pipe)
            self.store.add_outbox(incident_id, [say(f":white_check_mark: {text}", now)], pipe)
            return Outcome(True, incident, text, announced=True)

        outcome = self.store.transact([self.learning.actions_key(incident_id)], change)
        log.info("action_item_close", incident_id=incident_id, user_id=user, ok=outcome.ok)
        if outcome.ok:
            self.engine.esc.deliver(incident_id)
        return outcome

    def remind(self, ref: str, client: Any) -> JobOutcome:
        """The due-date reminder job: one DM to the owner with a Close button."""
        item = self.learning.action(ref)
        if item is None or not item.is_open or item.owner is None:
            self.learning.unschedule_action(ref)
            return JobOutcome.STALE
        at = self._remind_ts(item)
        if at is not None and clock.now_ts() < at - 1.0:
            self.timers.schedule_action(ref, at)
            return JobOutcome.NOT_DUE
        owner = item.owner

        def send() -> None:
            text = lb.action_reminder_text(item, self.store.find(item.incident_id))
            if client is not None:
                dm = client.conversations_open(users=owner)["channel"]["id"]
                client.chat_postMessage(channel=dm, text=text, blocks=lb.action_blocks(text, item))

        marker = keys.action_reminded(ref)
        if not self.store.markers.once(
            marker, send, hold_s=300, keep_s=400 * 86400, holding="sending", done="sent"
        ):
            return JobOutcome.ALREADY
        self.learning.unschedule_action(ref)
        entry = Entry(
            clock.now(),
            Kind.REMINDED,
            BOT,
            f"action item {item.id} due: reminded <@{item.owner}>",
        )
        self.store.record(item.incident_id, entry)
        return JobOutcome.REMINDED
