"""The HTML report of incident metrics (`tocsin report`): figures, inline SVG charts, page."""

from bot.learning.report.html import ReportFigures, figures, render

__all__ = ["ReportFigures", "figures", "render"]
