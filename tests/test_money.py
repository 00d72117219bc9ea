"""One money format everywhere (issue 17): -£43,478, never £-43,478 or -£0."""

from __future__ import annotations

import io
import math

import pytest
from rich.console import Console

from estate.money import gbp, gbp_short


@pytest.mark.parametrize(
    ("value", "text", "short"),
    [
        (-43_478.4, "-£43,478", "-£43k"),
        (43_478.6, "£43,479", "£43k"),
        (-0.4, "£0", "£0"),
        (0, "£0", "£0"),
        (1_234_567.8, "£1,234,568", "£1.2m"),
        (-2_500_000, "-£2,500,000", "-£2.5m"),
        (None, "—", "—"),
        (math.nan, "—", "—"),
        ("12.5", "£12", "£12"),
    ],
)
def test_money_format(value: object, text: str, short: str) -> None:
    assert gbp(value) == text
    assert gbp_short(value) == short


def _summary(npv: float) -> dict[str, object]:
    agency = {
        "agency": "police",
        "npv_saving": npv,
        "annual_revenue_saving": -1_250.0,
        "capital_receipts": 0.0,
        "one_off_costs": 43_478.0,
        "buildings_disposed": 0,
        "buildings_before": 3,
        "payback_year": None,
    }
    return {
        "scenario": "x",
        "status": "optimal",
        "gap": 0.0,
        "settings": {"solver": {"mip_rel_gap": 0.005}},
        "solve_seconds": 1.0,
        "build_seconds": 1.0,
        "npv_saving": npv,
        "annual_revenue_saving": -1_250.0,
        "capital_receipts": 0.0,
        "one_off_costs": 43_478.0,
        "backlog_avoided": 0.0,
        "backlog_optimism_bias": 0.0,
        "payback_year": None,
        "buildings": {"kept": 3, "hosting": 0, "disposed": 0, "total": 3},
        "services_moved": 1,
        "desks_moved": 4.0,
        "agencies": [agency],
        "access": [],
    }


def test_the_terminal_summary_puts_the_sign_before_the_pound() -> None:
    from scenarios.display import print_summary

    out = io.StringIO()
    print_summary(_summary(-43_478.0), Console(file=out, width=160))
    text = out.getvalue()
    assert "£-" not in text
    assert text.count("-£43,478") == 2  # the headline and the agency's row, alike
    assert "-£1,250" in text
