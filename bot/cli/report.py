"""`tocsin report` and `tocsin export`: the CLI side of the learning loop."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import redis

from bot import clock
from bot.config import ConfigError, load_catalog
from bot.config.learning import LearningConfig
from bot.config.settings import Settings, SettingsError
from bot.domain.catalog import Catalog
from bot.domain.drills import DrillResult, per_person
from bot.domain.durations import DurationError, parse_duration
from bot.domain.metrics import Summary
from bot.domain.milestones import Facts
from bot.domain.words import count
from bot.drills.report import LAST_DRILLS
from bot.learning.report.html import by_name, figures, render
from bot.learning.report.synthetic import synthetic_facts
from bot.learning.review import Drafts
from bot.redaction import redact_text
from bot.render.drills import report_lines
from bot.runtime import build_directory, redis_target
from bot.slack_api.client import slack_client
from bot.slack_api.directory import Directory, StaticDirectory
from bot.state.drills import DrillResults
from bot.state.learning_store import LearningStore
from bot.state.store import Store
from bot.state.target import RedisTarget, open_redis

DEFAULT_SEVERITIES = ("sev1", "sev2", "sev3")


def _store(settings: Settings) -> Store:
    return reach(redis_target(settings))


def _catalog(settings: Settings) -> Catalog:
    try:
        return load_catalog(settings.config_in_use)
    except ConfigError:
        return Catalog()


def people(settings: Settings) -> Directory:
    """Names for what the CLI writes: Slack's when SLACK_BOT_TOKEN is set, else the
    TOCSIN_DIRECTORY_FILE's, else none (ids stand in)."""
    talks = settings.pager == "slack" and settings.slack_bot_token
    return build_directory(settings, slack_client(settings) if talks else None)


def summary_lines(summary: Summary) -> list[str]:
    lines = [
        f"{count(summary.incidents, 'incident')}, {count(summary.pages, 'page')}, "
        f"{count(summary.excluded, 'drill')}/excluded left out"
    ]
    for r in summary.rows:

        def m(v: float | None) -> str:
            return "-" if v is None else f"{v / 60:.1f} min"

        lines.append(
            f"{r.severity}: {count(r.incidents, 'incident')}, {count(r.pages, 'page')}, "
            f"MTTA {m(r.tta.mean)} "
            f"(median {m(r.tta.median)}), time to contain {m(r.ttc.mean)}, "
            f"MTTR {m(r.ttr.mean)} (median {m(r.ttr.median)}, p90 {m(r.ttr.p90)})"
        )
    return lines


def run_report(
    since: str,
    out: Path,
    synthetic: int | None,
    seed: int,
    stdout: TextIO,
    env: dict[str, str] | None = None,
    sample_people: Path | None = None,
) -> int:
    """Write the HTML report (`sample_people`: the directory a synthetic history names)."""
    env = dict(os.environ) if env is None else env
    try:
        window = parse_duration(since)
    except DurationError as exc:
        raise SettingsError(f"--since: {exc}") from None
    config = LearningConfig.from_env(env)
    until = clock.now()
    start = until - window
    severities: Sequence[str] = DEFAULT_SEVERITIES
    facts: list[Facts]
    directory: Directory
    drills: list[DrillResult] = []
    if synthetic is not None:
        if synthetic < 1:
            raise SettingsError("--synthetic needs a positive number of incidents")
        facts = synthetic_facts(synthetic, until, max(1, window.days), seed)
        title = f"Incident metrics (synthetic history of {count(synthetic, 'incident')})"
        directory = (
            StaticDirectory.from_file(sample_people) if sample_people else StaticDirectory.empty()
        )
    else:
        settings = Settings.from_env(env)
        plain = _store(settings)
        store = LearningStore(plain)
        facts = [f for _, f in store.history(start.timestamp(), until.timestamp() + 1)]
        drills = DrillResults(plain.r).last(LAST_DRILLS, since=start.timestamp())
        severities = _catalog(settings).tier_names or DEFAULT_SEVERITIES
        title = "Incident metrics"
        directory = people(settings)
    fig = figures(facts, start, until, severities, config.timezone)
    names = {u: "@" + n for u, *_ in fig.load if (n := directory.user_name(u))}
    fig = by_name(fig, names)
    out.write_text(render(fig, names, title, until), encoding="utf-8")
    print(f"wrote {out}", file=stdout)
    for line in summary_lines(fig.summary):
        print(line, file=stdout)
    if fig.load:
        busiest = ", ".join(f"{names.get(u, u)} {p}" for u, p, _, _ in fig.load[:3])
        print(f"most paged: {busiest}", file=stdout)
    reached = sum(r for _, _, r in fig.last_step)
    print(f"escalations that reached the last step: {reached}", file=stdout)
    if drills:  # a section of their own: no drill is in any figure above

        def name(user: str) -> str:
            return "@" + (directory.user_name(user) or user)

        for line in report_lines(drills, per_person(drills), name):
            print(line, file=stdout)
    return 0


def run_export(
    incident_id: str, fmt: str, out: Path | None, stdout: TextIO, env: dict[str, str] | None = None
) -> int:
    env = dict(os.environ) if env is None else env
    settings = Settings.from_env(env)
    store = _store(settings)
    if store.find(incident_id) is None:
        where = redact_text(redis_target(settings).where)
        raise SettingsError(f"no incident {incident_id!r} in {where}")
    drafts = Drafts(
        store,
        LearningStore(store),
        LearningConfig.from_env(env),
        lambda: _catalog(settings),
        people(settings),
    )
    text = (
        drafts.markdown(incident_id)
        if fmt == "md"
        else json.dumps(drafts.json(incident_id), indent=2) + "\n"
    )
    if out is None:
        stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=stdout)
    return 0


def reach(target: RedisTarget) -> Store:
    """A store on `target`, checked with a PING; SettingsError naming where (password
    masked)."""
    store = Store(open_redis(target))
    try:
        store.ping()
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        reason = redact_text(str(exc))
        where = redact_text(target.where)
        raise SettingsError(f"cannot reach Redis at {where}: {reason}") from None
    return store
