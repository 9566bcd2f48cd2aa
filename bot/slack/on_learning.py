"""Listeners of the learning loop: stats, action items, milestone corrections, review and
action-item buttons, App Home.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog
from slack_bolt import Ack, App, Respond

from bot import clock
from bot.domain.incident import Incident
from bot.domain.metrics import summarize
from bot.incident.spec import Outcome, UserError
from bot.render import learning as lb
from bot.render import messages
from bot.render.stats import stats_blocks, stats_text
from bot.runtime import Runtime
from bot.slack import belongs, edge, home
from bot.slack import commands as cmd

log = structlog.get_logger(__name__)
People = Callable[[tuple[cmd.Mention, ...]], list[str]]


def _reply(outcome: Outcome) -> str:
    """A refusal, or what was done when the incident channel is not told; else nothing."""
    return messages.answer(outcome.ok, outcome.message, announced=outcome.announced)


def stats_reply(rt: Runtime, command: cmd.Stats) -> dict[str, Any]:
    """`/incident stats [30d|90d] [service]`: figures over the window, ephemeral."""
    until = clock.now()
    since = until - timedelta(days=command.window_days)
    history = rt.learning.store.history(since.timestamp(), until.timestamp() + 1)
    known = {f.service for _, f in history}
    if command.service and command.service not in known:
        services = ", ".join(sorted(known)) or "none in this window"
        raise UserError(f"no incidents on service {command.service!r} (services: {services})")
    summary = summarize(
        [f for _, f in history], since, until, command.service, rt.catalog().tier_names
    )
    return {"text": stats_text(summary), "blocks": stats_blocks(summary)}


def in_channel(
    rt: Runtime, command: cmd.Command, incident: Incident, user: str, people: People
) -> str:
    """`action` and `milestone` in an incident channel."""
    lrn = rt.learning
    if isinstance(command, cmd.AddAction):
        owner = people((command.owner,))[0] if command.owner else None
        return _reply(lrn.actions.add(incident.id, user, command.text, owner, command.due))
    if isinstance(command, cmd.Milestone):
        return _reply(lrn.reviews.correct(incident.id, user, command.which, command.when))
    raise UserError(f"`/incident {command.subcommand}` cannot be used here")


def register(app: App, rt: Runtime) -> None:
    lrn = rt.learning
    home.register(app, rt)

    def tell(respond: Respond, text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    def first(click: edge.Click) -> bool:
        return rt.store.first_delivery(f"act:{click.action_id}:{click.user_id}:{click.action_ts}")

    def owns_item(click: edge.Click) -> belongs.InDm:
        """An action item's reminder DM goes to its owner only."""

        def check(incident: Incident, user: str) -> bool:
            item = lrn.store.action(click.value)
            return item is not None and item.incident_id == incident.id and item.owner == user

        return check

    @app.action(lb.REVIEW_DONE)
    def review_done(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        click = edge.click(body)  # posted in the incident's channel only
        if not belongs.clicked_incident(rt.store, click, click.value, respond) or not first(click):
            return
        try:
            outcome = lrn.reviews.mark_done(click.value, click.user_id)
        except UserError as error:
            tell(respond, f":no_entry: {error}")
            return
        if said := _reply(outcome):  # nothing when the channel's message says it
            tell(respond, said)

    @app.action(lb.ACTION_CLOSE)
    def close_action(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        click = edge.click(body)
        incident_id = click.value.rpartition(":")[0]  # the value is the item's ref
        if not belongs.clicked_incident(rt.store, click, incident_id, respond, owns_item(click)):
            return
        if not first(click):
            return
        try:
            outcome = lrn.actions.close(click.value, click.user_id)
        except UserError as error:
            tell(respond, f":no_entry: {error}")
            return
        if outcome.ok and click.in_dm:
            respond(text=f":white_check_mark: Closed: {outcome.message}", replace_original=True)
        elif said := _reply(outcome):  # nothing when the channel's message says it
            tell(respond, said)
