"""Notes: the text a note records, a note in one round trip, and a write-limit refusal.

A note typed in a channel whose incident this process has read before is checked against
that read (state, the person's own rights) and written by one Lua call that also takes
the retry key and asks the write limiter, and writes only if the incident is still the
document read (bot.state.quick_note). Whatever that path cannot decide alone (a usergroup's
rights, an alert source, an incident changed since) goes the usual way
(`Engine.note`), which counts and words a refusal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from bot import clock
from bot.domain import incident as machine
from bot.domain.alerts.sources import source_of
from bot.domain.catalog import Catalog
from bot.domain.incident import Action, Incident, TransitionRefused
from bot.domain.severity import Rights
from bot.domain.timeline import Entry, Kind
from bot.incident.spec import Outcome
from bot.render import messages
from bot.state.quick_note import QuickNotes
from bot.state.store import Store
from bot.state.write_limits import WriteLimiter

log = structlog.get_logger(__name__)


def note_text(user: str, clean: str) -> str:
    """A note's timeline entry; `clean`: its text, escaped."""
    return f"note by {messages.who(user)}: {clean}"


@dataclass(frozen=True)
class Retried:
    """Slack re-sent the note: it was handled the first time."""


@dataclass(frozen=True)
class Moved:
    """The note was not written at once: the incident changed since this process read it.
    The retry key is taken; `incident`: the channel's incident as stored now (None: gone),
    `limited`: the write limiter's answer (None: not asked), for the usual path."""

    incident: Incident | None
    limited: int | None


QuickAnswer = Outcome | Retried | Moved


def may_note_at_once(incident: Incident, user: str, rights: Rights) -> bool:
    """Whether `user` may add a note to `incident` as read, by its state and their own
    rights; False too where only a usergroup or an alert source's rule could allow it (the
    usual path asks those, and counts a refusal once)."""
    if source_of(user) is not None:
        return False
    try:
        machine.check_transition(incident, Action.NOTE)
    except TransitionRefused:
        return False
    allowed, _ = machine.authorize(rights, Action.NOTE, incident, user)
    return allowed


def write_limited(
    store: Store, limiter: WriteLimiter, incident: Incident, user: str, action: Action, wait: int
) -> Outcome:
    """The refusal of a write the limiter refused (`wait`: whole seconds), counted."""
    store.count("refused", action=action.value, reason="rate_limit")
    log.warning("write_rate_limited", incident_id=incident.id, user_id=user, wait_s=wait)
    text = messages.write_limited(limiter.per_minute, limiter.burst, wait)
    return Outcome(False, incident, text)


class QuickNote:
    """A note in one round trip (see the module's text), for `Engine.quick_note`."""

    def __init__(self, store: Store, config: Callable[[], Catalog]) -> None:
        self.store = store
        self.config = config  # the config's own catalog: rights never change from Slack
        self.writes = QuickNotes(store.r)

    def __call__(
        self, channel_id: str, user: str, text: str, retry_key: str, limiter: WriteLimiter | None
    ) -> QuickAnswer | None:
        seen = self.store.seen_in(channel_id)
        clean = messages.escape(text.strip())
        if seen is None or not clean:
            return None
        raw, incident = seen
        try:
            rights = self.config().tier(incident.severity).rights
        except KeyError:  # a tier gone from the config: the usual path words it
            return None
        if not may_note_at_once(incident, user, rights):
            return None
        entry = Entry(clock.now(), Kind.NOTE, user, note_text(user, clean))
        question = None if limiter is None else limiter.question(incident.id, user)
        written = self.writes.write(retry_key, incident.id, raw, entry, incident.drill, question)
        if written.said == "retry":
            return Retried()
        if written.said == "moved":
            found = None if written.document is None else self.store.parse(written.document)
            here = found if found is not None and found.channel_id == channel_id else None
            return Moved(here, None if question is None else 0)
        if limiter is not None and written.said == "limited":
            wait = limiter.seconds(written.wait_ms)
            return write_limited(self.store, limiter, incident, user, Action.NOTE, wait)
        if logging.getLogger(__name__).isEnabledFor(logging.DEBUG):  # as `command` logs one
            log.debug("incident_command", incident_id=incident.id, user_id=user, action="note")
        return Outcome(True, incident, entry.text)
