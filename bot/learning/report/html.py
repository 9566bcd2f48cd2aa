"""`tocsin report`: one self-contained HTML page of charts (inline SVG and CSS, no scripts).

Charts: MTTA and MTTR trends per severity (weekly), incidents per service by severity,
pages per person (on-call load, out-of-hours share), escalations that reached the last
step per policy; a table of the headline figures per severity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from html import escape

from bot.domain.durations import format_duration
from bot.domain.metrics import Summary, last_step, pages_per_person, per_service, summarize, trends
from bot.domain.milestones import Facts
from bot.learning.report.svg import line_chart, stacked_bars

CSS = """
body{font-family:system-ui,sans-serif;margin:0 auto;padding:24px 24px;max-width:1340px;
color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px} .sub{color:#666;margin:0 0 18px}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
.card{background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:12px;overflow:hidden}
.card svg{max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-size:13px} th,td{padding:6px 8px;text-align:right}
th:first-child,td:first-child{text-align:left} tr:nth-child(even){background:#f4f4f4}
.kpis{display:flex;gap:12px;margin-bottom:16px}
.kpi{background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:10px 14px;min-width:130px}
.kpi b{display:block;font-size:22px}
"""


@dataclass(frozen=True)
class ReportFigures:
    """What the report shows, as numbers (also printed by the CLI)."""

    summary: Summary
    per_service: list[tuple[str, dict[str, int]]]
    load: list[tuple[str, int, int, int]]  # user, pages, acks, out of hours
    last_step: list[tuple[str, int, int]]
    weeks: list[str]
    mtta: dict[str, list[float | None]]  # seconds
    mttr: dict[str, list[float | None]]  # seconds


def figures(
    facts: Sequence[Facts], since: datetime, until: datetime, severities: Sequence[str], tz: str
) -> ReportFigures:
    counted = [f for f in facts if since <= f.declared_at < until]
    trend = trends(counted, since, until, tz)
    order = [s for s in severities if s in trend] + sorted(s for s in trend if s not in severities)
    weeks = [p.week.strftime("%d %b") for p in next(iter(trend.values()), [])]
    return ReportFigures(
        summary=summarize(counted, since, until, None, severities),
        per_service=[(svc, dict(c)) for svc, c in per_service(counted)],
        load=[
            (r.user, r.pages, r.acknowledged, r.out_of_hours) for r in pages_per_person(counted, tz)
        ],
        last_step=last_step(counted),
        weeks=weeks,
        mtta={s: [p.mtta for p in trend[s]] for s in order},
        mttr={s: [p.mttr for p in trend[s]] for s in order},
    )


def by_name(fig: ReportFigures, names: Mapping[str, str]) -> ReportFigures:
    """The on-call load most paged first; ties in the order of the names people read (the
    ids they stand for break ties between equal names), so a report reads the same each run."""
    load = sorted(fig.load, key=lambda r: (-r[1], -r[2], names.get(r[0], r[0]), r[0]))
    return replace(fig, load=load)


UNITS = (("hours", 3600.0), ("minutes", 60.0), ("seconds", 1.0))


def in_unit(
    series: Mapping[str, Sequence[float | None]],
) -> tuple[dict[str, list[float | None]], str]:
    """Durations in seconds, shown in the largest unit the longest of them fills twice over."""
    longest = max((v for vs in series.values() for v in vs if v is not None), default=0.0)
    name, size = next(((n, s) for n, s in UNITS if longest >= 2 * s), UNITS[-1])
    return {k: [None if v is None else v / size for v in vs] for k, vs in series.items()}, name


def _d(seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(round(seconds))


def _table(summary: Summary) -> str:
    head = (
        "<tr><th>Severity</th><th>Incidents</th><th>Pages</th><th>MTTA (mean)</th>"
        "<th>Median time to acknowledge</th><th>Mean time to contain</th><th>MTTR (mean)</th>"
        "<th>Median time to resolve</th><th>90th percentile time to resolve</th></tr>"
    )
    rows = [
        f"<tr><td>{escape(r.severity.upper())}</td><td>{r.incidents}</td><td>{r.pages}</td>"
        f"<td>{_d(r.tta.mean)}</td><td>{_d(r.tta.median)}</td><td>{_d(r.ttc.mean)}</td>"
        f"<td>{_d(r.ttr.mean)}</td><td>{_d(r.ttr.median)}</td><td>{_d(r.ttr.p90)}</td></tr>"
        for r in summary.rows
    ]
    return f'<table data-testid="summary-table">{head}{"".join(rows)}</table>'


def render(fig: ReportFigures, names: Mapping[str, str], title: str, generated: datetime) -> str:
    s = fig.summary
    sevs = [r.severity for r in s.rows]
    reached = sum(r for _, _, r in fig.last_step)
    kpis = [
        ("Incidents", str(s.incidents)),
        ("Pages", str(s.pages)),
        ("Drills / excluded", str(s.excluded)),
        ("Reached last step", str(reached)),
    ]
    load_rows = [
        (names.get(u, u), {"in hours": float(p - late), "out of hours": float(late)})
        for u, p, _, late in fig.load
    ]
    policy_rows = [
        (p, {"reached last step": float(r), "stopped earlier": float(n - r)})
        for p, n, r in fig.last_step
    ]
    mtta, mtta_unit = in_unit(fig.mtta)
    mttr, mttr_unit = in_unit(fig.mttr)
    charts = [
        line_chart("MTTA per severity, weekly", fig.weeks, mtta, mtta_unit, "chart-mtta"),
        line_chart("MTTR per severity, weekly", fig.weeks, mttr, mttr_unit, "chart-mttr"),
        stacked_bars(
            "Incidents per service",
            [(svc, {k: float(v) for k, v in c.items()}) for svc, c in fig.per_service],
            sevs,
            "chart-services",
        ),
        stacked_bars(
            "Pages per person (on-call load)", load_rows, ["in hours", "out of hours"], "chart-load"
        ),
        stacked_bars(
            "Escalations that reached the last step",
            policy_rows,
            ["reached last step", "stopped earlier"],
            "chart-last-step",
        ),
    ]
    cards = "".join(f'<div class="card">{c}</div>' for c in charts)
    kpi_html = "".join(f'<div class="kpi">{escape(k)}<b>{escape(v)}</b></div>' for k, v in kpis)
    period = f"{s.since:%Y-%m-%d} to {s.until:%Y-%m-%d}"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="sub">{escape(period)} · generated '
        f"{generated:%Y-%m-%d %H:%M} UTC · drills and excluded incidents left out</p>"
        f'<div class="kpis">{kpi_html}</div>'
        f'<div class="card" style="margin-bottom:16px">{_table(s)}</div>'
        f'<div class="grid">{cards}</div></body></html>\n'
    )
