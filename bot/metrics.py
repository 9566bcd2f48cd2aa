"""Prometheus metrics for `GET /metrics`, read from Redis at scrape time.

Every gunicorn worker answers scrapes the same way because nothing lives in process
memory: a custom Collector reads the incident gauges (`bot.state.gauges`, kept up as incidents
are written) and the shared counters hash (`bot.state.counters`) through `bot.state.figures`,
so a scrape costs the same whatever the number of incidents.

- `tocsin_incidents{severity,status}`: incidents by severity and status (drills and
  incidents marked `exclude_from_metrics` are left out)
- `tocsin_time_to_acknowledge_seconds{severity}`: histogram, declaration to first ack
- `tocsin_pages_sent_total`, `tocsin_page_failures_total`, `tocsin_acknowledgements_total`,
  `tocsin_escalations_total` (steps paged after the first, by timeout or by hand),
  `tocsin_escalations_exhausted_total`, `tocsin_timeline_events_total{kind}`
- `tocsin_actions_refused_total{action,reason}`: commands refused by decision rights
  (`rights`) or the write rate limit (`rate_limit`)
- `tocsin_job_failures_total{job}`, `tocsin_slack_api_errors_total{method,error}`,
  `tocsin_slack_rate_limited_total{method}`
- `tocsin_redis_wait_short_total{what}`: writes that carry a promise (declare, acknowledge, a
  step, a send's attempt...) that no replica confirmed within TOCSIN_REDIS_WAIT_MS
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import redis
from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from rq.job import Job

from bot.state import counters, gauges
from bot.state.figures import Figures
from bot.state.store import Store

_TIMELINE = {
    "paged": ("pages_sent", "Pages delivered to a person."),
    "page_failed": ("page_failures", "Page delivery attempts that failed."),
    "acknowledged": ("acknowledgements", "Incidents acknowledged."),
    "exhausted": ("escalations_exhausted", "Escalation policies that ran out of steps."),
}


class TocsinCollector:
    """Reads the incident gauges and the counters from Redis on every scrape: two hashes
    whose size depends on severities and labels, not on the number of incidents."""

    def __init__(self, store: Store) -> None:
        self.figures = Figures(store)

    def collect(self) -> Iterator[Metric]:
        yield from _incident_families(self.figures.gauges())
        yield from _counters(self.figures.counters())


def _incident_families(values: list[tuple[str, tuple[str, ...], int]]) -> Iterator[Metric]:
    incidents = GaugeMetricFamily(
        "tocsin_incidents",
        "Incidents by severity and status (drills and excluded incidents left out).",
        labels=["severity", "status"],
    )
    for (sev, status), n in sorted((p, n) for name, p, n in values if name == "incidents"):
        if n > 0:
            incidents.add_metric([sev, status], n)
    yield incidents
    family = HistogramMetricFamily(
        "tocsin_time_to_acknowledge_seconds",
        "Seconds from declaration to the first acknowledgement.",
        labels=["severity"],
    )
    per_bucket = {parts: n for name, parts, n in values if name == "tta"}
    sums = {parts[0]: n for name, parts, n in values if name == "tta_ms"}
    for sev in sorted({s for s, _ in per_bucket}):
        seen, buckets = 0, []
        for le in (*map(str, gauges.TTA_BUCKETS), "+Inf"):
            seen += per_bucket.get((sev, le), 0)
            buckets.append((le, float(seen)))
        if seen > 0:
            family.add_metric([sev], buckets, sum_value=sums.get(sev, 0) / 1000)
    yield family


def _counters(rows: list[tuple[str, dict[str, str], int]]) -> Iterator[Metric]:
    families: dict[str, CounterMetricFamily] = {}

    def family(name: str, doc: str, labels: list[str]) -> CounterMetricFamily:
        if name not in families:
            families[name] = CounterMetricFamily(f"tocsin_{name}", doc, labels=labels)
        return families[name]

    for name, _doc in _TIMELINE.values():
        family(name, _doc, [])
    family("escalations", "Escalation steps paged after the first (timeout or by hand).", [])
    events = family("timeline_events", "Timeline entries by kind.", ["kind"])
    jobs = family("job_failures", "Background jobs that raised.", ["job"])
    errors = family("slack_api_errors", "Slack Web API calls that failed.", ["method", "error"])
    limited = family("slack_rate_limited", "Slack Web API answers of HTTP 429.", ["method"])
    refused = family(
        "actions_refused", "Commands refused by rights or the rate limit.", ["action", "reason"]
    )
    short = family(
        "redis_wait_short", "Promised writes no replica confirmed in time (WAIT).", ["what"]
    )
    totals: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for name, labels, value in rows:
        if name == "timeline":
            kind = labels.get("kind", "")
            kinds[kind] += value
            if kind in _TIMELINE:
                totals[_TIMELINE[kind][0]] += value
            if kind == "escalation_step" and labels.get("later") == "true":
                totals["escalations"] += value
        elif name == "job_failure":
            jobs.add_metric([labels.get("job", "")], value)
        elif name == "slack_error":
            errors.add_metric([labels.get("method", ""), labels.get("error", "")], value)
        elif name == "slack_429":
            limited.add_metric([labels.get("method", "")], value)
        elif name == "redis_wait_short":
            short.add_metric([labels.get("what", "")], value)
        elif name == "refused":
            refused.add_metric([labels.get("action", ""), labels.get("reason", "")], value)
    for kind, value in sorted(kinds.items()):
        events.add_metric([kind], value)
    for key in (*(n for n, _ in _TIMELINE.values()), "escalations"):
        families[key].add_metric([], totals[key])
    yield from families.values()


def registry(store: Store) -> CollectorRegistry:
    """A registry of Tocsin's figures only (no process metrics: they differ per worker)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(TocsinCollector(store))
    return reg


def exposition(reg: CollectorRegistry) -> tuple[bytes, str]:
    return generate_latest(reg), CONTENT_TYPE_LATEST


def count_job_failure(job: Job, *exc_info: Any) -> bool:
    """An rq exception handler: count the failure, then let rq's default handling go on."""
    with contextlib.suppress(redis.RedisError):
        counters.incr(job.connection, "job_failure", job=str(job.func_name))
    return True
