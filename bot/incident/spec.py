"""The vocabulary of incident commands: what one asks for (`CommandSpec`), what it gives
back (`Outcome`), the error a person is told (`UserError`), and what it owes the channel."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from redis.client import Pipeline

from bot.domain.incident import Action, Incident
from bot.domain.outbox import OutboxKind
from bot.domain.policy import EscalationState, EscalationStatus
from bot.domain.timeline import Kind
from bot.state.store import OutboxItem

# The outbox key of a declaration's announcement in the channel it was typed in: best effort
# (a channel the bot cannot post in is logged and put on the timeline, not told in the channel).
ORIGIN_KEY = "origin:declared"

Change = Callable[[Incident, Pipeline, datetime], Incident]
# Whether the user may act on the incident (given the user's groups), and the deciding rule.
Authorize = Callable[[Incident, frozenset[str]], tuple[bool, str]]


class UserError(Exception):
    """Something the person asked for cannot be done; the message says why, kindly."""


@dataclass(frozen=True)
class CommandSpec:
    """What a command does to an incident and what it says.

    `change` makes the changed incident (queuing any writes of its own on the pipe); `text`
    is the timeline entry, or is worked out from the changed incident; `announce` is said in
    the incident channel (None: the announcement of `kind`; "": nothing); `outbox` makes more
    outbox items; `after` runs once the command committed. `record_only`: it only adds to
    the timeline (a note), so it needs no WATCH, and no timer, outbox drain or header
    refresh follows. `authorize` replaces the check of the tier's right for `action`.
    """

    action: Action
    change: Change
    kind: Kind
    text: str | Callable[[Incident], str]
    announce: str | None = None
    outbox: Callable[[Incident, datetime], list[OutboxItem]] | None = None
    after: Callable[[Incident], None] | None = None
    record_only: bool = False
    authorize: Authorize | None = None


@dataclass(frozen=True)
class Outcome:
    ok: bool
    incident: Incident
    message: str
    # The incident channel is told of it: whoever acted there sees that, and needs no
    # answer of their own saying the same.
    announced: bool = False


def starting(now: datetime, previous: EscalationState | None = None) -> EscalationState:
    """Escalation that pages step 1 as soon as the first tick runs (a restart is a new run)."""
    run = previous.run + 1 if previous is not None else 0
    return EscalationState(EscalationStatus.ACTIVE, -1, 0, now.timestamp(), run)


def say(text: str, now: datetime, *, key: str | None = None, thread: bool = False) -> OutboxItem:
    """An announcement owed to the incident channel (delivered once, when the channel exists)."""
    return OutboxItem(
        key=key or f"say:{uuid.uuid4().hex[:12]}",
        kind=OutboxKind.ANNOUNCE,
        to="@incident",
        text=text,
        created_at=now.timestamp(),
        thread="@header" if thread else None,
    )


def revise_pages(now: datetime, *, key: str) -> OutboxItem:
    """An edit owed to the incident's page DMs already sent: they show it as it is then."""
    return OutboxItem(
        key=key, kind=OutboxKind.EDIT, to="@pages", text="", created_at=now.timestamp()
    )
