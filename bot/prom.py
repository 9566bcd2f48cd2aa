"""Prometheus metrics for `GET /metrics`, computed from Redis at scrape time.

Every gunicorn worker answers scrapes the same way because nothing lives in process
memory except a cache of figures that cannot change (resolved incidents): a custom
Collector reads incidents and the shared counters hash (`bot.counters`) on each scrape.

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
"""

from __future__ import annotations

import contextlib
import json
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
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot import counters
from bot.domain.incident import Incident, Status
from bot.domain.milestones import excluded
from bot.store import Store

TTA_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0)
_TIMELINE = {
    "paged": ("pages_sent", "Pages delivered to a person."),
    "page_failed": ("page_failures", "Page delivery attempts that failed."),
    "acknowledged": ("acknowledgements", "Incidents acknowledged."),
    "exhausted": ("escalations_exhausted", "Escalation policies that ran out of steps."),
}
_Row = tuple[str, str, bool, float | None]  # severity, status, excluded, seconds to ack


class TocsinCollector:
    """Reads incident figures and counters from Redis on every scrape."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._resolved: dict[str, _Row] = {}

    def _rows(self) -> list[_Row]:
        ids = [str(i) for i in self.store.r.zrange(self.store.all_key, 0, -1)]
        wanted = [i for i in ids if i not in self._resolved]
        rows = [self._resolved[i] for i in ids if i in self._resolved]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            docs = self.store.r.mget([self.store.incident_key(i) for i in chunk])
            for incident_id, doc in zip(chunk, docs, strict=True):
                if doc is None:
                    continue
                inc = Incident.from_dict(json.loads(doc))
                row = (inc.severity, inc.status.value, excluded(inc), _tta(inc))
                rows.append(row)
                if inc.status is Status.RESOLVED:
                    self._resolved[incident_id] = row
        return rows

    def collect(self) -> Iterator[Metric]:
        rows = self._rows()
        incidents = GaugeMetricFamily(
            "tocsin_incidents",
            "Incidents by severity and status (drills and excluded incidents left out).",
            labels=["severity", "status"],
        )
        by = Counter((sev, status) for sev, status, skip, _ in rows if not skip)
        for (sev, status), n in sorted(by.items()):
            incidents.add_metric([sev, status], n)
        yield incidents
        yield _histogram([(sev, tta) for sev, _, skip, tta in rows if not skip and tta is not None])
        yield from _counters(list(counters.read(self.store.r)))


def _tta(inc: Incident) -> float | None:
    if inc.acknowledged_at is None:
        return None
    return max(0.0, (inc.acknowledged_at - inc.declared_at).total_seconds())


def _histogram(values: list[tuple[str, float]]) -> Metric:
    family = HistogramMetricFamily(
        "tocsin_time_to_acknowledge_seconds",
        "Seconds from declaration to the first acknowledgement.",
        labels=["severity"],
    )
    for sev in sorted({s for s, _ in values}):
        got = [v for s, v in values if s == sev]
        buckets: list[tuple[str, float]] = [
            (str(b), float(sum(1 for v in got if v <= b))) for b in TTA_BUCKETS
        ]
        buckets.append(("+Inf", float(len(got))))
        family.add_metric([sev], buckets, sum_value=sum(got))
    return family


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


class _CountRateLimits(RetryHandler):
    """First in the client's retry handlers: counts every 429, never retries itself."""

    def __init__(self, conn: redis.Redis) -> None:
        super().__init__(max_retry_count=0)
        self.conn = conn

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            method = request.url.rstrip("/").rsplit("/", 1)[-1]
            with contextlib.suppress(redis.RedisError):
                counters.incr(self.conn, "slack_429", method=method)
        return False


def instrument_slack(client: WebClient, conn: redis.Redis) -> WebClient:
    """Count the client's failed calls (by method and error) and its 429s in Redis."""
    client.retry_handlers = [_CountRateLimits(conn), *client.retry_handlers]
    call = client.api_call

    def counted(api_method: str, **kwargs: Any) -> Any:
        try:
            return call(api_method, **kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            with contextlib.suppress(redis.RedisError):
                counters.incr(conn, "slack_error", method=api_method, error=error)
            raise

    client.api_call = counted  # type: ignore[method-assign]
    return client
