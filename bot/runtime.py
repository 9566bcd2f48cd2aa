"""The process factory: builds clients and services from Settings, never at import time."""

from __future__ import annotations

import fnmatch
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import redis
import structlog
from rq import Queue
from slack_sdk import WebClient

from bot.alerts.heartbeat import Heartbeats
from bot.alerts.service import AlertService
from bot.config import ConfigError, load_catalog
from bot.config.learning import LearningConfig
from bot.config.location import config_dir_in_use
from bot.config.runbooks import load_runbooks
from bot.config.scenarios import ScenarioDirectory
from bot.config.settings import Settings, SettingsError
from bot.containment.service import Containment
from bot.containment.webhook import Webhook
from bot.domain.catalog import Catalog
from bot.domain.runbook import RunbookIndex
from bot.drills.inject import Injects
from bot.drills.report import DrillReports
from bot.drills.schedule import ScheduledDrills
from bot.drills.selftest import SelfTests
from bot.drills.service import Drills
from bot.incident.channel import ChannelService, HeaderRefresh
from bot.incident.commands import Engine
from bot.incident.delivery import Delivery
from bot.incident.escalation import Escalation
from bot.incident.updates import Updates
from bot.learning.services import Learning, build_learning, review_window
from bot.notify.links import email_links
from bot.notify.pager import NotifyPager
from bot.notify.registry import build_methods, builders
from bot.oncall.changes import ScheduleEditor
from bot.oncall.feeds import FeedSchedules
from bot.oncall.handoff import Handoffs
from bot.paging import Pager
from bot.paging.recording import RecordingPager
from bot.paging.slack_dm import SlackPager
from bot.slack_api.client import slack_client
from bot.slack_api.directory import Directory, SlackDirectory, StaticDirectory
from bot.slack_api.pacing import Pacer
from bot.state.alerts import AlertStore
from bot.state.calls import CallBook
from bot.state.drill_timers import DrillTimers
from bot.state.drills import DrillResults
from bot.state.handoffs import HandoffTimers, Notes
from bot.state.icsfeeds import IcsFeeds
from bot.state.leases import Leases
from bot.state.oncall import ScheduleChanges
from bot.state.own_rules import OwnRules
from bot.state.replicas import ReplicaWait
from bot.state.replies import ReplyBook
from bot.state.selftests import SelfTestRuns
from bot.state.store import Store
from bot.state.target import RedisTarget, open_redis
from bot.state.timers import Timers, make_queue
from bot.state.write_limits import WriteLimiter

log = structlog.get_logger(__name__)


class CatalogSource:
    """The config directory, reloaded when a file changes; a bad edit keeps the last good one.

    The directory is chosen again on each call (`config_dir_in_use`): a volume mounted over
    an empty TOCSIN_CONFIG_DIR takes over from the fallback baked into the image."""

    def __init__(
        self, directory: Path, fallback: Path | None = None, recheck_s: float = 0.0
    ) -> None:
        """`recheck_s`: look at the files at most this often (0: on every call). The web
        process reads the catalog on every command, a stat per file each time (seen in its
        profiles, docs/BENCHMARKS.md), so it looks once a second: an edit takes effect
        within that second."""
        self.configured, self.fallback = directory, fallback
        self.recheck_s = recheck_s
        self._checked = time.monotonic()
        self.directory = config_dir_in_use(directory, fallback)
        self._stamp: tuple[tuple[str, float], ...] | None = None
        # (the directory, its mtime, its YAML files): listed again only when either moves
        self._listed: tuple[str, int, list[str]] = ("", -1, [])
        self._catalog = load_catalog(self.directory)  # the first load must succeed
        self._stamp = self._current_stamp()
        self.last_error: ConfigError | None = None

    def _current_stamp(self) -> tuple[tuple[str, float], ...]:
        """The YAML files and their mtimes. This runs on every command, so the directory is
        listed again only when its own mtime moves (a file added, removed or renamed, which
        an editor's atomic save also does); otherwise it is one stat per file."""
        where = str(self.directory)
        listed = os.stat(where).st_mtime_ns
        if (where, listed) != self._listed[:2]:
            with os.scandir(where) as entries:
                names = [e.path for e in entries if fnmatch.fnmatch(e.name, "*.y*ml")]
                names = [path for path in names if os.path.isfile(path)]
            self._listed = (where, listed, sorted(names))
        stamp = []
        for path in self._listed[2]:
            try:
                stamp.append((path, os.stat(path).st_mtime))
            except FileNotFoundError:  # removed since the listing: list again next time
                self._listed = ("", -1, [])
        return tuple(stamp)

    def __call__(self) -> Catalog:
        if self.recheck_s:
            now = time.monotonic()
            if now - self._checked < self.recheck_s:
                return self._catalog
            self._checked = now
        if self.fallback is not None:  # only then can the directory change
            self.directory = config_dir_in_use(self.configured, self.fallback)
        try:
            stamp = self._current_stamp()
        except OSError:  # the directory went away: keep the last good config
            return self._catalog
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._catalog = load_catalog(self.directory)
                self.last_error = None
                log.info("config_reloaded", directory=str(self.directory))
            except ConfigError as exc:
                self.last_error = exc
                log.error("config_reload_failed_keeping_last_good", problems=str(exc))
        return self._catalog


