"""The HTML report of a 200-incident history, rendered in headless chromium: its charts show."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time

from bot.cli.report import run_report

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
CHARTS = ("chart-mtta", "chart-mttr", "chart-services", "chart-load", "chart-last-step")

pytestmark = pytest.mark.browser


@pytest.fixture
def report(tmp_path: Path) -> tuple[Path, str]:
    out = ARTIFACTS / "report.html"
    ARTIFACTS.mkdir(exist_ok=True)
    printed = io.StringIO()
    with freeze_time(datetime(2026, 3, 31, 12, 0, tzinfo=UTC)):
        assert (
            run_report("90d", out, 200, 7, printed, env={"TOCSIN_TIMEZONE": "Europe/Stockholm"})
            == 0
        )
    return out, printed.getvalue()


def test_report_renders_every_chart_in_chromium(report: tuple[Path, str]) -> None:
    """Five inline-SVG charts with drawn lines and bars, a summary table, no page errors; screenshot saved."""
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed: apt-get install chromium (.ci/run does this)"
        )
    from playwright.sync_api import expect, sync_playwright

    path, printed = report
    assert "sev1:" in printed
    assert "incidents" in printed
    html = path.read_text()
    assert "<script" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        tab = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto(path.as_uri())
        for test_id in CHARTS:
            chart = tab.get_by_test_id(test_id)
            expect(chart).to_be_visible()
            box = chart.bounding_box()
            assert box is not None
            assert box["width"] > 300
            assert box["height"] > 100
        assert (
            tab.locator("[data-testid=chart-mtta] polyline").count() >= 3
        )  # one line per severity
        assert tab.locator("[data-testid=chart-services] rect").count() >= 6
        assert tab.locator("[data-testid=chart-load] rect").count() >= 6
        expect(tab.get_by_test_id("summary-table")).to_contain_text("SEV1")
        tab.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    assert errors == []
    assert (ARTIFACTS / "report.png").stat().st_size > 20_000
