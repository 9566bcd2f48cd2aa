"""The self-test page's Acknowledge button: thin. Only the person the page was sent to
can answer it (checked by `SelfTests.acknowledge` against the run's record)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.render.drills import SELF_TEST_ACK
from bot.runtime import Runtime
from bot.slack import edge


def register(app: App, rt: Runtime) -> None:
    @app.action(SELF_TEST_ACK)
    def self_test_ack(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        click = edge.click(body)
        said = rt.self_tests.acknowledge(click.value, click.user_id)
        respond(
            text=f":white_check_mark: {said}", response_type="ephemeral", replace_original=False
        )
