"""The space each building provides and each service needs, resolved for one estate.

From the register (``building_type``, ``gia_m2``, ``space_m2``, ``running_cost_fixed``;
``service_type``, ``space_type``, ``floor_m2``, ``desks``), the default table of
:mod:`estate.space_types` and the scenario's overrides (:class:`SpaceSettings`):

- **area**: m2 of each space type a building provides: the shares of its gross
  internal area its type gives, or its ``space_m2`` cell; never less than what the
  services in it today use (they fit where they are);
- **need**: each service's space type and the m2 of it it needs;
- **conversions**: the space a building may have fitted out (a type it lacks, made from
  one it has), at a cost per m2 and after a lead time;
- **running costs**: each building's fixed part, and its occupancy cost per m2 used.

A building with neither a known ``building_type`` nor ``space_m2`` is *unruled*: its
space is not checked (desks only) and its running cost is all fixed, as before space
types existed.  The run says which buildings these are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from estate.building_types import TYPE_NAMES
from estate.errors import CellIssue, InputDataError
from estate.space_types import GIA_PER_DESK_M2, SPACE_TYPES, parse_space
from estate.validate import FILE_COLUMN, ROW_COLUMN
from optimise.settings import SpaceSettings

SPACE_TOL_M2 = 1e-6


@dataclass(frozen=True)
class ConversionOption:
    """Space of type ``to`` that building ``building`` may have fitted out of ``source``."""

    building: int
    to: int  # index into SPACE_TYPES
    source: int
    cost_per_m2: float
    lead_years: int
    max_m2: float  # the building's whole source space


@dataclass(frozen=True)
class SpaceModel:
    """Space and running-cost split, aligned with the instance's buildings and services."""

    ruled: NDArray[np.bool_]  # per building: space rules apply
    area_m2: NDArray[np.float64]  # buildings x SPACE_TYPES, m2 provided
    need_type: NDArray[np.int64]  # per service: index into SPACE_TYPES
    floor_m2: NDArray[np.float64]  # per service: m2 of its space type needed
    conversions: tuple[ConversionOption, ...]
    occupancy_rate: NDArray[np.float64]  # per building: GBP a year per occupied m2
    fixed_running: NDArray[np.float64]  # per building: GBP a year whatever the occupancy
    notes: tuple[str, ...] = ()

    @property
    def types(self) -> tuple[str, ...]:
        return SPACE_TYPES

    def conversion(self, building: int, to: int) -> ConversionOption | None:
        for option in self.conversions:
            if option.building == building and option.to == to:
                return option
        return None

    def conversion_arrays(
        self,
    ) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
        """Buildings x space types: most m2 that may be fitted out (-inf where none may),
        lead years, and cost per m2 (before optimism bias)."""
        shape = self.area_m2.shape
        most = np.full(shape, -np.inf)
        lead = np.zeros(shape, dtype=np.int64)
        cost = np.zeros(shape)
        for o in self.conversions:
            most[o.building, o.to] = o.max_m2
            lead[o.building, o.to] = o.lead_years
            cost[o.building, o.to] = o.cost_per_m2
        return most, lead, cost

    def placements(
        self, service: NDArray[np.int64], building: NDArray[np.int64], home: NDArray[np.int64]
    ) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.bool_]]:
        """For (service, building) pairs: whether space allows it, the lead years before
        the service can move in, and whether it needs space fitted out."""
        t = self.need_type[service]
        floor = self.floor_m2[service]
        area = self.area_m2[building, t]
        most, lead, _ = self.conversion_arrays()
        native = area > SPACE_TOL_M2
        at_home = building == home[service]
        ruled = self.ruled[building] & ~at_home
        convert = ruled & ~native & (floor <= most[building, t] + SPACE_TOL_M2)
        ok = ~ruled | (native & (floor <= area + SPACE_TOL_M2)) | convert
        return ok, np.where(convert, lead[building, t], 0), convert

    def place(self, service: int, building: int, home: int) -> tuple[bool, int]:
        """Whether ``service`` may be in ``building`` as far as space goes, and the lead
        years before it can move in (0 unless the space must be fitted out)."""
        if building == home or not self.ruled[building]:
            return True, 0
        t = int(self.need_type[service])
        floor = float(self.floor_m2[service])
        if self.area_m2[building, t] > SPACE_TOL_M2:
            return floor <= self.area_m2[building, t] + SPACE_TOL_M2, 0
        option = self.conversion(building, t)
        if option is None or floor > option.max_m2 + SPACE_TOL_M2:
            return False, 0
        return True, option.lead_years

    def occupancy_cost(self, service: int, building: int) -> float:
        """GBP a year of occupancy cost ``service`` adds to ``building``."""
        return float(self.occupancy_rate[building] * self.floor_m2[service])


