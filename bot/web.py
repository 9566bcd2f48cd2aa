"""`tocsin web`: the Bolt app in HTTP mode behind gunicorn, plus /healthz and /readyz.

POST /slack/events   every Slack request (commands, interactivity, events), signature-checked
GET  /healthz        the process is up
GET  /readyz         Redis answers and a worker with the scheduler is alive; `watchdog` says
                     why not once they have been away TOCSIN_WATCHDOG_AFTER_S (bot.watchdog)
GET  /calendar/<schedule>.ics, /calendar/person/<id>.ics?token=…
                     who is on call 90 days ahead, as iCalendar (bot.oncall.calendar)
GET  /metrics        Prometheus figures computed from Redis at scrape time (bot.metrics); with
                     TOCSIN_METRICS_TOKEN set, only for `Authorization: Bearer <token>`
POST /notify/twilio/sms, /notify/twilio/voice
                     an SMS reply or a call's keypress acknowledging a page (bot.inbound.twilio):
                     X-Twilio-Signature checked, answered with TwiML
POST /alerts/<name>  a notification from an alert source of alerts.yaml (bot.alerts.intake):
                     verified, stored and queued for the worker; nothing here talks to Slack
GET  /notify/ack/<token>   an email page's acknowledge link: a confirm page that changes nothing
POST /notify/ack/<token>   its button: acknowledges as the person paged (bot.inbound.email_link)
POST /notify/pagerduty  PagerDuty's v3 webhooks (bot.inbound.pagerduty): an acknowledge or
                     resolve made in PagerDuty, verified by X-PagerDuty-Signature
Every request body over 1 MiB is refused with 413 before it is read (bot.web_limits).
"""

from __future__ import annotations

import gc
import hmac
import os
import time
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import structlog
from gunicorn.app.base import BaseApplication
from rq import Worker
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import clock, metrics, web_limits
from bot.alerts.intake import Intake
from bot.config.settings import Settings, SettingsError
from bot.inbound.email_link import AckPages
from bot.inbound.html import HEADERS as HTML_HEADERS
from bot.inbound.pagerduty import PagerDutyWebhooks
from bot.inbound.twilio import TwilioInbound
from bot.notify.links import PATH as ACK_PATH
from bot.notify.links import AckLinks
from bot.oncall.calendar import CalendarFeeds
from bot.runtime import Runtime
from bot.slack.app import build_app
from bot.slack_api.client import slack_client
from bot.state.keys import SCHEDULER_LEASE
from bot.state.leases import Leases
from bot.state.replies import ReplyBook
from bot.state.watchdog import WatchdogState
from bot.watchdog.announce import destinations_from
from bot.watchdog.observe import observe
from bot.watchdog.thread import Watchdog, WatchdogConfig
from bot.web_limits import json_answer

log = structlog.get_logger(__name__)
ALERTS = "/alerts/"
PAGERDUTY_WEBHOOKS = "/notify/pagerduty"
StartResponse = Callable[..., Any]


def readiness(rt: Runtime, after_s: float) -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = {}
    try:
        checks["redis"] = rt.store.ping()
    except Exception as exc:  # any failure means not ready
        checks["redis"] = f"error: {type(exc).__name__}"
    try:
        workers = Worker.all(queue=rt.queue)
        fresh = [
            w
            for w in workers
            if w.last_heartbeat and time.time() - w.last_heartbeat.timestamp() < 60
        ]
        checks["workers"] = len(fresh)
        checks["scheduler"] = Leases(rt.r).held(SCHEDULER_LEASE)
    except Exception as exc:
        checks["workers"] = f"error: {type(exc).__name__}"
    try:
        calendars = rt.oncall.catalog.feeds.status()  # a failing feed keeps its last good copy:
        if calendars:  # said here, without making the process unready
            checks["calendars"] = calendars
    except Exception as exc:
        checks["calendars"] = f"error: {type(exc).__name__}"
    try:
        verdict = observe(WatchdogState(rt.r), rt.queue, clock.now_ts(), after_s)
        if verdict.down:
            checks["watchdog"] = verdict.why
    except Exception as exc:
        checks["watchdog"] = f"error: {type(exc).__name__}"
    ok = (
        checks.get("redis") is True
        and bool(checks.get("scheduler"))
        and checks.get("workers", 0) > 0
        and "watchdog" not in checks
    )
    return ok, checks


