"""The Bolt app factory: one App per process, built from a Runtime, never at import time."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from slack_bolt import App, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient

from bot.runtime import Runtime
from bot.slack import on_action, on_command, on_learning

log = structlog.get_logger(__name__)


def build_app(rt: Runtime, *, signing_secret: str | None, client: WebClient) -> App:
    """Listeners are thin: verify (Bolt), parse, write the smallest record, enqueue, ack."""
    app = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=False,  # auth.test at boot would make startup need Slack
        request_verification_enabled=signing_secret is not None,
        raise_error_for_unhandled_request=True,
        ignoring_self_events_enabled=True,
    )
    on_command.register(app, rt)
    on_action.register(app, rt)
    on_learning.register(app, rt)  # stats, actions, milestones, reviews, App Home, log context

    @app.error
    def on_error(error: Exception, body: dict[str, Any], respond: Any) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            return BoltResponse(status=404, body="")
        error_id = uuid.uuid4().hex[:8]
        log.exception("listener_error", error_id=error_id, error_type=type(error).__name__)
        if isinstance(body, dict) and body.get("response_url"):
            try:
                respond(
                    text=f":warning: Sorry, that failed on our side (error id `{error_id}`). "
                    "It has been logged; try again in a moment.",
                    response_type="ephemeral",
                    replace_original=False,
                )
            except Exception:  # the user notice is best effort
                log.warning("error_notice_failed", error_id=error_id)
        return None

    return app
