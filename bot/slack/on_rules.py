"""My notification rules from the App Home: the button opens the form, the form sets them.

A person sets only their own rules (the submitter's, as Slack signs it), so no decision
right is asked. The methods are checked as people.yaml's are: sms and voice need the phone,
email the address the file gives them.
"""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot import clock
from bot.domain.notify import SLACK_ONLY, missing_address, parse_rules, rules_text
from bot.render import rules
from bot.runtime import Runtime
from bot.slack import edge
from bot.slack.after import AfterAnswer

log = structlog.get_logger(__name__)


def rules_section(rt: Runtime, user: str) -> list[Block]:
    """The App Home's section on `user`'s notification rules."""
    esc = rt.escalation
    people = rt.catalog().people
    person = esc.person(user)
    own = esc.own_rules.get(user) if esc.own_rules else None
    if own:
        text, source = rules_text(own), "set by you"
    elif person.rules:
        text, source = rules_text(person.rules), "from people.yaml"
    elif people.defaults != SLACK_ONLY:
        text, source = rules_text(people.defaults), "people.yaml's defaults"
    else:
        text, source = rules_text(SLACK_ONLY), "everyone's"
    contacts = f"Phone: {person.phone or 'none'} · Email: {person.email or 'none'}"
    unset = sorted({r.method for r in own or person.rules or people.defaults} - esc.methods)
    if unset:
        contacts += f" · not set up on this Tocsin: {', '.join(unset)}"
    audit = esc.own_rules.audit(user)[:1] if esc.own_rules else []
    last = (audit[0].at, audit[0].by, audit[0].rules) if audit else None
    return rules.rules_blocks(text, source, contacts, last)


def register(app: App, rt: Runtime, after: AfterAnswer) -> None:
    esc = rt.escalation

    @app.action(rules.EDIT)
    def edit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        click = edge.click(body)
        own = esc.own_rules.get(click.user_id) if esc.own_rules else None
        after.open_view(client, click.trigger_id, rules.rules_form(rules_text(own) if own else ""))

    @app.view(rules.FORM)
    def saved(ack: Ack, body: dict[str, Any]) -> None:
        sub = edge.submission(body)
        text = str(sub.values.get(rules.FIELD) or "").strip()
        try:
            new = parse_rules(text) if text else None
        except ValueError as wrong:
            ack(response_action="errors", errors={rules.FIELD: str(wrong)[:150]})
            return
        person = esc.person(sub.user_id)
        missing = [m for r in new or () if (m := missing_address(person, r))]
        if missing:
            said = f"{missing[0]}, and people.yaml gives you none: ask for it to be added there"
            ack(response_action="errors", errors={rules.FIELD: said})
            return
        ack()
        if esc.own_rules is None or not rt.store.first_delivery(f"rules:{sub.view_id}"):
            return  # Slack delivered this submission before
        esc.own_rules.set(sub.user_id, new, sub.user_id, clock.now_ts())
        log.info("own_rules_set", user_id=sub.user_id, cleared=new is None)
        rt.learning.timers.publish_home(sub.user_id)
