"""Typed settings of the estate model: access standards, finance, policy and solver.

Every default lives here, in one place.  A scenario file (``scenarios``) composes
these models; the optimiser takes them as they are.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from estate.space_types import BuildingSpace, ServiceSpace

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
    """How near the public must stay to a public-facing service type.

    A zone is *within* the standard when it is within ``drive`` minutes by car or
    ``walk`` minutes on foot of a building holding the type.  Give ``min_share`` (share
    of need-weighted population within) or ``max_loss`` (allowed drop from today's
    share); with neither, nobody may lose access (``max_loss = 0``).
    ``max_increase_minutes`` is the per-zone rule: no zone's minutes to its nearest
    service of the type may rise by more than this, by each of ``modes`` (where the
    standard gives minutes for a mode, the rule protects the zones within them today:
    those who walk to it now keep a walk, those two hours away on foot are not held to
    their walking time).  The older
    form ``{max_minutes: M, mode: drive}`` still reads, as ``{drive: M}``.
    """

    drive: float | None = Field(
        default=None,
        gt=0,
        le=MAX_MINUTES,
        description="minutes by car: a zone this near is within the standard",
    )
    walk: float | None = Field(
        default=None,
        gt=0,
        le=MAX_MINUTES,
        description="minutes on foot: a zone this near is within the standard",
    )
    min_share: float | None = Field(
        default=None, ge=0, le=1, description="share of need-weighted population within"
    )
    max_loss: float | None = Field(
        default=None, ge=0, le=1, description="allowed drop from today's share within"
    )
    max_increase_minutes: float | None = Field(
        default=None,
        ge=0,
        le=MAX_MINUTES,
        description="no zone's minutes to its nearest service of the type may rise by more "
        "than this (by each of modes; for a mode given minutes above, the zones within them)",
    )
    modes: tuple[Mode, ...] | None = Field(
        default=None,
        description="modes max_increase_minutes is measured by [null: those given minutes "
        "above, else drive]",
    )
    max_minutes: float | None = Field(
        default=None,
        gt=0,
        le=MAX_MINUTES,
        exclude=True,
        description="older form: minutes by `mode`",
    )
    mode: Mode | None = Field(
        default=None, exclude=True, description="older form: with max_minutes"
    )

    @model_validator(mode="after")
    def _older_form(self) -> AccessStandard:
        """``{max_minutes: M, mode: m}`` (mode defaults to drive) -> ``{m: M}``, once the
        fields are checked (so an error names the key the file has).  The model is
        frozen and ``__init__`` must return ``self``, hence setting fields in place."""
        if self.max_minutes is None:
            if self.mode is not None:
                raise ValueError("mode goes with max_minutes (or give drive: or walk: minutes)")
            return self
        mode = self.mode or "drive"
        if getattr(self, mode) is not None:
            raise ValueError(f"give max_minutes or {mode}, not both")
        object.__setattr__(self, mode, self.max_minutes)
        object.__setattr__(self, "max_minutes", None)
        object.__setattr__(self, "mode", None)
        self.__pydantic_fields_set__.add(mode)
        return self

    @model_validator(mode="after")
    def _one_target(self) -> AccessStandard:
        if self.min_share is not None and self.max_loss is not None:
            raise ValueError("give min_share or max_loss, not both")
        if not self.thresholds() and self.max_increase_minutes is None:
            raise ValueError("give drive or walk minutes, or max_increase_minutes")
        if not self.thresholds() and (self.min_share is not None or self.max_loss is not None):
            raise ValueError("min_share and max_loss need drive or walk minutes")
        if self.modes is not None and (not self.modes or len(set(self.modes)) < len(self.modes)):
            raise ValueError("modes: give each of drive, walk at most once")
        return self

    def thresholds(self) -> dict[Mode, float]:
        """Minutes by mode within which a zone is within the standard (may be empty)."""
        out: dict[Mode, float] = {}
        if self.drive is not None:
            out["drive"] = self.drive
        if self.walk is not None:
            out["walk"] = self.walk
        return out

    @property
    def has_share_rule(self) -> bool:
        return bool(self.thresholds())

    def increase_modes(self) -> tuple[Mode, ...]:
        """The modes the per-zone max-increase rule is measured by."""
        if self.modes is not None:
            return tuple(self.modes)
        return tuple(self.thresholds()) or ("drive",)

    def travel_modes(self) -> tuple[Mode, ...]:
        """Every mode this standard needs travel times for."""
        modes = set(self.thresholds())
        if self.max_increase_minutes is not None:
            modes |= set(self.increase_modes())
        return tuple(sorted(modes))

    def target_share(self, baseline_share: float) -> float:
        """The share of weighted population that must stay within the standard."""
        if self.min_share is not None:
            return self.min_share
        loss = self.max_loss if self.max_loss is not None else 0.0
        return max(0.0, baseline_share - loss)

    def describe(self) -> str:
        """The standard in words: ``15 min drive or 20 min walk; 95% of people; ...``."""
        parts = []
        reach = " or ".join(f"{m:g} min {mode}" for mode, m in self.thresholds().items())
        if reach:
            if self.min_share is not None:
                parts.append(f"{self.min_share:.0%} of people within {reach}")
            elif self.max_loss:
                parts.append(f"within {reach}: share may fall by {self.max_loss:.1%} at most")
            else:
                parts.append(f"within {reach}: nobody loses it")
        if self.max_increase_minutes is not None:
            by = "/".join(self.increase_modes())
            if self.max_increase_minutes == 0:
                parts.append(f"no zone further from it than today ({by})")
            else:
                parts.append(f"no zone more than {self.max_increase_minutes:g} min further ({by})")
        return "; ".join(parts)


def default_standard(modes: tuple[Mode, ...]) -> AccessStandard:
    """The standard of a public-facing type the scenario names no standard for: no zone
    loses access (its minutes to the nearest service may not rise at all), by ``modes``."""
    return AccessStandard(max_increase_minutes=0.0, modes=tuple(sorted(set(modes))))


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
    formulation: Literal["auto", "strong", "sorted"] = Field(
        default="auto",
        description="how assignments are modelled: strong: assign[s,b] <= keep[b] for every "
        "candidate; sorted: the sorted-distance form for every service whose cost depends only "
        "on the building serving it (no capacity, space, access, exclusivity, fit-out or budget "
        "row on it), strong for the others (auto: sorted when such services hold at least half the "
        "candidate pairs, as in p-median and uncapacitated facility location)",
    )
    time_limit_seconds: float = Field(
        default=60.0,
        gt=0,
        le=MAX_TIME_LIMIT_SECONDS,
        description="seconds for the whole run: reading, building, solving and writing "
        "(at most a week)",
    )
    mip_rel_gap: float = Field(default=1e-4, ge=0, le=1)
    threads: int = Field(
        default=1,
        ge=1,
        le=MAX_THREADS,
        description="threads HiGHS may use; on a large estate (heuristic strategy) 2 or more "
        "also solve the whole MIP in a second process beside the heuristic search, for the "
        "bound, while the search takes all the time for the plan",
    )
    warm_start: bool = Field(default=True, description="start from the baseline when feasible")
    watchdog_grace_seconds: float = Field(
        default=30.0,
        gt=0,
        le=24 * 3600.0,
        description="kill a solver this long after its own time limit",
    )
    random_seed: int = Field(default=0, ge=0, le=MAX_SEED)


SpaceTypeName = Literal[
    "office", "public_counter", "clinical", "library", "community", "operational", "residential"
]


class ConversionRule(_Settings):
    """Space of type ``to`` fitted out of the building's ``source`` space."""

    to: SpaceTypeName
    source: SpaceTypeName
    cost_per_m2: float = Field(
        ge=0, le=MAX_GBP_PER_UNIT, description="GBP per m2 fitted out, before optimism bias"
    )
    lead_years: int = Field(ge=0, le=10, description="years of works before it can be used")