def resolve_space(
    buildings: pd.DataFrame,
    services: pd.DataFrame,
    home: NDArray[np.int64],
    settings: SpaceSettings,
) -> SpaceModel:
    """The :class:`SpaceModel` of a register; raises :class:`InputDataError` naming the
    file, row, column and value of a ``space_m2`` or ``running_cost_fixed`` it cannot use."""
    n_b, n_t = len(buildings), len(SPACE_TYPES)
    issues: list[CellIssue] = []
    notes: list[str] = []
    b_type = _column(buildings, "building_type").str.strip().str.lower()
    given = _column(buildings, "space_m2")
    known = b_type.isin(TYPE_NAMES).to_numpy()
    area = np.zeros((n_b, n_t))
    ruled = np.zeros(n_b, dtype=bool)
    gia = pd.to_numeric(buildings.get("gia_m2"), errors="coerce")
    estimated_gia = []
    unknown_types = sorted(set(b_type[(b_type != "") & ~b_type.isin(TYPE_NAMES)]))
    for i in range(n_b):
        text = str(given.iat[i]).strip()
        if text:
            try:
                parsed = parse_space(text)
            except ValueError as exc:
                issues.append(_issue(buildings, i, "space_m2", text, str(exc)))
                continue
            for name, m2 in parsed.items():
                area[i, SPACE_TYPES.index(name)] = m2
            ruled[i] = True
        elif known[i]:
            spec = settings.building(str(b_type.iat[i]))
            g = gia.iat[i] if gia is not None else np.nan
            if not np.isfinite(g):
                g = float(buildings["capacity_desks"].iat[i]) * GIA_PER_DESK_M2
                estimated_gia.append(str(buildings["building_id"].iat[i]))
            for name, share in spec.provides.items():
                area[i, SPACE_TYPES.index(name)] = share * g
            ruled[i] = True
    need_type, floor = _needs(services, settings, buildings, home, area, ruled)
    used = np.zeros((n_b, n_t))
    np.add.at(used, (home, need_type), floor)
    area = np.where(ruled[:, None], np.maximum(area, used), area)
    conversions = _conversions(b_type, known, ruled, area, settings)
    rate = np.array(
        [
            settings.building(str(t)).occupancy_cost_per_m2 if k else 0.0
            for t, k in zip(b_type, known, strict=True)
        ]
    )
    fixed, rate = _split_running(buildings, used.sum(axis=1), rate, issues, notes)
    if issues:
        raise InputDataError(issues, "the register's space or running-cost split cannot be used")
    untyped = [str(x) for x, r in zip(buildings["building_id"], ruled, strict=True) if not r]
    if untyped and ruled.any():
        notes.append(
            f"{len(untyped)} building(s) have no building_type or space_m2, so their space is "
            f"not checked (desks only) and their running cost is all fixed: {_listed(untyped)}"
        )
    if unknown_types:
        notes.append(
            f"building_type values not in the vocabulary are treated as unknown: {unknown_types}"
        )
    if estimated_gia:
        notes.append(
            f"no gia_m2: floor area taken as capacity_desks x {GIA_PER_DESK_M2:g} m2 for "
            f"{_listed(estimated_gia)}"
        )
    return SpaceModel(ruled, area, need_type, floor, conversions, rate, fixed, tuple(notes))


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    return frame[name].fillna("").astype(str)


def _listed(ids: list[str]) -> str:
    return ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


