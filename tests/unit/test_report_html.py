"""The HTML report's page: a margin on any window, headings that say what each column is, and
an order that does not change between runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.domain.metrics import Figure, SeverityRow, Summary
from bot.learning.report.html import ReportFigures, by_name, render

T = datetime(2026, 3, 31, tzinfo=UTC)


def figures(load: list[tuple[str, int, int, int]]) -> ReportFigures:
    minutes = Figure(2, 300.0, 240.0, 420.0)
    row = SeverityRow("sev2", 2, minutes, minutes, minutes, 3, 0)
    summary = Summary(T, T, None, (row,), 2, 3, 0)
    return ReportFigures(summary, [], load, [], [], {}, {})


class TestReportPage:
    def test_column_headings_are_distinct_and_say_what_they_measure(self) -> None:
        """No two columns share a heading; each median names its figure."""
        html = render(figures([]), {}, "Incident metrics", T)
        table = re.search(r'<table data-testid="summary-table">(.*?)</table>', html, re.S)
        assert table
        heads = re.findall(r"<th>([^<]*)</th>", table.group(1))
        assert len(heads) == len(set(heads)), heads
        assert "Median time to acknowledge" in heads
        assert "Median time to resolve" in heads

    def test_the_page_keeps_a_margin_on_a_narrow_window(self) -> None:
        """The body has side padding, so text never touches the window's edge."""
        html = render(figures([]), {}, "Incident metrics", T)
        body = re.search(r"body\{([^}]*)\}", html)
        assert body
        assert re.search(r"padding:\s*\d+px\s+\d+px", body.group(1)), body.group(1)

    def test_people_with_equal_load_are_listed_by_name(self) -> None:
        """Most paged first; ties in the order of the names shown, the same every run."""
        load = [("U0ZED", 3, 1, 0), ("U0AMY", 3, 1, 0), ("U0BOB", 5, 0, 0), ("U0CAT", 3, 1, 0)]
        names = {"U0ZED": "@amy", "U0AMY": "@zed"}
        ordered = [u for u, *_ in by_name(figures(load), names).load]
        assert ordered == ["U0BOB", "U0ZED", "U0AMY", "U0CAT"]  # @amy, @zed, then an id
        assert (
            by_name(figures(list(reversed(load))), names).load == by_name(figures(load), names).load
        )