class BuildingTypeSpace(_Settings):
    """One building type's space, replacing the defaults of estate.space_types."""

    provides: dict[SpaceTypeName, float] | None = Field(
        default=None, description="share of gia_m2 of each space type [null: the default]"
    )
    conversions: tuple[ConversionRule, ...] | None = Field(
        default=None, description="space that may be fitted out [null: the default]"
    )
    occupancy_cost_per_m2: float | None = Field(
        default=None,
        ge=0,
        le=MAX_GBP_PER_UNIT,
        description="GBP a year per occupied m2 [null: the default]",
    )

    @model_validator(mode="after")
    def _shares(self) -> BuildingTypeSpace:
        shares = self.provides or {}
        if any(not 0 <= v <= 1 for v in shares.values()) or sum(shares.values()) > 1 + 1e-9:
            raise ValueError("provides: shares of gia_m2 between 0 and 1, adding up to 1 at most")
        return self


class ServiceTypeSpace(_Settings):
    """One service type's need, replacing the defaults of estate.space_types."""

    space_type: SpaceTypeName | None = Field(default=None, description="[null: the default]")
    m2_per_desk: float | None = Field(default=None, gt=0, le=1e4, description="[null: the default]")


class SpaceSettings(_Settings):
    """Overrides of the default space table (estate.space_types; docs/model.md), per type."""

    building_types: dict[str, BuildingTypeSpace] = Field(
        default_factory=dict, description="by building_type"
    )
    service_types: dict[str, ServiceTypeSpace] = Field(
        default_factory=dict, description="by service_type"
    )

    @model_validator(mode="after")
    def _known(self) -> SpaceSettings:
        from estate.building_types import TYPE_NAMES

        unknown = sorted(set(self.building_types) - set(TYPE_NAMES))
        if unknown:
            raise ValueError(f"unknown building types {unknown}; known: {', '.join(TYPE_NAMES)}")
        return self

    def building(self, name: str) -> BuildingSpace:
        """The space of building type ``name`` (a known type) with this scenario's overrides."""
        from estate.space_types import BUILDING_SPACE, BuildingSpace, Conversion

        base = BUILDING_SPACE[name]
        mine = self.building_types.get(name)
        if mine is None:
            return base
        conversions = base.conversions
        if mine.conversions is not None:
            conversions = tuple(
                Conversion(c.to, c.source, c.cost_per_m2, c.lead_years) for c in mine.conversions
            )
        return BuildingSpace(
            {str(k): v for k, v in mine.provides.items()}
            if mine.provides is not None
            else base.provides,
            conversions,
            base.occupancy_cost_per_m2
            if mine.occupancy_cost_per_m2 is None
            else mine.occupancy_cost_per_m2,
        )

    def service(self, service_type: str, public_facing: bool) -> ServiceSpace:
        """The need of a service of ``service_type`` with this scenario's overrides."""
        from estate.space_types import DEFAULT_SERVICE_SPACE, SERVICE_SPACE, ServiceSpace

        base = SERVICE_SPACE.get(service_type, DEFAULT_SERVICE_SPACE[bool(public_facing)])
        mine = self.service_types.get(service_type)
        if mine is None:
            return base
        return ServiceSpace(
            mine.space_type or base.space_type, mine.m2_per_desk or base.m2_per_desk
        )
