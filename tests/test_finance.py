"""Cash flows and present values, checked against hand arithmetic."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from optimise.finance import (
    BACKLOG,
    CARBON,
    DILAPIDATIONS,
    RECEIPTS,
    RUNNING,
    building_cash_flows,
    discount_factors,
    exit_year,
    move_costs,
)
from optimise.settings import FinanceSettings


def test_green_book_discount_factors() -> None:
    """3.5% to year 30, then 3.0% compounding on from year 30."""
    d = discount_factors(FinanceSettings(horizon_years=32))
    assert d[0] == 1.0
    assert d[1] == pytest.approx(1 / 1.035)
    assert d[30] == pytest.approx(1.035**-30)
    assert d[31] == pytest.approx(1.035**-30 / 1.03)
    assert d[32] == pytest.approx(1.035**-30 / 1.03**2)


BASE = FinanceSettings(base_date=dt.date(2026, 4, 1), disposal_lag_years=2)


@pytest.mark.parametrize(
    ("tenure", "brk", "end", "expected"),
    [
        ("freehold", None, None, 2),  # the disposal lag
        ("leasehold", None, "2029-04-01", 3),  # exactly three years on
        ("leasehold", None, "2029-04-02", 4),  # a day into year 4
        ("leasehold", "2027-10-01", "2035-01-01", 2),  # the break comes first
        ("leasehold", "2020-01-01", "2031-06-30", 6),  # a past break is gone
        ("leasehold", None, "2026-05-01", 1),  # ends within year 1
        ("leasehold", None, "2020-01-01", 2),  # expired: holding over, the lag
        ("leasehold", None, None, 2),  # no dates: the lag
    ],
)
def test_exit_year(tenure: str, brk: str | None, end: str | None, expected: int) -> None:
    as_ts = lambda v: pd.Timestamp(v) if v else None  # noqa: E731
    assert exit_year(tenure, as_ts(brk), as_ts(end), BASE) == expected


def _frame(**kw: object) -> pd.DataFrame:
    row = {
        "tenure": "freehold",
        "lease_break": pd.NaT,
        "lease_end": pd.NaT,
        "running_cost": 100.0,
        "backlog_cost": 50.0,
        "disposal_value": 1000.0,
        "disposal_cost": 30.0,
        "dilapidations": 0.0,
        "carbon_t": 2.0,
    }
    row.update(kw)
    return pd.DataFrame([row])


def test_freehold_cash_flows() -> None:
    """Keep: running 100 a year, backlog 50 x 1.2 in year 1, carbon 2 t x 10.

    Dispose (lag 2): running and carbon in years 1-2, receipt 1000 - 30 in year 2.
    """
    finance = FinanceSettings(
        horizon_years=5, optimism_bias=0.2, carbon_value_per_t=10, disposal_lag_years=2
    )
    flows = building_cash_flows(_frame(), finance)
    np.testing.assert_allclose(flows.keep[0, RUNNING], [0, 100, 100, 100, 100, 100])
    np.testing.assert_allclose(flows.keep[0, BACKLOG], [0, 60, 0, 0, 0, 0])
    np.testing.assert_allclose(flows.keep[0, CARBON], [0, 20, 20, 20, 20, 20])
    np.testing.assert_allclose(flows.dispose[0, RUNNING], [0, 100, 100, 0, 0, 0])
    np.testing.assert_allclose(flows.dispose[0, CARBON], [0, 20, 20, 0, 0, 0])
    np.testing.assert_allclose(flows.dispose[0, RECEIPTS], [0, 0, -970, 0, 0, 0])
    assert flows.dispose[0, BACKLOG].sum() == 0


def test_lease_exit_pays_dilapidations_and_raises_no_receipt() -> None:
    """A lease ending 2.5 years on: rent in years 1-3, dilapidations 400 in year 3."""
    finance = FinanceSettings(horizon_years=5, base_date=dt.date(2026, 4, 1))
    frame = _frame(
        tenure="leasehold",
        lease_end=pd.Timestamp("2028-10-01"),
        disposal_value=0.0,
        disposal_cost=0.0,
        dilapidations=400.0,
    )
    flows = building_cash_flows(frame, finance)
    np.testing.assert_allclose(flows.dispose[0, RUNNING], [0, 100, 100, 100, 0, 0])
    np.testing.assert_allclose(flows.dispose[0, DILAPIDATIONS], [0, 0, 0, 400, 0, 0])
    assert flows.dispose[0, RECEIPTS].sum() == 0


def test_lease_beyond_horizon_costs_rent_to_the_end() -> None:
    finance = FinanceSettings(horizon_years=3, base_date=dt.date(2026, 4, 1))
    frame = _frame(tenure="leasehold", lease_end=pd.Timestamp("2040-01-01"), dilapidations=400.0)
    flows = building_cash_flows(frame, finance)
    np.testing.assert_allclose(flows.dispose[0, RUNNING], [0, 100, 100, 100])
    assert flows.dispose[0, DILAPIDATIONS].sum() == 0
    assert flows.exit_years[0] == 14


def test_move_costs_use_own_cost_or_the_per_desk_rate() -> None:
    """Own move cost 500 + fit-out 10 x 3 desks; or 20 x 2 + 10 x 2; both x 1.1."""
    services = pd.DataFrame({"desks": [3.0, 2.0], "move_cost": [500.0, np.nan]})
    finance = FinanceSettings(move_cost_per_desk=20, fit_out_per_desk=10, optimism_bias=0.1)
    np.testing.assert_allclose(move_costs(services, finance), [530 * 1.1, 60 * 1.1])
