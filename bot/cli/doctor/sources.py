"""The config, and what it names outside: alert sources' heartbeats and calendar feeds."""

from __future__ import annotations

import io
from collections.abc import Iterator

from bot.cli.doctor.checkup import Checkup, Line, fail, ok, warn
from bot.config.check import run_check
from bot.oncall.feeds import FeedSchedules
from bot.state.alerts import AlertStore
from bot.state.icsfeeds import IcsFeeds


def check_config(c: Checkup) -> Iterator[Line]:
    out = io.StringIO()
    directory = c.settings.config_in_use
    if run_check(directory, out) == 0:
        yield ok("config", f"{directory} is valid")
        return
    problems = [line for line in out.getvalue().splitlines() if "warning:" not in line]
    yield fail(
        "config", "; ".join(problems[:5]), f"fix those lines, then `tocsin check {directory}`"
    )


def check_alerts(c: Checkup) -> Iterator[Line]:
    if c.conn is None or c.catalog is None:
        return
    store = AlertStore(c.conn)
    for name, source in sorted(c.catalog.alert_sources.items()):
        label = f"alerts {name}"
        if source.heartbeat is None:
            yield warn(
                label,
                "no heartbeat configured: when it last sent is not recorded",
                "add `heartbeat:` to the source in alerts.yaml",
            )
            continue
        last = store.heartbeat_last(name)
        every = source.heartbeat.every_s
        if last is not None and c.now - last <= every:
            yield ok(label, f"heartbeat {c.now - last:.0f} s ago (every {every} s)")
        else:
            when = "never" if last is None else f"{c.now - last:.0f} s ago"
            yield fail(
                label,
                f"last heartbeat {when}, expected every {every} s",
                f"check the sender's webhook to /alerts/{name} and its token",
            )


def check_calendars(c: Checkup) -> Iterator[Line]:
    if c.conn is None or c.catalog is None:
        return
    catalog = c.catalog
    feeds = FeedSchedules(lambda: catalog, IcsFeeds(c.conn), c.settings.config_dir, None)
    for schedule, state in sorted(feeds.status().items()):
        label = f"calendar {schedule}"
        if state == "ok":
            yield ok(label, "loaded")
        else:
            yield fail(label, state, "check the schedule's `source:` URL; a worker reads it")
