"""The Bolt app factory: one App per process, built from a Runtime, never at import time."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import structlog
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from bot.runtime import Runtime
from bot.slack import (
    edge,
    on_action,
    on_command,
    on_contain,
    on_learning,
    on_rules,
    on_selftest,
)
from bot.slack.after import AfterAnswer

log = structlog.get_logger(__name__)


class PerRequest(Middleware):
    """Every log line of the request carries user_id and team_id; `respond` posts after the
    answer. One middleware, and an object: Bolt builds every argument of a function
    middleware on each call (BENCHMARKS.md), and calls this `process` as it is."""

    def __init__(self, after: AfterAnswer) -> None:
        self.after = after

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        who = edge.requester(req.body)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(user_id=who.user_id, team_id=who.team_id)
        self.after.defer_respond(req.context)
        return next()


def build_app(rt: Runtime, *, signing_secret: str | None, client: WebClient) -> App:
    """Listeners are thin: verify (Bolt), parse, write the smallest record, enqueue, ack.

    Listeners run inline (`process_before_response`): the answer leaves when the listener
    returns, after what it wrote is committed, with no 10 ms ack poll (Bolt's default
    runner). Calls to Slack run after the answer (`bot.slack.after`).
    """
    after = AfterAnswer()
    app = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=False,  # auth.test at boot would make startup need Slack
        request_verification_enabled=signing_secret is not None,
        raise_error_for_unhandled_request=True,
        ignoring_self_events_enabled=True,
        process_before_response=True,
    )

    app.use(PerRequest(after))

    on_command.register(app, rt, after)
    on_action.register(app, rt, after)
    on_contain.register(app, rt)  # containment buttons under the runbook post
    on_learning.register(app, rt)  # stats, actions, milestones, reviews, App Home
    on_selftest.register(app, rt)  # the self-test page's Acknowledge
    on_rules.register(app, rt, after)  # my notification rules, from the App Home

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
            # Told through response_url (after the answer); Slack's own "failed" notice on a
            # 500 would only repeat it. (A click used to be acked before its work anyway.)
            return BoltResponse(status=200, body="")
        return None

    return app
