"""Typed settings of the estate model: access standards, finance, policy and solver.

Every default lives here, in one place.  A scenario file (``scenarios``) composes
these models; the optimiser takes them as they are.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Mode = Literal["drive", "walk"]

# Upper limits of the settings: far beyond any real estate, and well inside what the
# solver's numerics and the operating system's clocks take (HiGHS reads 1e20 as
# infinite; a timer of 1e10 seconds overflows; pandas dates end in 2262).
MAX_GBP = 1e12  # £1 trillion: more than the whole UK public estate is worth
MAX_GBP_PER_UNIT = 1e7  # per desk moved or fitted out, per tonne of CO2e
MAX_MINUTES = 24 * 60.0  # an access standard of more than a day is not a standard
MAX_RADIUS_KM = 2_000.0  # Great Britain is about 1,000 km long
MAX_COUNT = 10_000_000  # buildings, candidates a service
MAX_TIME_LIMIT_SECONDS = 7 * 24 * 3600.0  # a week
MAX_THREADS = 1_024
MAX_SEED = 2**31 - 1  # HiGHS's random_seed is a C int
FIRST_BASE_DATE = dt.date(1950, 1, 1)
LAST_BASE_DATE = dt.date(2150, 12, 31)  # + a 75-year horizon stays inside pandas' dates
Money = Annotated[float, Field(ge=0, le=MAX_GBP)]


class _Settings(BaseModel):
    # No setting may be infinite or NaN (a YAML .inf, or 1e400 read as a float).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class AccessStandard(_Settings):
    """How far the public may be from a public-facing service type.

    Give ``min_share`` (share of weighted population within ``max_minutes``) or
    ``max_loss`` (allowed drop from today's share); with neither, nobody may lose
    access (``max_loss = 0``).
    """

    max_minutes: float = Field(gt=0, le=MAX_MINUTES, description="travel time standard, minutes")
    mode: Mode = "drive"
    min_share: float | None = Field(default=None, ge=0, le=1)
    max_loss: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _one_target(self) -> AccessStandard:
        if self.min_share is not None and self.max_loss is not None:
            raise ValueError("give min_share or max_loss, not both")
        return self

    def target_share(self, baseline_share: float) -> float:
        """The share of weighted population that must stay within the standard."""
        if self.min_share is not None:
            return self.min_share
        loss = self.max_loss if self.max_loss is not None else 0.0
        return max(0.0, baseline_share - loss)


class FinanceSettings(_Settings):
    """Appraisal settings, in real terms with base year 0 (HM Treasury Green Book)."""

    horizon_years: int = Field(default=20, ge=1, le=75)
    discount_rate: float = Field(default=0.035, ge=0, le=0.5, description="years 1-30")
    long_discount_rate: float = Field(default=0.030, ge=0, le=0.5, description="years 31-75")
    base_date: dt.date = Field(
        default=dt.date(2026, 4, 1),
        ge=FIRST_BASE_DATE,
        le=LAST_BASE_DATE,
        description="start of year 1",
    )
    optimism_bias: float = Field(default=0.20, ge=0, le=2, description="uplift on one-off costs")
    move_cost_per_desk: float = Field(
        default=750.0, ge=0, le=MAX_GBP_PER_UNIT, description="GBP per desk moved"
    )
    fit_out_per_desk: float = Field(
        default=3000.0, ge=0, le=MAX_GBP_PER_UNIT, description="GBP per desk moved in"
    )
    disposal_lag_years: int = Field(
        default=1, ge=1, le=10, description="years a vacated freehold costs before it sells"
    )
    carbon_value_per_t: float = Field(
        default=0.0, ge=0, le=MAX_GBP_PER_UNIT, description="GBP per tCO2e"
    )


class PolicySettings(_Settings):
    """Who may move where, and what the Board has decided in advance."""

    sharing: Literal["shared", "siloed"] = "shared"
    utilisation: float = Field(
        default=1.0, gt=0, le=1, description="share of a building's desks that may be filled"
    )
    move_radius_km: float | None = Field(
        default=None,
        gt=0,
        le=MAX_RADIUS_KM,
        description="candidate buildings within this straight-line distance",
    )
    k_nearest: int | None = Field(
        default=None,
        ge=1,
        le=MAX_COUNT,
        description="candidate buildings: the k nearest (plus home)",
    )
    agencies: tuple[str, ...] | None = Field(
        default=None,
        description="agencies taking part; the others' buildings and services stay as they are",
    )
    force_keep: tuple[str, ...] = Field(default=(), description="building ids that must be kept")
    force_dispose: tuple[str, ...] = Field(
        default=(), description="building ids that must be disposed of"
    )
    keep_at_most: int | None = Field(
        default=None, ge=0, le=MAX_COUNT, description="at most p buildings kept"
    )
    keep_exactly: int | None = Field(
        default=None, ge=0, le=MAX_COUNT, description="exactly p buildings kept"
    )
    capital_budget: float | None = Field(
        default=None,
        ge=0,
        le=MAX_GBP,
        description="pooled Total Capital pot for one-off costs (moves, fit-out, dilapidations)",
    )
    agency_budgets: dict[str, Money] | None = Field(
        default=None, description="per-agency caps on their own one-off costs, GBP"
    )

    @model_validator(mode="after")
    def _consistent(self) -> PolicySettings:
        if self.keep_at_most is not None and self.keep_exactly is not None:
            raise ValueError("give keep_at_most or keep_exactly, not both")
        both = sorted(set(self.force_keep) & set(self.force_dispose))
        if both:
            raise ValueError(f"buildings both forced to stay and to go: {both}")
        if self.agency_budgets and any(v < 0 for v in self.agency_budgets.values()):
            raise ValueError("agency budgets must be non-negative")
        return self


class PhasingSettings(_Settings):
    """The year-by-year plan (estate plan): when each disposal and move happens.

    Changes happen in years 1 to ``years``; a lease is exited only at a break or its
    end.  One-off costs (moves, fit-out, dilapidations) are paid from a pooled Total
    Capital pot that receives ``annual_budget`` each year.
    """

    years: int | None = Field(
        default=None,
        ge=1,
        le=75,
        description="plan years (changes happen in years 1..years) [null: the whole horizon]",
    )
    annual_budget: float | list[float] | None = Field(
        default=None,
        description="GBP the pot receives each year for one-off costs: one amount for every "
        "year, or a list from year 1 (the last amount repeats) [null: unlimited]",
    )
    carry_forward: bool = Field(
        default=False, description="unspent budget stays in the pot for later years"
    )
    recycle_receipts: bool = Field(
        default=False,
        description="capital receipts go into the pot, to spend from the year after the sale",
    )

    @field_validator("annual_budget")
    @classmethod
    def _budget(cls, budget: float | list[float] | None) -> float | list[float] | None:
        amounts = budget if isinstance(budget, list) else [] if budget is None else [budget]
        if isinstance(budget, list) and not 1 <= len(budget) <= 75:
            raise ValueError("give 1 to 75 amounts (one a year from year 1), or null for no limit")
        if any(not 0 <= a <= MAX_GBP for a in amounts):
            raise ValueError(f"amounts must be between 0 and {MAX_GBP:.0e} GBP")
        return budget

    def budget_in(self, year: int) -> float:
        """The amount the pot receives in ``year`` (1-based); inf when unlimited."""
        if self.annual_budget is None:
            return float("inf")
        if isinstance(self.annual_budget, list):
            return float(self.annual_budget[min(year, len(self.annual_budget)) - 1])
        return float(self.annual_budget)


class SolverSettings(_Settings):
    """How hard to try, and with what."""

    solver: Literal["highs", "cbc"] = "highs"
    backend: Literal["auto", "pulp", "highspy"] = Field(
        default="auto",
        description="how the model reaches HiGHS: through PuLP, or straight into highspy "
        "(auto: PuLP for small models, highspy when PuLP's per-row building would dominate)",
    )
    strategy: Literal["auto", "exact", "heuristic"] = Field(
        default="auto",
        description="exact: hand the whole MIP to the solver; heuristic: LP relaxation, "
        "greedy disposal and window search first, then the MIP from that plan for the "
        "rest of the time (auto: heuristic above 20,000 integer columns)",
    )
    time_limit_seconds: float = Field(
        default=60.0, gt=0, le=MAX_TIME_LIMIT_SECONDS, description="seconds (at most a week)"
    )
    mip_rel_gap: float = Field(default=1e-4, ge=0, le=1)
    threads: int = Field(default=1, ge=1, le=MAX_THREADS)
    warm_start: bool = Field(default=True, description="start from the baseline when feasible")
    watchdog_grace_seconds: float = Field(
        default=30.0,
        gt=0,
        le=24 * 3600.0,
        description="kill a solver this long after its own time limit",
    )
    random_seed: int = Field(default=0, ge=0, le=MAX_SEED)
