"""Money as people read it: one format for every terminal line, page, popup and chart.

``-£43,478`` (sign before the pound sign, whole pounds, thousands separated), never
``£-43,478`` and never ``-£0``; ``—`` where there is no figure.  Chart axes, where
there is no room, use the same sign rule in short form (``-£43k``, ``£1.2m``).
"""

from __future__ import annotations

import math
from typing import Any

NO_FIGURE = "—"


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def gbp(value: Any) -> str:
    """``-£43,478``: whole pounds, the sign before the pound sign; ``—`` for no figure."""
    number = _number(value)
    if number is None:
        return NO_FIGURE
    pounds = round(number)
    sign = "-" if pounds < 0 else ""
    return f"{sign}£{abs(pounds):,.0f}"


def gbp_short(value: Any) -> str:
    """``-£43k``, ``£1.2m``, ``£350``: the same sign rule, for chart axes."""
    number = _number(value)
    if number is None:
        return NO_FIGURE
    size = abs(number)
    if size >= 1e6:
        text = f"{size / 1e6:,.1f}m"
    elif size >= 1e3:
        text = f"{size / 1e3:,.0f}k"
    else:
        text = f"{size:,.0f}"
    sign = "-" if number < 0 and text.strip("0.mk,") else ""
    return f"{sign}£{text}"
