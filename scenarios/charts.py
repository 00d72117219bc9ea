"""Small inline SVG charts for the report: no plotting library, no fonts to embed.

Deterministic text output (same numbers, same bytes), every label HTML-escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from estate.money import gbp_short

POSITIVE = "#2b8a3e"
NEGATIVE = "#c92a2a"
LINE = "#1f4e79"
GRID = "#dddddd"
FONT = "font-family:Arial,Helvetica,sans-serif;font-size:11px"


money_short = gbp_short  # £1.2m, £350k, -£20k: the one money format, short (estate.money)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high], zero included."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low <= 0:
        return [0.0, 1.0]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 0.5:
        ticks.append(round(value, 6))
        value += step
    if ticks[-1] < high:
        ticks.append(ticks[-1] + step)
    return ticks


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def cash_flow_chart(
    years: Sequence[int],
    net: Sequence[float],
    cumulative: Sequence[float],
    payback_year: int | None,
    title: str,
    width: int = 760,
    height: int = 320,
) -> str:
    """Bars: net saving each year (green saves, red costs); line: cumulative net saving."""
    left, right, top, bottom = 70, 20, 30, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = nice_ticks(min([*net, *cumulative, 0.0]), max([*net, *cumulative, 0.0]))
    lo, hi = ticks[0], ticks[-1]

    def y(v: float) -> float:
        return top + plot_h * (hi - v) / (hi - lo)

    n = max(len(years), 1)
    slot = plot_w / n
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{_e(title)}' style='{FONT}'>",
        f"<text x='{left}' y='16' font-weight='bold'>{_e(title)}</text>",
    ]
    for t in ticks:
        parts.append(
            f"<line x1='{left}' x2='{width - right}' y1='{y(t):.1f}' y2='{y(t):.1f}' "
            f"stroke='{GRID if t else '#888'}'/>"
            f"<text x='{left - 6}' y='{y(t) + 4:.1f}' text-anchor='end'>{_e(money_short(t))}</text>"
        )
    for i, (year, value) in enumerate(zip(years, net, strict=True)):
        x = left + i * slot + slot * 0.15
        y0, y1 = sorted((y(0.0), y(value)))
        colour = POSITIVE if value >= 0 else NEGATIVE
        parts.append(
            f"<rect x='{x:.1f}' y='{y0:.1f}' width='{slot * 0.7:.1f}' "
            f"height='{max(y1 - y0, 0.5):.1f}' fill='{colour}'>"
            f"<title>Year {year}: {_e(money_short(value))}</title></rect>"
        )
        if n <= 25 or i % 5 == 4 or i == 0:
            parts.append(
                f"<text x='{left + (i + 0.5) * slot:.1f}' y='{height - bottom + 14}' "
                f"text-anchor='middle'>{year}</text>"
            )
    points = " ".join(f"{left + (i + 0.5) * slot:.1f},{y(v):.1f}" for i, v in enumerate(cumulative))
    parts.append(f"<polyline points='{points}' fill='none' stroke='{LINE}' stroke-width='2'/>")
    if payback_year is not None and payback_year in years:
        i = list(years).index(payback_year)
        px = left + (i + 0.5) * slot
        parts.append(
            f"<line x1='{px:.1f}' x2='{px:.1f}' y1='{top}' y2='{top + plot_h}' stroke='{LINE}' "
            f"stroke-dasharray='4 3'/><text x='{px + 4:.1f}' y='{top + 12}'>payback</text>"
        )
    parts.append(
        f"<text x='{left + plot_w / 2:.1f}' y='{height - 6}' text-anchor='middle'>year</text>"
        f"<rect x='{width - right - 250}' y='6' width='10' height='10' fill='{POSITIVE}'/>"
        f"<text x='{width - right - 236}' y='15'>net saving in the year</text>"
        f"<line x1='{width - right - 110}' x2='{width - right - 96}' y1='11' y2='11' "
        f"stroke='{LINE}' stroke-width='2'/>"
        f"<text x='{width - right - 92}' y='15'>cumulative</text></svg>"
    )
    return "".join(parts)


LABEL_MAX_PX = 320


def _fit(text: str, chars: float) -> str:
    """``text`` cut to ``chars`` characters with an ellipsis when it is longer."""
    n = max(int(chars), 4)
    return text if len(text) <= n else text[: n - 1] + "…"


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str, width: int = 760) -> str:
    """Horizontal bars, one per label (e.g. NPV saving per agency)."""
    row = 24
    # Room for the longest label (about 6.5 px a character at 12 px; long names are cut
    # with an ellipsis, their full text kept as the bar's tooltip).
    longest = max((len(str(label)) for label in labels), default=0)
    left, right, top = min(max(160, int(longest * 6.5) + 16), LABEL_MAX_PX + 16), 90, 28
    width = max(width, left + right + 240)
    height = top + row * len(labels) + 12
    ticks = nice_ticks(min([*values, 0.0]), max([*values, 0.0]))
    lo, hi = ticks[0], ticks[-1]
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + plot_w * (v - lo) / (hi - lo)

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{_e(title)}' style='{FONT}'>",
        f"<text x='{left}' y='16' font-weight='bold'>{_e(title)}</text>",
        f"<line x1='{x(0):.1f}' x2='{x(0):.1f}' y1='{top}' y2='{height - 8}' stroke='#888'/>",
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        cy = top + i * row
        x0, x1 = sorted((x(0.0), x(value)))
        colour = POSITIVE if value >= 0 else NEGATIVE
        shown = _fit(str(label), (left - 16) // 6.5)
        parts.append(
            f"<text x='{left - 6}' y='{cy + 15}' text-anchor='end'><title>{_e(label)}</title>"
            f"{_e(shown)}</text>"
            f"<rect x='{x0:.1f}' y='{cy + 4}' width='{max(x1 - x0, 0.5):.1f}' height='{row - 8}' "
            f"fill='{colour}'/>"
            f"<text x='{x1 + 4:.1f}' y='{cy + 15}'>"
            f"{_e(money_short(value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
