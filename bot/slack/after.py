"""Slack calls made after the answer: response_url messages and modal opens.

The App runs its listeners inline (`process_before_response=True`): the HTTP answer to Slack
is sent when the listener returns, so whatever a listener writes to Redis is durable before
Slack hears back. A call to Slack inside the listener would hold that answer up, so none is
made there:

- `respond(...)` (a response_url POST) is handed to a small thread pool: the App's
  middleware swaps each request's `respond` for a `DeferredRespond`. Listeners keep
  calling `respond` as before; the messages of one request are sent in the order made,
  over connections kept open (`bot.slack.response_urls`).
  These messages are courtesy notices; what they report is already committed, and a crash
  before one is sent loses the notice only (the user can click again).
- `open_view` opens a modal from a pool of its own, so it never queues behind response_url
  posts: the call starts within milliseconds of the request's arrival, well inside the
  3 seconds Slack gives a `trigger_id`. A trigger older than that by the time its turn
  comes is not sent (Slack would refuse it); like a refused `views.open`, the miss is
  logged and the person told to try again.

Bolt's lazy listeners would do the same, but copy each request first (re-parsing its body
and deep-copying it, on the answer's path); this pool costs one closure per call.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import structlog
from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookResponse

from bot.slack.response_urls import ResponseUrls, message

log = structlog.get_logger(__name__)

TRIGGER_WINDOW_S = 3.0  # Slack's lifetime of a trigger_id


class DeferredRespond(Respond):
    """`respond` whose POST runs on `pool` after the answer, in call order per request, over
    `urls`' kept-alive connections (Bolt's own `respond` where a proxy applies)."""

    def __init__(self, original: Respond, pool: ThreadPoolExecutor, urls: ResponseUrls) -> None:
        super().__init__(response_url=original.response_url, proxy=original.proxy, ssl=original.ssl)
        self._original = original
        self._pool = pool
        self._urls = urls if urls.usable(original) else None
        self._last: Future[None] | None = None

    def _send(self, *args: Any, **kwargs: Any) -> None:
        if self._urls is None or self.response_url is None:
            self._original(*args, **kwargs)
            return
        status = self._urls.post(self.response_url, message(*args, **kwargs))
        if status >= 400:
            log.warning("respond_refused", status=status)

    def __call__(self, *args: Any, **kwargs: Any) -> WebhookResponse:
        previous = self._last

        def send() -> None:
            if previous is not None:
                previous.result()  # submitted earlier, so already running or done
            try:
                self._send(*args, **kwargs)
            except Exception as exc:  # logged as the listener's own failures are
                log.warning("listener_error", stage="respond", error_type=type(exc).__name__)

        self._last = self._pool.submit(send)
        return WebhookResponse(
            url=self.response_url or "", status_code=202, body="deferred", headers={}
        )


class AfterAnswer:
    """The two pools, created per App (their threads start on first use, after any fork)."""

    def __init__(self, reply_threads: int = 4, modal_threads: int = 2) -> None:
        self.replies = ThreadPoolExecutor(reply_threads, thread_name_prefix="respond")
        self.modals = ThreadPoolExecutor(modal_threads, thread_name_prefix="views-open")
        self.urls = ResponseUrls()

    def defer_respond(self, context: BoltContext) -> None:
        """From here on, this request's `respond` posts after the answer."""
        original = context.respond
        if original is not None and original.response_url:
            context["respond"] = DeferredRespond(original, self.replies, self.urls)

    def open_view(
        self, client: WebClient, trigger_id: str, view: Any, respond: Respond | None = None
    ) -> None:
        """`views.open` on its own pool, while the trigger is still valid; if Slack refuses,
        the person is told through `respond` (when the request has a response_url)."""
        received = time.monotonic()

        def open_it() -> None:
            waited = time.monotonic() - received
            try:
                if waited >= TRIGGER_WINDOW_S:
                    raise TimeoutError(f"the trigger waited {waited:.1f}s")
                client.views_open(trigger_id=trigger_id, view=view)
            except Exception as exc:  # logged as the listener's own failures are
                log.warning(
                    "listener_error",
                    stage="views.open",
                    error_type=type(exc).__name__,
                    waited_s=round(waited, 3),
                )
                if respond is not None and respond.response_url:
                    respond(
                        text=":warning: Slack did not open the form; try again in a moment.",
                        response_type="ephemeral",
                        replace_original=False,
                    )

        self.modals.submit(open_it)
