"""Post-incident reviews and milestone corrections: the services behind jobs and commands.

On resolve the review window opens (`TOCSIN_REVIEW_DUE_WITHIN`, 2 business days by
default): the channel is told when it is due, the Markdown draft is uploaded as a file, and
a reminder job fires at the due time and then every `TOCSIN_REVIEW_REMIND_EVERY` until
somebody with the commander's rights presses *Mark review done*. Reminders are fenced by
the review's token (a reopen and second resolve starts a new one) and rebuilt by the
reconciler from the `reviews:pending` index.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from redis.client import Pipeline
from slack_sdk.errors import SlackApiError

from bot import clock
from bot.config.learning import LearningConfig
from bot.domain import business_days
from bot.domain.catalog import Catalog
from bot.domain.incident import Action, Incident, Status
from bot.domain.milestones import MilestoneError, check_correction, facts, parse_when
from bot.domain.outcomes import JobOutcome
from bot.domain.review import ReviewInput, as_json, draft, mentioned
from bot.domain.timeline import BOT, Entry, Kind
from bot.incident.commands import Engine
from bot.incident.escalation import Escalation
from bot.incident.spec import CommandSpec, Outcome, UserError, say
from bot.render import learning as lb
from bot.slack_api.directory import Directory
from bot.state import keys
from bot.state.learning_store import LearningStore, ReviewState
from bot.state.store import Store
from bot.state.timers import Timers

log = structlog.get_logger(__name__)
KEEP_S = 90 * 86400  # how long the draft's markers outlive its upload


class Drafts:
    """Builds the review's material; needs only Redis and the catalog (used by the CLI too)."""

    def __init__(
        self,
        store: Store,
        learning: LearningStore,
        config: LearningConfig,
        catalog: Callable[[], Catalog],
        directory: Directory,
    ) -> None:
        self.store, self.learning, self.config = store, learning, config
        self.catalog, self.directory = catalog, directory

    def material(self, incident_id: str) -> ReviewInput:
        incident = self.store.get(incident_id)
        rows = list(self.store.timeline_with_data(incident_id))
        kept = self.learning.fact_rows(incident_id, rows)
        known = facts(incident, kept, self.learning.overrides(incident_id))
        try:
            label = self.catalog().tier(incident.severity).label
        except KeyError:
            label = ""
        actions = self.learning.actions(incident_id)
        texts = [incident.title, incident.description or ""] + [e.text for e, _ in rows]
        users, channels = mentioned(incident, texts)
        users |= {e.actor for e, _ in rows} | {a.owner for a in actions if a.owner}
        return ReviewInput(
            incident=incident,
            facts=known,
            timeline=[e for e, _ in rows],
            dropped=self.store.timeline_dropped(incident_id),
            actions=actions,
            names=self._names(users - {BOT}, self.directory.user_name),
            channels=self._names(channels, self.directory.channel_name),
            tz=self.config.timezone,
            redact=incident.private and self.config.redact_private,
            severity_label=label,
            generated_at=clock.now(),
        )

    @staticmethod
    def _names(ids: set[str], lookup: Callable[[str], str | None]) -> dict[str, str]:
        """Each id's name, where the directory knows it (one look-up per id and draft)."""
        return {i: name for i in sorted(ids) if (name := lookup(i))}

    def markdown(self, incident_id: str) -> str:
        return draft(self.material(incident_id))

    def json(self, incident_id: str) -> dict[str, Any]:
        return as_json(self.material(incident_id))