def _needs(
    services: pd.DataFrame,
    settings: SpaceSettings,
    buildings: pd.DataFrame,
    home: NDArray[np.int64],
    area: NDArray[np.float64],
    ruled: NDArray[np.bool_],
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Each service's space type (index) and m2 needed.

    ``floor_m2`` when given; else the space of its type it has today: its home's area of
    that type in proportion to the service's share of the home's desks (capacity, or
    the desks in use if more); else (its home has none of that space, or no known space)
    desks x the m2 per desk of its type."""
    desks = services["desks"].to_numpy(dtype=float)
    in_use = np.bincount(home, weights=desks, minlength=len(buildings))
    room = np.maximum(buildings["capacity_desks"].to_numpy(dtype=float), in_use)
    given_type = _column(services, "space_type").str.strip()
    given_floor = pd.to_numeric(services.get("floor_m2"), errors="coerce")
    public = services.get("public_facing")
    types, floors = [], []
    for j in range(len(services)):
        need = settings.service(
            str(services["service_type"].iat[j]),
            bool(public.iat[j]) if public is not None else False,
        )
        t = SPACE_TYPES.index(given_type.iat[j] or need.space_type)
        types.append(t)
        f = given_floor.iat[j] if given_floor is not None else np.nan
        h = home[j]
        if np.isfinite(f):
            floors.append(float(f))
        elif ruled[h] and area[h, t] > SPACE_TOL_M2 and room[h] > 0:
            floors.append(float(area[h, t] * desks[j] / room[h]))
        else:
            floors.append(float(desks[j]) * need.m2_per_desk)
    return np.asarray(types, dtype=np.int64), np.asarray(floors, dtype=float)


def _conversions(
    b_type: pd.Series,
    known: NDArray[np.bool_],
    ruled: NDArray[np.bool_],
    area: NDArray[np.float64],
    settings: SpaceSettings,
) -> tuple[ConversionOption, ...]:
    """Fit-outs a building's type allows: into a space type it lacks, out of one it has."""
    out: list[ConversionOption] = []
    for i in np.flatnonzero(ruled & known):
        for rule in settings.building(str(b_type.iat[i])).conversions:
            to, source = SPACE_TYPES.index(rule.to), SPACE_TYPES.index(rule.source)
            if area[i, to] > SPACE_TOL_M2 or area[i, source] <= SPACE_TOL_M2:
                continue
            if any(o.building == i and o.to == to for o in out):
                continue  # the first rule for a space type is the one used
            out.append(
                ConversionOption(
                    int(i), to, source, rule.cost_per_m2, rule.lead_years, float(area[i, source])
                )
            )
    return tuple(out)


def _split_running(
    buildings: pd.DataFrame,
    used_m2: NDArray[np.float64],
    rate: NDArray[np.float64],
    issues: list[CellIssue],
    notes: list[str],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fixed running cost and occupancy rate of each building, adding up to today's cost."""
    running = buildings["running_cost"].to_numpy(dtype=float)
    given = pd.to_numeric(buildings.get("running_cost_fixed"), errors="coerce")
    fixed = np.zeros(len(buildings))
    rate = rate.copy()
    lowered = []
    for i in range(len(buildings)):
        g = given.iat[i] if given is not None else np.nan
        if np.isfinite(g):
            if g > running[i] + 1e-6:
                issues.append(
                    _issue(buildings, i, "running_cost_fixed", f"{g:g}", "more than running_cost")
                )
                continue
            if used_m2[i] > SPACE_TOL_M2:
                rate[i] = (running[i] - g) / used_m2[i]
            elif g < running[i] - 1e-6:
                issues.append(
                    _issue(
                        buildings,
                        i,
                        "running_cost_fixed",
                        f"{g:g}",
                        "below running_cost, but no service occupies the building today, so "
                        "none of its cost can depend on occupancy",
                    )
                )
                continue
            fixed[i] = g
            continue
        variable = rate[i] * used_m2[i]
        if variable > running[i]:
            rate[i] = running[i] / used_m2[i] if used_m2[i] > 0 else 0.0
            lowered.append(str(buildings["building_id"].iat[i]))
            variable = running[i]
        fixed[i] = running[i] - variable
    if lowered:
        notes.append(
            "occupancy cost per m2 lowered to fit the running cost (all of it occupancy, "
            f"none fixed) for {_listed(lowered)}"
        )
    return fixed, rate


def _issue(frame: pd.DataFrame, i: int, column: str, value: str, message: str) -> CellIssue:
    source = str(frame[FILE_COLUMN].iat[i]) if FILE_COLUMN in frame.columns else "buildings"
    row = frame[ROW_COLUMN].iat[i] if ROW_COLUMN in frame.columns else None
    return CellIssue(
        source, None if row is None or pd.isna(row) else int(row), column, value, message
    )