class RunbookSource:
    """The runbooks directory, reloaded on change; a broken edit keeps the last good index."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._stamp: tuple[tuple[str, float], ...] = ()
        self._index = RunbookIndex(())
        self.last_error: ConfigError | None = None

    def __call__(self) -> RunbookIndex:
        if not self.directory.is_dir():
            return self._index
        stamp = tuple((str(p), p.stat().st_mtime) for p in sorted(self.directory.glob("*.md")))
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._index = load_runbooks(self.directory)
                self.last_error = None
            except ConfigError as exc:
                self.last_error = exc
                log.error("runbooks_reload_failed_keeping_last_good", problems=str(exc))
        return self._index


def build_directory(settings: Settings, slack: WebClient | None) -> Directory:
    """Who is who: Slack when the bot talks to Slack, else `TOCSIN_DIRECTORY_FILE` (the
    sandbox's workspace format), else nobody."""
    if slack is not None:
        return SlackDirectory(slack)
    if settings.directory_file:
        return StaticDirectory.from_file(settings.directory_file)
    return StaticDirectory.empty()


def redis_target(settings: Settings) -> RedisTarget:
    """Where the settings say Redis is; SettingsError when they name no Redis at all."""
    if not settings.redis_configured:
        raise SettingsError(
            "REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0), nor REDIS_SENTINELS"
        )
    return RedisTarget(
        url=settings.redis_url,
        sentinels=settings.redis_sentinels,
        master=settings.redis_sentinel_master,
        password=settings.redis_password,
        sentinel_password=settings.redis_sentinel_password,
        tls=settings.redis_tls,
    )


@dataclass
class Runtime:
    settings: Settings
    r: redis.Redis  # decode_responses=True, for the store
    rq_redis: redis.Redis  # raw bytes, as rq requires
    queue: Queue
    store: Store
    catalog: CatalogSource
    escalation: Escalation
    engine: Engine
    slack: WebClient | None
    updates: Updates
    runbooks: RunbookSource
    channels: ChannelService | None
    learning: Learning
    alerts: AlertService
    heartbeats: Heartbeats
    alert_store: AlertStore
    oncall: ScheduleEditor
    handoffs: Handoffs
    drills: Drills
    drill_schedule: ScheduledDrills
    self_tests: SelfTests
    injects: Injects
    containment: Containment

    @classmethod
    def build(
        cls,
        settings: Settings,
        owner: str | None = None,
        *,
        inline_delivery: bool = True,
        learning_config: LearningConfig | None = None,
        config_recheck_s: float = 0.0,
    ) -> Runtime:
        """Everything of one process, in order (`learning_config`: instead of the TOCSIN_*
        learning variables; `config_recheck_s`: see `CatalogSource`)."""
        target = redis_target(settings)
        conn = open_redis(target)
        rq_conn = open_redis(target, decode_responses=False, socket_timeout=30)  # rq wants bytes
        queue = make_queue(rq_conn, settings.queue)
        store = Store(conn)
        store.replicas = ReplicaWait(conn, settings.redis_wait_replicas, settings.redis_wait_ms)
        catalog = CatalogSource(settings.config_dir, settings.config_fallback, config_recheck_s)
        slack = (  # paced through Redis, its failed calls and 429s counted for /metrics
            slack_client(settings, Pacer(conn), counts=conn) if settings.pager == "slack" else None
        )
        pager: Pager
        directory = build_directory(settings, slack)
        if slack is not None:
            pager = SlackPager(slack)
        else:
            delay = float(os.environ.get("TOCSIN_RECORDING_DELAY_S", "0") or 0)
            pager = RecordingPager(conn, delay)
        # pages by email, SMS, ... beside the Slack DM, by the methods whose settings are set
        methods = build_methods(settings, os.environ, builders(CallBook(conn)))
        pager = NotifyPager(pager, methods, ReplyBook(store), ack_link=email_links(settings))
        timers = Timers(queue)
        runbooks = RunbookSource(settings.runbooks_dir)
        limiter = WriteLimiter(conn, settings.writes_per_minute, settings.writes_burst)
        # Who is on call: the YAML with the overrides and swaps made from Slack on top.
        feeds = FeedSchedules(catalog, IcsFeeds(conn), settings.config_dir, slack)
        oncall = ScheduleEditor(catalog, ScheduleChanges(conn), directory, limiter, feeds)
        handoffs = Handoffs(oncall.catalog, store, HandoffTimers(queue), Notes(queue), slack)
        owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        channels = (
            ChannelService(
                store,
                slack,
                oncall.catalog,
                directory,
                timers,
                runbooks,
                owner,
                settings.claim_lease_s,
            )
            if slack is not None
            else None
        )
        escalation = Escalation(
            store=store,
            catalog=oncall.catalog,
            config=catalog,
            directory=directory,
            timers=timers,
            delivery=Delivery(store, pager, timers, owner, settings.claim_lease_s),
            headers=HeaderRefresh(timers, channels, inline=inline_delivery),
            inline_delivery=inline_delivery,
            methods=methods.names,
            own_rules=OwnRules(conn),
        )
        window = review_window(store, escalation, queue, learning_config)
        results = DrillResults(conn)
        reports = DrillReports(store, results, timers)
        engine = Engine(
            escalation, limiter, settings.retention_s, on_resolve=[window.open, reports.resolved]
        )
        alert_store = AlertStore(conn)
        scenarios = ScenarioDirectory(settings.runbooks_dir / "drills")
        drill_timers = DrillTimers(queue)
        drills = Drills(engine, oncall.catalog, scenarios, drill_timers)
        self_tests = SelfTests(
            oncall.catalog,
            SelfTestRuns(conn, store.replicated),
            results,
            drill_timers,
            store.markers,
            slack,
            owner,
            settings.claim_lease_s,
        )
        containment = Containment(engine, runbooks, slack, os.environ, Webhook())
        return cls(
            settings,
            conn,
            rq_conn,
            queue,
            store,
            catalog,
            escalation,
            engine,
            slack,
            Updates(engine),
            runbooks,
            channels,
            build_learning(engine, window, catalog, directory),
            AlertService(engine, alert_store, Leases(conn), owner, containment),
            Heartbeats(engine, alert_store),
            alert_store,
            oncall,
            handoffs,
            drills,
            ScheduledDrills(oncall.catalog, drills, drill_timers, store.markers, self_tests),
            self_tests,
            Injects(store, scenarios, timers),
            containment,
        )
