"""Milestones, facts and figures, on frozen time; incidents across midnight and DST changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time

from bot.domain.incident import Incident, Roles, acknowledge, mitigate, resolve
from bot.domain.metrics import figure, last_step, pages_per_person, per_service, summarize, trends
from bot.domain.milestones import Facts, MilestoneError, check_correction, facts, parse_when
from bot.domain.policy import Policy, Step, Target
from bot.domain.timeline import Entry, Kind

POLICY = Policy(
    "checkout",
    ("checkout",),
    tuple(Step((Target.parse(f"user:{u}"),), 300) for u in ("U1", "U2", "U3")),
)
Row = tuple[Entry, Mapping[str, Any]]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def incident(
    declared: datetime, sev: str = "sev2", service: str = "checkout", **kw: Any
) -> Incident:
    return Incident(
        id=f"{declared:%Y%m%d%H%M}",
        title="Checkout errors",
        service=service,
        severity=sev,
        declared_by="U0ERIN001",
        declared_at=declared,
        roles=Roles(commander="U0ERIN001"),
        policy=POLICY,
        **kw,
    )


def paged(when: datetime, user: str, step: int, loop: int = 0) -> list[Row]:
    return [
        (
            Entry(when, Kind.ESCALATION_STEP, "tocsin", f"step {step + 1}"),
            {"step": step, "loop": loop},
        ),
        (
            Entry(when, Kind.PAGED, "tocsin", f"paged <@{user}>"),
            {"user": user, "step": step, "loop": loop},
        ),
    ]


def lifecycle(declared: datetime, ack_s: float, mit_s: float, res_s: float, **kw: Any) -> Incident:
    inc = incident(declared, **kw)
    inc = acknowledge(inc, "U1", declared + timedelta(seconds=ack_s))
    inc = mitigate(inc, "U1", declared + timedelta(seconds=mit_s))
    return resolve(inc, "U0ERIN001", declared + timedelta(seconds=res_s))


class TestMilestones:
    def test_durations_are_stopwatch_time_across_midnight(self) -> None:
        """Declared 23:50, acked 00:04, mitigated 00:40, resolved 02:10 next day: 14m, 50m, 2h20m."""
        inc = lifecycle(at("2026-03-09T23:50:00+00:00"), 14 * 60, 50 * 60, 140 * 60)
        f = facts(inc, paged(at("2026-03-09T23:50:02+00:00"), "U1", 0))
        assert (f.tta, f.ttc, f.ttr) == (840.0, 3000.0, 8400.0)
        assert f.first_page_at == at("2026-03-09T23:50:02+00:00")

    def test_durations_across_spring_forward_count_real_seconds(self) -> None:
        """Stockholm 01:30 CET to 03:30 CEST on 29 March 2026 is one hour, not two."""
        declared = at("2026-03-29T01:30:00+01:00")
        inc = lifecycle(declared, 600, 1800, 3600)
        assert inc.resolved_at == at("2026-03-29T03:30:00+02:00")
        assert facts(inc, []).ttr == 3600.0

    def test_durations_across_fall_back_count_real_seconds(self) -> None:
        """New York 01:30 EDT to 01:30 EST on 1 November 2026 is one hour (the clock repeats)."""
        declared = at("2026-11-01T01:30:00-04:00")
        inc = lifecycle(declared, 60, 120, 3600)
        assert inc.resolved_at == at("2026-11-01T01:30:00-05:00")
        assert facts(inc, []).ttr == 3600.0

    def test_escalations_and_last_step_come_from_the_timeline(self) -> None:
        """Steps after the first count as escalations; paging step 3 of 3 reaches the last step."""
        t0 = at("2026-03-10T10:00:00+00:00")
        rows = paged(t0, "U1", 0) + paged(t0 + timedelta(minutes=5), "U2", 1)
        rows += paged(t0 + timedelta(minutes=10), "U3", 2)
        f = facts(lifecycle(t0, 700, 800, 900), rows)
        assert f.escalations == 2
        assert f.reached_last_step
        assert [p.user for p in f.pages] == ["U1", "U2", "U3"]

    def test_drill_and_marked_incidents_are_excluded(self) -> None:
        """drill=True implies exclude_from_metrics; the mark survives a round trip."""
        t0 = at("2026-03-10T10:00:00+00:00")
        drill = incident(t0, drill=True)
        assert facts(drill, []).excluded
        assert Incident.from_dict(drill.to_dict()).exclude_from_metrics
        marked = incident(t0, exclude_from_metrics=True)
        assert facts(Incident.from_dict(marked.to_dict()), []).excluded
        assert not facts(incident(t0), []).excluded

    def test_corrections_win_and_are_marked(self) -> None:
        """A corrected ack replaces the recorded one in every figure."""
        t0 = at("2026-03-10T10:00:00+00:00")
        inc = lifecycle(t0, 900, 1000, 2000)
        f = facts(inc, [], {"ack": t0 + timedelta(seconds=120)})
        assert f.tta == 120.0
        assert f.corrected == ("ack",)


class TestCorrections:
    @freeze_time("2026-03-10T12:00:00Z")
    def test_local_wall_time_in_the_configured_zone(self) -> None:
        """`2026-03-10 11:05` in Stockholm (CET) is 10:05 UTC; with Z it is UTC."""
        assert parse_when("2026-03-10 11:05", "Europe/Stockholm") == at("2026-03-10T10:05:00+00:00")
        assert parse_when("2026-03-10 11:05Z", "Europe/Stockholm") == at(
            "2026-03-10T11:05:00+00:00"
        )

    def test_a_time_skipped_by_spring_forward_is_refused(self) -> None:
        """02:30 does not exist in Stockholm on 29 March 2026."""
        with pytest.raises(MilestoneError, match="does not exist"):
            parse_when("2026-03-29 02:30", "Europe/Stockholm")

    def test_a_time_repeated_by_fall_back_is_refused(self) -> None:
        """02:30 happens twice in Stockholm on 25 October 2026: ask for UTC."""
        with pytest.raises(MilestoneError, match="happens twice"):
            parse_when("2026-10-25 02:30", "Europe/Stockholm")

    @freeze_time("2026-03-10T12:00:00Z")
    def test_order_future_and_unreached_milestones_are_refused(self) -> None:
        """Ack after mitigation, a future time, before declaration, and an unreached milestone."""
        t0 = at("2026-03-10T10:00:00+00:00")
        now = datetime.now(UTC)
        inc = lifecycle(t0, 600, 1200, 1800)
        assert check_correction(inc, {}, "ack", t0 + timedelta(minutes=2), now)[
            "ack"
        ] == t0 + timedelta(minutes=2)
        with pytest.raises(MilestoneError, match="would come after"):
            check_correction(inc, {}, "ack", t0 + timedelta(minutes=25), now)
        with pytest.raises(MilestoneError, match="future"):
            check_correction(inc, {}, "resolved", now + timedelta(minutes=1), now)
        with pytest.raises(MilestoneError, match="before the declaration"):
            check_correction(inc, {}, "ack", t0 - timedelta(minutes=1), now)
        with pytest.raises(MilestoneError, match="no resolved milestone"):
            check_correction(incident(t0), {}, "resolved", t0 + timedelta(minutes=1), now)


def history() -> list[Facts]:
    """Four sev1/sev2 incidents in the week of 9 March 2026, a drill, and one outside the window."""
    rows: list[Facts] = []
    t = at("2026-03-09T23:55:00+00:00")  # across midnight
    rows.append(facts(lifecycle(t, 300, 900, 3600, sev="sev1"), paged(t, "U1", 0)))
    t = at("2026-03-10T09:00:00+00:00")
    rows.append(facts(lifecycle(t, 60, 600, 1800, sev="sev1"), paged(t, "U2", 0)))
    t = at("2026-03-11T02:00:00+00:00")  # a night page
    rows.append(
        facts(
            lifecycle(t, 600, 1200, 7200, service="search"),
            paged(t, "U1", 0) + paged(t + timedelta(minutes=5), "U2", 1),
        )
    )
    t = at("2026-03-12T14:00:00+00:00")
    rows.append(facts(incident(t), paged(t, "U1", 0)))  # still open, never acked
    t = at("2026-03-12T15:00:00+00:00")
    rows.append(facts(lifecycle(t, 1, 2, 3, drill=True), paged(t, "U3", 0)))
    t = at("2026-01-02T10:00:00+00:00")
    rows.append(facts(lifecycle(t, 5000, 6000, 9000, sev="sev1"), []))
    return rows


class TestFigures:
    @freeze_time("2026-03-13T12:00:00Z")
    def test_summary_per_severity_leaves_out_drills_and_old_incidents(self) -> None:
        """30 days: sev1 MTTA 3m (300 s and 60 s), MTTR 45m; sev2 has one open; the drill is counted aside."""
        until = datetime.now(UTC)
        s = summarize(
            history(), until - timedelta(days=30), until, severities=("sev1", "sev2", "sev3")
        )
        assert [r.severity for r in s.rows] == ["sev1", "sev2"]
        sev1, sev2 = s.rows
        assert (sev1.incidents, sev1.tta.mean, sev1.tta.median, sev1.ttr.mean) == (
            2,
            180.0,
            180.0,
            2700.0,
        )
        assert (sev1.ttc.mean, sev1.pages) == (750.0, 2)
        assert (sev2.incidents, sev2.open, sev2.tta.count, sev2.tta.mean, sev2.pages) == (
            2,
            1,
            1,
            600.0,
            3,
        )
        assert (s.incidents, s.pages, s.excluded) == (4, 5, 1)

    @freeze_time("2026-03-13T12:00:00Z")
    def test_summary_of_one_service(self) -> None:
        """`stats 30d search` counts the one search incident."""
        until = datetime.now(UTC)
        s = summarize(history(), until - timedelta(days=30), until, "search")
        assert s.incidents == 1
        assert s.rows[0].ttr.mean == 7200.0

    def test_figure_percentiles(self) -> None:
        """Mean, median and nearest-rank p90 of ten values; nothing gives an empty figure."""
        f = figure([float(v) for v in range(1, 11)])
        assert (f.count, f.mean, f.median, f.p90) == (10, 5.5, 5.5, 9.0)
        assert figure([None]).count == 0

    def test_weekly_trend_buckets_by_local_week_across_dst(self) -> None:
        """In Stockholm, Sunday 29 March 23:30 local (21:30 UTC, after spring forward) is still week 23 March."""
        late_sunday = at("2026-03-29T21:30:00+00:00")
        monday = at("2026-03-29T22:30:00+00:00")  # 00:30 local on Monday 30 March
        rows = [
            facts(lifecycle(late_sunday, 60, 60, 60), []),
            facts(lifecycle(monday, 120, 120, 120), []),
        ]
        got = trends(
            rows,
            at("2026-03-23T00:00:00+01:00"),
            at("2026-04-06T00:00:00+02:00"),
            "Europe/Stockholm",
        )
        weeks = got["sev2"]
        assert [str(p.week) for p in weeks] == ["2026-03-23", "2026-03-30"]
        assert [(p.incidents, p.mtta) for p in weeks] == [(1, 60.0), (1, 120.0)]

    def test_per_service_load_and_last_step(self) -> None:
        """Incidents per service, pages per person with night pages, policies whose escalation reached the end."""
        rows = history()
        services = dict(per_service(rows))
        assert services["checkout"] == {"sev1": 3, "sev2": 1}
        assert services["search"] == {"sev2": 1}
        load = {r.user: r for r in pages_per_person(rows, "UTC")}
        assert (load["U1"].pages, load["U1"].out_of_hours, load["U1"].acknowledged) == (3, 2, 4)
        assert "U3" not in load  # only the drill paged U3
        assert last_step(rows) == [("checkout", 5, 0)]
        notified = facts(  # a step's PagerDuty service is nobody's on-call load
            lifecycle(at("2026-03-11T10:00:00+00:00"), 60, 61, 62),
            paged(at("2026-03-11T10:00:00+00:00"), "pagerduty:ops", 0),
        )
        assert [r.user for r in pages_per_person([notified], "UTC")] == ["U1"]  # who acked
        long = facts(
            lifecycle(at("2026-03-10T10:00:00+00:00"), 900, 901, 902),
            paged(at("2026-03-10T10:10:00+00:00"), "U3", 2),
        )
        assert last_step([long]) == [("checkout", 1, 1)]
        assert replace(long, excluded=True).excluded