class ReviewWindow:
    """Opens the review window when an incident resolves (told by the Engine, so built before
    it: it needs no commands)."""

    def __init__(
        self,
        store: Store,
        learning: LearningStore,
        config: LearningConfig,
        timers: Timers,
        escalation: Escalation,
    ) -> None:
        self.store, self.learning, self.config = store, learning, config
        self.timers, self.escalation = timers, escalation

    def open(self, incident: Incident) -> None:
        """After a resolve commits: open the review window, tell the channel, post the draft.
        A drill owes no review: its drill report (bot.drills) is what the team learns from."""
        if incident.drill:
            return
        now = clock.now()
        window = self.config.review_due_within
        due = business_days.due_at(incident.resolved_at or now, window, self.config.timezone)
        key = self.learning.review_key(incident.id)

        def change(pipe: Pipeline) -> ReviewState:
            old = self.learning.review(incident.id, pipe)
            state = ReviewState(due.timestamp(), (old.token if old else 0) + 1)
            pipe.multi()
            self.learning.put_review(incident.id, state, pipe)
            text = f"post-incident review due {due:%Y-%m-%d %H:%M} UTC ({window})"
            self.store.record(incident.id, Entry(now, Kind.REVIEW_DUE, BOT, text), pipe)
            if due_message(self.store, incident.id) is None:  # else the draft job updates it
                shout = lb.review_due_text(incident, due, str(window))
                item = say(shout, now, key=f"review:due:{state.token}")
                item.blocks = lb.review_blocks(shout, incident.id)
                self.store.add_outbox(incident.id, [item], pipe)
            return state

        state = self.store.transact([key], change)
        log.info(
            "review_due", incident_id=incident.id, due_at=state.due_at, review_round=state.token
        )
        self.timers.schedule_review(incident.id, state.token, 0, state.due_at)
        self.timers.post_draft(incident.id, state.token)
        self.escalation.deliver(incident.id)


