"""Typed settings of the estate model: access standards, finance, policy and solver.

Every default lives here, in one place.  A scenario file (``scenarios``) composes
these models; the optimiser takes them as they are.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Mode = Literal["drive", "walk"]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccessStandard(_Settings):
    """How far the public may be from a public-facing service type.

    Give ``min_share`` (share of weighted population within ``max_minutes``) or
    ``max_loss`` (allowed drop from today's share); with neither, nobody may lose
    access (``max_loss = 0``).
    """

    max_minutes: float = Field(gt=0, description="travel time standard, minutes")
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
    base_date: dt.date = Field(default=dt.date(2026, 4, 1), description="start of year 1")
    optimism_bias: float = Field(default=0.20, ge=0, le=2, description="uplift on one-off costs")
    move_cost_per_desk: float = Field(default=750.0, ge=0, description="GBP per desk moved")
    fit_out_per_desk: float = Field(default=3000.0, ge=0, description="GBP per desk moved in")
    disposal_lag_years: int = Field(
        default=1, ge=1, le=10, description="years a vacated freehold costs before it sells"
    )
    carbon_value_per_t: float = Field(default=0.0, ge=0, description="GBP per tCO2e")


class PolicySettings(_Settings):
    """Who may move where."""

    sharing: Literal["shared", "siloed"] = "shared"
    utilisation: float = Field(
        default=1.0, gt=0, le=1, description="share of a building's desks that may be filled"
    )
    move_radius_km: float | None = Field(
        default=None, gt=0, description="candidate buildings within this straight-line distance"
    )
    k_nearest: int | None = Field(
        default=None, ge=1, description="candidate buildings: the k nearest (plus home)"
    )


class SolverSettings(_Settings):
    """How hard to try."""

    solver: Literal["highs"] = "highs"
    time_limit_seconds: float = Field(default=60.0, gt=0)
    mip_rel_gap: float = Field(default=1e-4, ge=0, le=1)
    threads: int = Field(default=1, ge=1)
