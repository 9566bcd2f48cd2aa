"""/metrics' incident figures come from gauges kept up as incidents are written: a scrape
reads the same few bytes whatever the number of incidents, the figures follow every change
the engine makes, and incidents written before the gauges existed (or removed since) are
accounted for once, on the next scrape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis
from freezegun import freeze_time
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.domain.incident import Incident, Roles, Status
from bot.runtime import Runtime
from bot.state import gauges

T0 = datetime(2026, 3, 9, 23, 50, tzinfo=UTC)
ERIN = "U0ERIN001"
Figures = tuple[dict[tuple[str, str], float], dict[str, dict[str, float]]]


def figures(runtime: Runtime) -> Figures:
    """`tocsin_incidents` by (severity, status), and the ack histogram's samples by severity."""
    data, _ = metrics.exposition(metrics.registry(runtime.store))
    families = {f.name: f for f in text_string_to_metric_families(data.decode())}
    incidents = {
        (s.labels["severity"], s.labels["status"]): s.value
        for s in families["tocsin_incidents"].samples
    }
    histogram: dict[str, dict[str, float]] = {}
    for s in families["tocsin_time_to_acknowledge_seconds"].samples:
        key = s.labels.get("le", s.name.rsplit("_", 1)[-1])
        histogram.setdefault(s.labels["severity"], {})[key] = s.value
    return incidents, histogram


def output_bytes(r: redis.Redis) -> int:
    return int(r.info("stats")["total_net_output_bytes"])


def write_open_incidents(runtime: Runtime, count: int) -> None:
    """`count` open sev2 incidents through `Store.put`, half of them acknowledged."""
    store = runtime.store
    for start in range(0, count, 500):
        with store.r.pipeline(transaction=False) as pipe:
            for n in range(start, min(start + 500, count)):
                store.put(
                    Incident(
                        id=f"20260309-{n + 1}",
                        title=f"Checkout errors {n}",
                        service="checkout",
                        severity="sev2",
                        declared_by=ERIN,
                        declared_at=T0,
                        roles=Roles(commander=ERIN),
                        status=Status.ACKNOWLEDGED if n % 2 else Status.TRIGGERED,
                        acknowledged_at=T0 + timedelta(seconds=45) if n % 2 else None,
                    ),
                    pipe,
                )
            pipe.execute()


class TestScrapeCost:
    def test_a_scrape_reads_a_few_kilobytes_with_2000_open_incidents(
        self, runtime: Runtime
    ) -> None:
        """2,000 open incidents: a scrape reads no incident and under 32 KiB from Redis (INFO's own answers included)."""
        write_open_incidents(runtime, 2000)
        figures(runtime)  # a first scrape, as a gunicorn worker's
        r = runtime.r
        gets = r.info("commandstats").get("cmdstat_mget", {}).get("calls", 0)
        before = output_bytes(r)
        incidents, histogram = figures(runtime)
        read = output_bytes(r) - before
        assert incidents == {("sev2", "acknowledged"): 1000.0, ("sev2", "triggered"): 1000.0}
        assert (histogram["sev2"]["60.0"], histogram["sev2"]["count"]) == (1000.0, 1000.0)
        assert read < 32 * 1024, f"{read} bytes from Redis for one scrape"
        assert r.info("commandstats").get("cmdstat_mget", {}).get("calls", 0) == gets


class TestGauges:
    def test_figures_follow_every_change_and_match_a_rebuild(self, runtime: Runtime) -> None:
        """Declare, ack after 14 min, sev2 -> sev1, resolve, reopen; a drill never counts; a rebuild agrees."""
        engine = runtime.engine
        with freeze_time(T0):
            inc = engine.declare(
                title="Checkout errors", service="checkout", severity="sev2", declared_by=ERIN
            )
            engine.declare(title="Slow search", service="search", severity="sev3", declared_by=ERIN)
            engine.declare(
                title="Game day", service="checkout", severity="sev1", declared_by=ERIN, drill=True
            )
        assert figures(runtime)[0] == {("sev2", "triggered"): 1.0, ("sev3", "triggered"): 1.0}
        with freeze_time(T0 + timedelta(minutes=14)):
            assert engine.acknowledge(inc.id, ERIN).ok
        incidents, histogram = figures(runtime)
        assert incidents == {("sev2", "acknowledged"): 1.0, ("sev3", "triggered"): 1.0}
        assert (histogram["sev2"]["600.0"], histogram["sev2"]["900.0"]) == (0.0, 1.0)
        assert histogram["sev2"]["sum"] == 840.0
        with freeze_time(T0 + timedelta(minutes=20)):
            assert engine.change_severity(inc.id, ERIN, "sev1").ok
        with freeze_time(T0 + timedelta(minutes=40)):
            assert engine.resolve(inc.id, ERIN).ok
        incidents, histogram = figures(runtime)
        assert incidents == {("sev1", "resolved"): 1.0, ("sev3", "triggered"): 1.0}
        assert list(histogram) == ["sev1"]  # moved with the severity; the drill is left out
        assert (histogram["sev1"]["count"], histogram["sev1"]["sum"]) == (1.0, 840.0)
        with freeze_time(T0 + timedelta(minutes=41)):
            assert engine.reopen(inc.id, ERIN).ok
        kept = figures(runtime)
        assert kept[0][("sev1", "triggered")] == 1.0
        runtime.r.delete(gauges.ROWS, gauges.GAUGES)
        assert figures(runtime) == kept

    def test_incidents_written_before_the_gauges_and_removed_ones_are_accounted_for(
        self, runtime: Runtime
    ) -> None:
        """Rows lost (as before an upgrade) are rebuilt on the next scrape; a removed incident stops counting."""
        write_open_incidents(runtime, 4)
        store, r = runtime.store, runtime.r
        r.delete(gauges.ROWS, gauges.GAUGES)
        assert figures(runtime)[0] == {("sev2", "acknowledged"): 2.0, ("sev2", "triggered"): 2.0}
        assert r.hlen(gauges.ROWS) == 4
        removed = "20260309-2"  # acknowledged after 45 s
        r.delete(store.incident_key(removed))
        r.zrem(store.all_key, removed)
        incidents, histogram = figures(runtime)
        assert incidents == {("sev2", "acknowledged"): 1.0, ("sev2", "triggered"): 2.0}
        assert histogram["sev2"]["count"] == 1.0
        assert not r.hexists(gauges.ROWS, removed)