class Reviews:
    def __init__(
        self,
        engine: Engine,
        learning: LearningStore,
        config: LearningConfig,
        timers: Timers,
        drafts: Drafts,
    ) -> None:
        self.engine, self.store, self.learning = engine, engine.store, learning
        self.config, self.timers, self.drafts = config, timers, drafts

    def remind(self, incident_id: str, token: int, number: int) -> JobOutcome:
        """The reminder job: fenced by (token, number); re-arms itself until the review is done."""
        now = clock.now()
        key = self.learning.review_key(incident_id)

        def change(pipe: Pipeline) -> tuple[JobOutcome, ReviewState | None]:
            state = self.learning.review(incident_id, pipe)
            incident = self.store.get(incident_id, pipe)
            if (
                state is None
                or state.token != token
                or state.reminders != number
                or state.done_at is not None
                or incident.status is not Status.RESOLVED
                or self.engine.expired(incident, now)  # past retention: stop reminding
            ):
                return JobOutcome.STALE, state
            if now.timestamp() < state.due_at - 1.0:
                return JobOutcome.NOT_DUE, state
            pipe.multi()
            state.reminders += 1
            self.learning.put_review(incident_id, state, pipe)
            text = lb.review_reminder_text(incident, state.due_at, number)
            item = say(text, now, key=f"review:remind:{token}:{number}")
            item.blocks = lb.review_blocks(text, incident_id)
            self.store.add_outbox(incident_id, [item], pipe)
            who = incident.roles.commander
            entry = Entry(now, Kind.REMINDED, BOT, f"post-incident review due: reminded <@{who}>")
            self.store.record(incident_id, entry, pipe)
            return JobOutcome.REMINDED, state

        outcome, state = self.store.transact([key, self.store.incident_key(incident_id)], change)
        log.info("review_reminder", incident_id=incident_id, number=number, outcome=outcome)
        if outcome is JobOutcome.REMINDED:
            nxt = now.timestamp() + self.config.review_remind_every_s
            self.timers.schedule_review(incident_id, token, number + 1, nxt)
            self.engine.esc.deliver(incident_id)
        elif outcome is JobOutcome.NOT_DUE and state is not None:
            self.timers.schedule_review(incident_id, token, number, state.due_at)
        return JobOutcome(outcome)

    def mark_done(self, incident_id: str, user: str) -> Outcome:
        """Mark the review held (the commander's right); stops the reminders."""

        def change(inc: Incident, pipe: Pipeline, now: datetime) -> Incident:
            state = self.learning.review(inc.id)
            if state is None:
                raise UserError("no post-incident review is due for this incident")
            if state.done_at is not None:
                raise UserError(f"the review was already marked done by <@{state.done_by}>")
            state.done_at, state.done_by = now.timestamp(), user
            self.learning.put_review(inc.id, state, pipe)
            return inc

        text = f"post-incident review marked done by <@{user}>"
        spec = CommandSpec(Action.COMPLETE_REVIEW, change, Kind.REVIEW_DONE, text)
        return self.engine.command(incident_id, user, spec)

    def correct(self, incident_id: str, user: str, which: str, when: str) -> Outcome:
        """`/incident milestone ack|mitigated|resolved <YYYY-MM-DD HH:MM[Z]>`."""
        try:
            at = parse_when(when, self.config.timezone)
        except MilestoneError as exc:
            raise UserError(str(exc)) from None

        def change(inc: Incident, pipe: Pipeline, now: datetime) -> Incident:
            overrides = self.learning.overrides(inc.id)
            try:
                check_correction(inc, overrides, which, at, now)
            except MilestoneError as exc:
                raise UserError(str(exc)) from None
            self.learning.set_override(inc.id, which, at, pipe)
            return inc

        incident = self.store.get(incident_id)
        before = self.learning.overrides(incident_id).get(which) or {
            "ack": incident.acknowledged_at,
            "mitigated": incident.mitigated_at,
            "resolved": incident.resolved_at,
        }.get(which)
        text = lb.milestone_text(which, at, before, user)
        spec = CommandSpec(Action.CORRECT_MILESTONE, change, Kind.MILESTONE_CORRECTED, text)
        return self.engine.command(incident_id, user, spec)

    def post_draft(self, incident_id: str, token: int, client: Any) -> str:
        """Upload the draft as a Markdown file to the incident channel (once per token).

        One review per incident: after a reopen and a second resolve, the due message posted
        the first time is updated with the new due time (and its button), and the new draft
        replaces the earlier one (uploaded, then the earlier file deleted)."""
        incident = self.store.get(incident_id)
        if incident.channel_id is None:
            raise RuntimeError(f"incident {incident_id} has no channel yet")  # RQ retries
        channel = incident.channel_id
        current = keys.review_draft(incident_id)

        def upload() -> None:
            state = self.learning.review(incident_id)
            ts = due_message(self.store, incident_id)
            if state is not None and token > 1 and ts is not None:
                due = datetime.fromtimestamp(state.due_at, UTC)
                text = lb.review_due_text(incident, due, str(self.config.review_due_within))
                blocks = lb.review_blocks(text, incident_id)
                try:
                    client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
                except SlackApiError as exc:  # deleted by hand: the draft still goes up
                    if exc.response.get("error") != "message_not_found":
                        raise
            earlier = self.store.markers.get(current)
            sent = client.files_upload_v2(
                channel=channel,
                content=self.drafts.markdown(incident_id),
                filename=f"review-{incident_id}.md",
                title=f"Post-incident review draft · {incident_id}",
                initial_comment=lb.draft_comment(incident),
            )
            self.store.markers.put(current, str(sent["file"]["id"]), KEEP_S)
            if earlier:
                try:
                    client.files_delete(file=earlier)
                except SlackApiError as exc:  # already gone (deleted by hand): nothing to do
                    if exc.response.get("error") != "file_not_found":
                        raise

        marker = keys.review_posted(incident_id, token)
        posted = self.store.markers.once(
            marker, upload, hold_s=600, keep_s=KEEP_S, holding="posting", done="posted"
        )
        return "posted" if posted else "already_posted"


def due_message(store: Store, incident_id: str) -> str | None:
    """The ts of the review-due message already in the incident channel, if one was sent."""
    for item in store.outbox(incident_id):
        if item.key.startswith("review:due:") and item.ref:
            return str(item.ref).rpartition("/")[2]
    return None
