"""Buttons (Acknowledge, Escalate, Post update, Resolve) and modal submissions."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain import limits
from bot.domain.incident import Action, Incident
from bot.domain.severity import Impact, classify
from bot.domain.updates import StatusUpdate
from bot.incident.spec import Outcome, UserError
from bot.render import blocks, messages, views
from bot.runtime import Runtime
from bot.slack import belongs, edge
from bot.slack.after import AfterAnswer

log = structlog.get_logger(__name__)


def _tell(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: App, rt: Runtime, after: AfterAnswer) -> None:
    seal = belongs.Seal.from_settings(rt.settings)

    def first_time(key: str) -> bool:
        """False (and logged) for a click or submission Slack delivered before."""
        if rt.store.first_delivery(key):
            return True
        log.info("duplicate_delivery", key=key)
        return False

    def key(click: edge.Click) -> str:
        return f"act:{click.action_id}:{click.user_id}:{click.action_ts}"

    def done(
        outcome: Outcome, click: edge.Click, respond: Respond, *, page_shows: bool = False
    ) -> None:
        """Tell the clicker what a button did, unless something they see already says it:
        in the channel its announcement; in a page DM, the DM itself once `page_shows` it
        (every page DM of the incident is rewritten through the outbox)."""
        if not outcome.ok:
            _tell(respond, f":no_entry: {outcome.message}")
        elif click.in_dm and not page_shows:
            _tell(
                respond,
                f":white_check_mark: You {outcome.message.split(' by ')[0]} "
                f"{messages.incident_label(outcome.incident)}.",
            )

    def first_here(click: edge.Click, respond: Respond) -> Incident | None:
        """The clicked incident if the click may act on it and Slack delivers it for the
        first time (one round trip): Acknowledge and Escalate live in the incident's header
        and in its page DMs."""
        incident, first_seen = belongs.first_click(
            rt.store, click, click.value, respond, key(click), belongs.was_paged
        )
        if incident is not None and not first_seen:
            log.info("duplicate_delivery", key=key(click))
            return None
        return incident

    @app.action(blocks.ACK)
    def ack_button(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        click = edge.click(body)
        incident = first_here(click, respond)
        if incident is not None:
            outcome = rt.engine.acknowledge(click.value, click.user_id, incident)
            done(outcome, click, respond, page_shows=True)

    @app.action(blocks.ESCALATE)
    def escalate_button(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        click = edge.click(body)
        if first_here(click, respond) is None:
            return
        try:
            done(rt.engine.escalate(click.value, click.user_id, "from the button"), click, respond)
        except UserError as error:
            _tell(respond, f":no_entry: {error}")

    @app.action(blocks.UPDATE)
    def update_button(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        click = edge.click(body)
        incident = belongs.clicked_incident(rt.store, click, click.value, respond)
        if incident is None:
            return
        if refused := rt.engine.refusal(incident, click.user_id, Action.UPDATE):
            _tell(respond, f":no_entry: {refused}")  # before the form, not after filling it
            return
        cadence = rt.catalog().tier(incident.severity).update_every_s
        sealed = seal.seal(views.UPDATE, incident.id, click.user_id)
        view = views.update_modal(incident, cadence, sealed)
        after.open_view(client, click.trigger_id, view, respond)

    @app.action(blocks.RESOLVE)
    def resolve_button(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        click = edge.click(body)
        incident = belongs.clicked_incident(rt.store, click, click.value, respond)
        if incident is None:
            return
        if refused := rt.engine.refusal(incident, click.user_id, Action.RESOLVE):
            _tell(respond, f":no_entry: {refused}")  # before the form, not after filling it
            return
        sealed = seal.seal(views.RESOLVE, incident.id, click.user_id)
        after.open_view(client, click.trigger_id, views.resolve_modal(incident, sealed), respond)

    @app.view(views.DECLARE)
    def declare_submitted(ack: Ack, body: dict[str, Any]) -> None:
        sub = edge.submission(body)
        title = sub.text("title")
        if not title:
            ack(response_action="errors", errors={"title": "An incident needs a title."})
            return
        long = {
            field: problem
            for field, cap in (("title", limits.TITLE), ("description", limits.DESCRIPTION))
            if (problem := limits.too_long(cap, sub.text(field)))
        }
        if long:
            ack(response_action="errors", errors=long)
            return
        catalog = rt.catalog()
        impact = Impact(
            users_affected_pct=views.AFFECTED.get(sub.choice("users_affected") or "none", 0.0),
            **{flag: flag in sub.checked("impact") for flag in views.IMPACT_FLAGS},
        )
        suggested = classify(catalog.tiers, impact).name
        chosen = sub.choice("severity") or "auto"
        names = list(catalog.tier_names)
        # The impact answers raise the severity; a person may choose higher, never lower.
        severity = suggested if chosen == "auto" else min(chosen, suggested, key=names.index)
        if not first_time(f"view:{sub.view_id}"):
            ack()
            return
        ack()
        service = sub.choice("service") or "*"
        rt.engine.declare(
            title=title,
            service="*" if service == "other" else service,
            severity=severity,
            declared_by=sub.user_id,
            private="private" in sub.checked("private"),
            description=sub.text("description"),
            origin=seal.open(views.DECLARE, sub.private_metadata, sub.user_id),
        )

    @app.view(views.UPDATE)
    def update_submitted(ack: Ack, body: dict[str, Any]) -> None:
        sub = edge.submission(body)
        incident_id = seal.open(views.UPDATE, sub.private_metadata, sub.user_id)
        if incident_id is None:
            ack(response_action="errors", errors={"symptoms": belongs.ALTERED})
            return
        update = StatusUpdate(
            status=sub.choice("status") or "",
            symptoms=sub.text("symptoms"),
            actions=sub.text("actions"),
            next_steps=sub.text("next_steps"),
            next_in_s=int(next_in) if (next_in := sub.choice("next_in") or "0").isdigit() else 0,
        )
        problems = update.problems()
        if problems:
            ack(response_action="errors", errors=problems)
            return
        if not first_time(f"view:{sub.view_id}"):
            ack()
            return
        outcome = rt.updates.post(incident_id, sub.user_id, update)
        if outcome.ok:
            ack()
        else:
            ack(response_action="errors", errors={"symptoms": outcome.message[:150]})

    @app.view(views.RESOLVE)
    def resolve_submitted(ack: Ack, body: dict[str, Any]) -> None:
        sub = edge.submission(body)
        incident_id = seal.open(views.RESOLVE, sub.private_metadata, sub.user_id)
        if incident_id is None:
            ack(response_action="errors", errors={"summary": belongs.ALTERED})
            return
        if problem := limits.too_long(limits.SUMMARY, sub.text("summary")):
            ack(response_action="errors", errors={"summary": problem})
            return
        if not first_time(f"view:{sub.view_id}"):
            ack()
            return
        outcome = rt.engine.resolve(incident_id, sub.user_id, sub.text("summary"))
        if outcome.ok:
            ack()
        else:
            ack(response_action="errors", errors={"summary": outcome.message[:150]})