class WebApp:
    """A small WSGI router in front of Bolt's handler."""

    def __init__(
        self,
        rt: Runtime,
        signing_secret: str,
        metrics_token: str | None = None,
        env: Mapping[str, str] | None = None,
        twilio: TwilioInbound | None = None,
    ) -> None:
        if rt.slack is None:
            raise SettingsError("tocsin web talks to Slack: unset TOCSIN_PAGER or set it to slack")
        self.rt = rt
        self.slack = SlackRequestHandler(
            build_app(rt, signing_secret=signing_secret, client=rt.slack)
        )
        self.metrics = metrics.registry(rt.store)
        self.metrics_token = metrics_token
        self.intake = Intake(rt.catalog, rt.alert_store, rt.queue, env or {})
        self.pagerduty = PagerDutyWebhooks(rt.engine, env or {})
        self.calendars = CalendarFeeds(rt.oncall.catalog, rt.settings.calendar_secret)
        self.acks = AckPages(rt.engine, AckLinks(rt.store.markers, rt.settings.ack_link_secret))
        self.twilio = twilio  # None: no Twilio account, or nothing yet to match replies with

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        refused = web_limits.refuse(environ, start_response)
        if refused is not None:
            return refused
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/slack/events" and method == "POST":
            return self.slack(environ, start_response)
        if path.startswith(ALERTS):
            body = _body(environ) if method == "POST" else b""
            status, answer = self.intake.handle(path[len(ALERTS) :], method, environ, body)
            return json_answer(start_response, status, answer)
        if path.startswith(ACK_PATH) and method in ("GET", "POST"):
            token = path[len(ACK_PATH) :]
            shown = self.acks.show(token) if method == "GET" else self.acks.confirm(token)
            headers = [*HTML_HEADERS, ("Content-Length", str(len(shown.body)))]
            start_response(f"{shown.status} {HTTPStatus(shown.status).phrase}", headers)
            return [shown.body]
        if self.twilio is not None and self.twilio.handles(path) and method == "POST":
            return self._twilio(self.twilio, path, environ, start_response)
        if path == PAGERDUTY_WEBHOOKS:
            body = _body(environ) if method == "POST" else b""
            signature = str(environ.get("HTTP_X_PAGERDUTY_SIGNATURE", ""))
            status, answer = self.pagerduty.handle(method, signature, body)
            return json_answer(start_response, status, answer)
        if path == "/healthz":
            return json_answer(start_response, 200, {"ok": True})
        if path == "/metrics" and method == "GET":
            if not self._may_scrape(environ):
                error = {"ok": False, "error": "send Authorization: Bearer <TOCSIN_METRICS_TOKEN>"}
                return json_answer(start_response, 401, error, [("WWW-Authenticate", "Bearer")])
            data, content_type = metrics.exposition(self.metrics)
            start_response(
                "200 OK", [("Content-Type", content_type), ("Content-Length", str(len(data)))]
            )
            return [data]
        if path.startswith("/calendar/") and method == "GET":
            feed = self.calendars.answer(path, str(environ.get("QUERY_STRING", "")))
            headers = [("Content-Type", feed.content_type), ("Content-Length", str(len(feed.body)))]
            start_response(f"{feed.status} {'OK' if feed.status == 200 else 'Not Found'}", headers)
            return [feed.body]
        if path == "/readyz":
            ok, checks = readiness(self.rt, self.rt.settings.watchdog_after_s)
            return json_answer(start_response, 200 if ok else 503, {"ok": ok, **checks})
        return json_answer(start_response, 404, {"ok": False, "error": "not_found"})

    def start_watchdog(self) -> Watchdog:
        """Start this process's watchdog thread (bot.watchdog): once per gunicorn worker."""
        settings = self.rt.settings
        config = WatchdogConfig(settings.watchdog_after_s)
        destinations = destinations_from(settings, self.rt.slack)
        state, store = WatchdogState(self.rt.r), self.rt.store
        watchdog = Watchdog(state, self.rt.queue, config, destinations, None, store.replicated)
        watchdog.start()
        return watchdog

    def _twilio(
        self, twilio: TwilioInbound, path: str, environ: dict[str, Any], start: StartResponse
    ) -> Iterable[bytes]:
        form = dict(parse_qsl(_body(environ).decode("utf-8", "replace"), keep_blank_values=True))
        signature = str(environ.get("HTTP_X_TWILIO_SIGNATURE", ""))
        answer = twilio.handle(path, str(environ.get("QUERY_STRING", "")), form, signature)
        data = answer.body.encode("utf-8")
        start(
            f"{answer.status} {HTTPStatus(answer.status).phrase}",
            [("Content-Type", answer.content_type), ("Content-Length", str(len(data)))],
        )
        return [data]

    def _may_scrape(self, environ: dict[str, Any]) -> bool:
        if self.metrics_token is None:
            return True
        given = str(environ.get("HTTP_AUTHORIZATION", ""))
        expected = f"Bearer {self.metrics_token}"
        return hmac.compare_digest(given.encode(), expected.encode())


def _body(environ: dict[str, Any]) -> bytes:
    """The request body (its length is known: bot.web_limits has sized a chunked one)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length > 0 else b""


def make_wsgi(settings: Settings) -> WebApp:
    if not settings.slack_signing_secret:
        raise SettingsError("SLACK_SIGNING_SECRET is not set (Basic Information → Signing Secret)")
    if settings.pager != "slack":
        raise SettingsError("tocsin web talks to Slack: unset TOCSIN_PAGER or set it to slack")
    slack_client(settings)  # fail fast on a missing token
    destinations_from(settings, None)  # and on a watchdog PagerDuty service not defined
    # the config's files are looked at once a second, not on every request (CatalogSource)
    rt = Runtime.build(settings, inline_delivery=False, config_recheck_s=1.0)
    # an SMS reply or a keypress finds its page in the book the worker's pager writes
    twilio = TwilioInbound.from_env(os.environ, ReplyBook(rt.store), rt.engine)
    return WebApp(rt, settings.slack_signing_secret, settings.metrics_token, os.environ, twilio)


class Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, bind: str, workers: int, threads: int) -> None:
        self.settings = settings
        self.options = {
            "bind": bind,
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> WebApp:
        app = make_wsgi(self.settings)  # in each worker: no client is shared across a fork
        app.start_watchdog()
        # What the app built to live for good (modules, config, Bolt's listeners) leaves the
        # collector's view: a full collection then scans only what requests made since, and
        # no longer stalls every request thread of the worker for ~100 ms (BENCHMARKS.md).
        gc.collect()
        gc.freeze()
        return app


def run_web(settings: Settings, bind: str, workers: int = 2, threads: int = 8) -> int:
    make_wsgi(settings)  # validate settings (and reach Redis) before forking
    Server(settings, bind, workers, threads).run()
    return 0
