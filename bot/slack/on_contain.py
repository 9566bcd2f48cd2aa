"""Containment buttons under the runbook post: thin. The click's incident must be the
channel's (`belongs`), and the action must be in that incident's runbook (the service)."""

from __future__ import annotations

import re
from typing import Any

import structlog
from slack_bolt import Ack, App, Respond

from bot.domain.containment import BUTTON_PREFIX, parse_value
from bot.runtime import Runtime
from bot.slack import belongs, edge

log = structlog.get_logger(__name__)


def register(app: App, rt: Runtime) -> None:
    @app.action(re.compile(f"^{re.escape(BUTTON_PREFIX)}"))
    def contain_button(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        click = edge.click(body)
        parsed = parse_value(click.value)
        named = click.action_id.removeprefix(BUTTON_PREFIX)
        if parsed is None or parsed[1] != named:
            log.warning("containment_value_refused", user_id=click.user_id)
            respond(text=f":no_entry: {belongs.NOT_HERE}", response_type="ephemeral")
            return
        incident = belongs.clicked_incident(rt.store, click, parsed[0], respond)
        if incident is None or not rt.store.first_delivery(
            f"act:{click.action_id}:{click.user_id}:{click.action_ts}"
        ):
            return
        said = rt.containment.press(incident, named, click.user_id, click.message_ts)
        if said:
            respond(text=said, response_type="ephemeral", replace_original=False)
