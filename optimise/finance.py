"""Cash flows and present values of keeping or disposing of buildings and moving services.

All money is in GBP, real terms, base year 0; year ``t`` runs from ``base_date + t - 1``
years to ``base_date + t`` years.  Costs are positive, receipts negative.  The MILP's
objective coefficients are the present values of these cash flows, so the cash-flow
table a finance lead reads and the number the optimiser minimised are the same sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from optimise.settings import FinanceSettings

if TYPE_CHECKING:
    from optimise.instance import EstateInstance

# Cash-flow categories, in report order.  ``running_fixed`` is the part of a building's
# running cost that does not depend on how much of it is used; ``running_occupancy``
# the part per occupied m2 (cleaning, energy, soft FM), following its occupants;
# ``conversions`` the fit-out of space a building lacks (estate.space_types).
CATEGORIES = (
    "running_fixed",
    "running_occupancy",
    "backlog",
    "carbon",
    "dilapidations",
    "receipts",
    "moves",
    "conversions",
)
RUNNING, OCCUPANCY, BACKLOG, CARBON, DILAPIDATIONS, RECEIPTS, MOVES, CONVERSIONS = range(
    len(CATEGORIES)
)
ONE_OFF_CATEGORIES = ("moves", "dilapidations", "conversions")
GREEN_BOOK_SWITCH_YEAR = 30


def discount_factors(finance: FinanceSettings) -> NDArray[np.float64]:
    """Discount factors ``d[t]`` for t = 0..H (``d[0] = 1``).

    Green Book: ``discount_rate`` for years 1-30, ``long_discount_rate`` after.
    """
    years = np.arange(finance.horizon_years + 1)
    short = np.minimum(years, GREEN_BOOK_SWITCH_YEAR)
    long = np.maximum(years - GREEN_BOOK_SWITCH_YEAR, 0)
    return 1.0 / (
        (1.0 + finance.discount_rate) ** short * (1.0 + finance.long_discount_rate) ** long
    )


def exit_year(
    tenure: str,
    lease_break: pd.Timestamp | None,
    lease_end: pd.Timestamp | None,
    finance: FinanceSettings,
) -> int:
    """The last year a vacated building still costs money (its exit falls in this year).

    Freehold: the disposal lag.  Leasehold: the year of the first break or end on or
    after the base date; with none left, the disposal lag (holding over).  May exceed
    the horizon, in which case the exit falls outside the appraisal.
    """
    if tenure != "leasehold":
        return finance.disposal_lag_years
    base = pd.Timestamp(finance.base_date)
    events = [pd.Timestamp(e) for e in (lease_break, lease_end) if e is not None and not pd.isna(e)]
    future = [e for e in events if e >= base]
    if not future:
        return finance.disposal_lag_years
    return max(1, years_until(base, min(future)))


def lease_event_years(
    tenure: str,
    lease_break: pd.Timestamp | None,
    lease_end: pd.Timestamp | None,
    finance: FinanceSettings,
) -> list[int]:
    """Appraisal years (1, 2, ...) of a lease's break and end on or after the base date,
    sorted; empty for a freehold, or a lease with no event left (holding over)."""
    if tenure != "leasehold":
        return []
    base = pd.Timestamp(finance.base_date)
    events = [pd.Timestamp(e) for e in (lease_break, lease_end) if e is not None and not pd.isna(e)]
    return sorted({max(1, years_until(base, e)) for e in events if e >= base})


def exit_year_after(events: list[int], vacate_year: int, finance: FinanceSettings) -> int:
    """The last year a building vacated in ``vacate_year`` still costs money.

    A lease is exited only at a lease event: the first break or end in or after the
    vacate year.  A freehold, or a lease with no event left (holding over), is exited
    the disposal lag after it is vacated.  ``exit_year_after(events, 1, f)`` is
    :func:`exit_year`: vacating in year 1 is the single-period model.
    """
    later = [e for e in events if e >= vacate_year]
    if later:
        return later[0]
    return vacate_year + finance.disposal_lag_years - 1


def years_until(base: pd.Timestamp, event: pd.Timestamp) -> int:
    """The appraisal year (1, 2, ...) in which ``event`` falls: the smallest t whose
    anniversary ``base + t years`` is on or after it (by calendar, so leap days don't
    push an exact anniversary into the next year)."""
    t = event.year - base.year
    if (event.month, event.day) > (base.month, base.day):
        t += 1
    return t


@dataclass(frozen=True)
class BuildingCashFlows:
    """Cash flows by building, category and year for the two choices.

    ``keep`` and ``dispose`` have shape (buildings, categories, H + 1).
    """

    keep: NDArray[np.float64]
    dispose: NDArray[np.float64]
    exit_years: NDArray[np.int64]


def building_cash_flows(
    buildings: pd.DataFrame,
    finance: FinanceSettings,
    exit_years: NDArray[np.int64] | None = None,
    fixed_running: NDArray[np.float64] | None = None,
    occupancy: NDArray[np.float64] | None = None,
) -> BuildingCashFlows:
    """Yearly cash flows of keeping, and of disposing of, each building.

    ``exit_years`` (one a building) replaces the single-period exit years of
    :func:`exit_year`: a phased plan exits buildings in the years it schedules.
    ``fixed_running`` (GBP a year, default the whole ``running_cost``) is what a
    building costs while it is held, and ``occupancy`` (GBP a year, default 0) what its
    occupants today add on top, in the ``keep`` (baseline) flows only: a plan's
    occupancy costs follow the services (:func:`optimise.evaluate.evaluate`).
    """
    n = len(buildings)
    horizon = finance.horizon_years
    years = np.arange(horizon + 1)
    keep = np.zeros((n, len(CATEGORIES), horizon + 1))
    dispose = np.zeros_like(keep)
    running = (
        buildings["running_cost"].to_numpy(dtype=float)
        if fixed_running is None
        else np.asarray(fixed_running, dtype=float)
    )
    carbon = buildings["carbon_t"].to_numpy(dtype=float) * finance.carbon_value_per_t
    backlog = buildings["backlog_cost"].to_numpy(dtype=float) * (1.0 + finance.optimism_bias)
    leasehold = (buildings["tenure"] == "leasehold").to_numpy()
    receipt = (buildings["disposal_value"] - buildings["disposal_cost"]).to_numpy(dtype=float)
    receipt = np.where(leasehold, 0.0, receipt)
    dilaps = np.where(leasehold, buildings["dilapidations"].to_numpy(dtype=float), 0.0)
    exits = np.array(
        [
            exit_year(t, brk, end, finance)
            for t, brk, end in zip(
                buildings["tenure"], buildings["lease_break"], buildings["lease_end"], strict=True
            )
        ],
        dtype=np.int64,
    )
    if exit_years is not None:
        exits = np.asarray(exit_years, dtype=np.int64).copy()
        if exits.shape != (n,) or (exits < 1).any():
            raise ValueError("exit_years needs one year >= 1 a building")
    in_years = years >= 1
    keep[:, RUNNING, :] = running[:, None] * in_years
    if occupancy is not None:
        keep[:, OCCUPANCY, :] = np.asarray(occupancy, dtype=float)[:, None] * in_years
    keep[:, CARBON, :] = carbon[:, None] * in_years
    keep[:, BACKLOG, 1] = backlog
    held = in_years[None, :] & (years[None, :] <= exits[:, None])
    dispose[:, RUNNING, :] = running[:, None] * held
    dispose[:, CARBON, :] = carbon[:, None] * held
    inside = exits <= horizon
    rows = np.flatnonzero(inside)
    dispose[rows, DILAPIDATIONS, exits[rows]] = dilaps[rows]
    dispose[rows, RECEIPTS, exits[rows]] = -receipt[rows]
    return BuildingCashFlows(keep, dispose, exits)


def instance_cash_flows(
    instance: EstateInstance, exit_years: NDArray[np.int64] | None = None
) -> BuildingCashFlows:
    """:func:`building_cash_flows` with the instance's fixed running costs and today's
    occupancy costs (:mod:`optimise.space`)."""
    space = instance.spaces
    home = instance.home_index()
    today = np.asarray(
        np.bincount(
            home,
            weights=space.floor_m2 * space.occupancy_rate[home],
            minlength=len(instance.buildings),
        ),
        dtype=float,
    )
    return building_cash_flows(
        instance.buildings, instance.finance, exit_years, space.fixed_running, today
    )


def annuity(discount: NDArray[np.float64], first: int, last: int) -> float:
    """Sum of discount factors of years ``first..last`` (0 when the range is empty)."""
    first = max(first, 1)
    last = min(last, len(discount) - 1)
    return float(discount[first : last + 1].sum()) if last >= first else 0.0


def move_costs(services: pd.DataFrame, finance: FinanceSettings) -> NDArray[np.float64]:
    """One-off cost of moving each service to another building, with optimism bias.

    The service's own ``move_cost`` when given, else ``move_cost_per_desk`` per desk;
    plus ``fit_out_per_desk`` per desk at the new building.  Paid in year 1.
    """
    desks = services["desks"].to_numpy(dtype=float)
    own = services["move_cost"].to_numpy(dtype=float)
    move = np.where(np.isnan(own), finance.move_cost_per_desk * desks, own)
    return (move + finance.fit_out_per_desk * desks) * (1.0 + finance.optimism_bias)


def present_value(flows: NDArray[np.float64], discount: NDArray[np.float64]) -> NDArray[np.float64]:
    """Present value over the last axis (years)."""
    return np.asarray(flows @ discount, dtype=float)
