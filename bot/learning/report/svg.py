"""Inline SVG charts generated in Python: no CDN, no JavaScript, readable when printed.

Every chart is a pure function from numbers to an `<svg>` string; labels are escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#2e86c1", "#8e44ad", "#16a085", "#7f8c8d", "#27ae60", "#d35400", "#c0392b")
SEVERITY_COLORS = {"sev1": "#c0392b", "sev2": "#e67e22", "sev3": "#2e86c1", "sev4": "#27ae60"}
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def color(key: str, index: int) -> str:
    return SEVERITY_COLORS.get(key, PALETTE[index % len(PALETTE)])


def nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5, 5 times 10^n)."""
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * exp >= value:
            return float(step * exp)
    return float(10 * exp)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.3g}"


def _frame(width: int, height: int, title: str, body: list[str], test_id: str) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'data-testid="{escape(test_id)}" {FONT}>'
    )
    return "\n".join([head, f"<title>{escape(title)}</title>", *body, "</svg>"])


def _legend(keys: Sequence[str], x: int, y: int) -> list[str]:
    out = []
    cx = x
    for i, key in enumerate(keys):
        if i:
            cx += 30 + 7 * len(keys[i - 1])
        out.append(f'<rect x="{cx}" y="{y - 9}" width="12" height="12" fill="{color(key, i)}"/>')
        out.append(f'<text x="{cx + 16}" y="{y + 1}">{escape(key)}</text>')
    return out


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    unit: str,
    test_id: str,
    width: int = 640,
    height: int = 280,
) -> str:
    """One line per series over shared x labels; a gap where a value is None."""
    left, right, top, bottom = 52, 16, 34, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for vs in series.values() for v in vs if v is not None]
    top_value = 4 * nice_max(max(values, default=0.0) / 4)  # four round gridline steps
    n = max(len(x_labels), 1)

    def px(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def py(v: float) -> float:
        return top + plot_h - plot_h * v / top_value

    body = [f'<text x="{left}" y="18" font-weight="600" font-size="14">{escape(title)}</text>']
    for k in range(5):
        v = top_value * k / 4
        y = py(v)
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    mid = f"{top + plot_h / 2:.0f}"
    body.append(
        f'<text x="12" y="{mid}" transform="rotate(-90 12 {mid})" text-anchor="middle">'
        f"{escape(unit)}</text>"
    )
    every = max(1, math.ceil(n / 8))
    for i, label in enumerate(x_labels):
        if i % every == 0:
            body.append(
                f'<text x="{px(i):.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    for idx, (key, vs) in enumerate(series.items()):
        stroke = color(key, idx)
        runs: list[list[str]] = [[]]
        for i, point in enumerate(vs):
            if point is None:
                runs.append([])
                continue
            v = point
            runs[-1].append(f"{px(i):.1f},{py(v):.1f}")
            body.append(
                f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="3" fill="{stroke}">'
                f"<title>{escape(key)} {escape(x_labels[i])}: {_fmt(v)} {escape(unit)}"
                "</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                body.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{stroke}" '
                    'stroke-width="2"/>'
                )
    body += _legend(list(series), left, height - 10)
    return _frame(width, height, title, body, test_id)


def stacked_bars(
    title: str,
    rows: Sequence[tuple[str, Mapping[str, float]]],
    keys: Sequence[str],
    test_id: str,
    width: int = 640,
    bar_h: int = 22,
) -> str:
    """Horizontal bars, one per row, split by `keys` (e.g. severities), total at the end."""
    left, right, top = 150, 60, 34
    height = top + bar_h * max(len(rows), 1) + 40
    plot_w = width - left - right
    top_value = nice_max(max((sum(r.values()) for _, r in rows), default=0.0))
    body = [f'<text x="12" y="18" font-weight="600" font-size="14">{escape(title)}</text>']
    for i, (label, parts) in enumerate(rows):
        y = top + i * bar_h
        body.append(
            f'<text x="{left - 8}" y="{y + bar_h * 0.65:.1f}" text-anchor="end">'
            f"{escape(label[:24])}</text>"
        )
        x = float(left)
        for k, key in enumerate(keys):
            value = parts.get(key, 0)
            if not value:
                continue
            w = plot_w * value / top_value
            body.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" '
                f'fill="{color(key, k)}"><title>{escape(label)} · {escape(key)}: '
                f"{_fmt(value)}</title></rect>"
            )
            x += w
        body.append(
            f'<text x="{x + 6:.1f}" y="{y + bar_h * 0.65:.1f}">{_fmt(sum(parts.values()))}</text>'
        )
    body += _legend(keys, left, height - 10)
    return _frame(width, height, title, body, test_id)
