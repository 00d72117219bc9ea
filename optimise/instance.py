"""One estate problem: the register, zones, travel times and settings, checked together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from estate.errors import CellIssue, InputDataError, SettingsError
from estate.register import Register
from geodata.traveltime import TravelTimes
from optimise.settings import (
    AccessStandard,
    FinanceSettings,
    Mode,
    PolicySettings,
    SpaceSettings,
    default_standard,
)
from optimise.space import SpaceModel, resolve_space


@dataclass(frozen=True)
class EstateInstance:
    """Everything the model needs, aligned: row ``i`` of ``buildings`` is column ``i``
    of every travel-time matrix, and row ``j`` of ``zones`` is its row ``j``.

    Build one with :meth:`build`, which checks the pieces fit and reorders travel
    matrices to match.

    ``access`` holds the standard of every public-facing service type the model keeps:
    the scenario's own and, for a type it names no standard for, the default (nobody
    loses access, ``access_defaulted``); ``access_none`` are the types the scenario
    exempts (``access.<type>: none``).  ``report_modes`` are the modes access is
    reported by for types without a standard of their own.
    """

    buildings: pd.DataFrame
    services: pd.DataFrame
    zones: pd.DataFrame
    travel: Mapping[Mode, TravelTimes]
    access: Mapping[str, AccessStandard]
    finance: FinanceSettings = field(default_factory=FinanceSettings)
    policy: PolicySettings = field(default_factory=PolicySettings)
    assignment_cost: np.ndarray | None = None
    space: SpaceModel | None = None
    access_defaulted: tuple[str, ...] = ()
    access_none: tuple[str, ...] = ()
    report_modes: tuple[Mode, ...] = ("drive",)
    notes: tuple[str, ...] = ()
    access_given: Mapping[str, AccessStandard | None] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        register: Register,
        zones: pd.DataFrame,
        travel: Mapping[Mode, TravelTimes],
        access: Mapping[str, AccessStandard | None],
        finance: FinanceSettings | None = None,
        policy: PolicySettings | None = None,
        assignment_cost: np.ndarray | None = None,
        space: SpaceSettings | None = None,
    ) -> EstateInstance:
        """Check that zones, travel times, standards and policy fit the register.

        ``access`` maps a service type to its standard, or to ``None`` for a type the
        scenario exempts; a public-facing type it does not name gets
        :func:`~optimise.settings.default_standard` (see :func:`resolve_access`).
        ``assignment_cost[s, b]`` (optional) is a one-off cost in GBP, paid in year 1,
        of placing service s in building b, on top of any move cost: it is how
        location-allocation benchmarks (p-median, facility location) become special
        cases of the estate model.  ``space`` overrides the default space table.
        """
        buildings = register.buildings.reset_index(drop=True)
        services = register.services.reset_index(drop=True)
        zones = zones.reset_index(drop=True)
        building_ids = list(buildings["building_id"])
        zone_ids = list(zones["zone_id"])
        aligned: dict[Mode, TravelTimes] = {}
        for mode, times in travel.items():
            aligned[mode] = _align(times, zone_ids, building_ids)
        issues = []
        types = set(services.loc[services["public_facing"], "service_type"])
        resolved = resolve_access(access, types)
        for service_type, standard in resolved.standards.items():
            missing = [m for m in standard.travel_modes() if m not in aligned]
            if missing:
                raise SettingsError(
                    f"access standard for {service_type!r} uses mode {missing[0]!r}, "
                    f"but no {missing[0]} travel times were given"
                )
        for service_type in access:
            if service_type not in types:
                issues.append(
                    CellIssue(
                        "access standards",
                        None,
                        service_type,
                        "",
                        "no public-facing service of this type in the register",
                    )
                )
        if issues:
            raise InputDataError(issues, "access standards do not match the register")
        policy = policy or PolicySettings()
        _check_policy(policy, set(building_ids), set(buildings["agency"]) | set(services["agency"]))
        if assignment_cost is not None:
            assignment_cost = np.asarray(assignment_cost, dtype=float)
            if assignment_cost.shape != (len(services), len(buildings)):
                raise SettingsError(
                    f"assignment_cost has shape {assignment_cost.shape}, expected "
                    f"{(len(services), len(buildings))}"
                )
        position = pd.Series(np.arange(len(buildings)), index=buildings["building_id"])
        home = position.loc[services["building_id"]].to_numpy(dtype=np.int64)
        space_model = resolve_space(buildings, services, home, space or SpaceSettings())
        notes = list(space_model.notes)
        if resolved.defaulted:
            notes.append(
                "no access standard in the scenario for public-facing service type(s) "
                f"{', '.join(resolved.defaulted)}: nobody may lose access to them (minutes to "
                f"the nearest may not rise, by {'/'.join(resolved.modes)}); write "
                "access.<type>: none to exempt a type"
            )
        return cls(
            buildings,
            services,
            zones,
            aligned,
            resolved.standards,
            finance or FinanceSettings(),
            policy,
            assignment_cost,
            space_model,
            resolved.defaulted,
            resolved.exempt,
            resolved.modes,
            tuple(notes),
            dict(access),
        )

    @property
    def spaces(self) -> SpaceModel:
        """The resolved space of the register (built by :meth:`build`)."""
        if self.space is None:
            raise SettingsError("an EstateInstance needs EstateInstance.build to resolve its space")
        return self.space

    def forced_keep(self) -> np.ndarray:
        """Buildings that must stay: ``must_retain``, ``force_keep``, or of an agency not
        taking part."""
        b = self.buildings
        out = (
            b["must_retain"].to_numpy(dtype=bool)
            | b["building_id"].isin(self.policy.force_keep).to_numpy()
        )
        if self.policy.agencies is not None:
            out |= ~b["agency"].isin(list(self.policy.agencies)).to_numpy()
        return np.asarray(out, dtype=bool)

    @property
    def building_ids(self) -> list[str]:
        return list(self.buildings["building_id"])

    @property
    def service_ids(self) -> list[str]:
        return list(self.services["service_id"])

    def home_index(self) -> np.ndarray:
        """Index into ``buildings`` of each service's current building."""
        position = pd.Series(np.arange(len(self.buildings)), index=self.buildings["building_id"])
        return position.loc[self.services["building_id"]].to_numpy(dtype=np.int64)

    def zone_weight(self) -> np.ndarray:
        """Population x need weight of each zone: what access shares are shares of."""
        return (self.zones["population"] * self.zones["weight"]).to_numpy(dtype=float)


@dataclass(frozen=True)
class ResolvedAccess:
    """The standards a model keeps, which were defaulted, which are exempt, and the
    modes of the scenario's own standards (drive when it has none)."""

    standards: dict[str, AccessStandard]
    defaulted: tuple[str, ...]
    exempt: tuple[str, ...]
    modes: tuple[Mode, ...]


def scenario_modes(access: Mapping[str, AccessStandard | None]) -> tuple[Mode, ...]:
    """The modes a scenario's standards use; ``("drive",)`` when it has none."""
    modes = {m for s in access.values() if s is not None for m in s.travel_modes()}
    return tuple(sorted(modes)) or ("drive",)


def resolve_access(
    access: Mapping[str, AccessStandard | None], public_types: set[str]
) -> ResolvedAccess:
    """Every public-facing type gets a standard: the scenario's, or the default
    (nobody loses access, by the scenario's modes) unless the scenario says ``none``."""
    modes = scenario_modes(access)
    standards = {k: v for k, v in access.items() if v is not None}
    exempt = tuple(sorted(k for k, v in access.items() if v is None))
    defaulted = tuple(sorted(public_types - set(access)))
    for service_type in defaulted:
        standards[service_type] = default_standard(modes)
    return ResolvedAccess(dict(sorted(standards.items())), defaulted, exempt, modes)


def travel_modes(
    access: Mapping[str, AccessStandard | None], public_types: set[str] | None = None
) -> list[Mode]:
    """Every mode a run needs travel times for: its standards' (defaults included)."""
    resolved = resolve_access(access, public_types or set())
    modes = {m for s in resolved.standards.values() for m in s.travel_modes()}
    return sorted(modes | set(resolved.modes))


def _check_policy(policy: PolicySettings, building_ids: set[str], agencies: set[str]) -> None:
    unknown = sorted(set(policy.force_keep) | set(policy.force_dispose))
    unknown = [b for b in unknown if b not in building_ids]
    if unknown:
        raise SettingsError(f"policy names buildings that are not in the register: {unknown}")
    named = set(policy.agencies or ()) | set(policy.agency_budgets or {})
    missing = sorted(named - agencies)
    if missing:
        raise SettingsError(f"policy names agencies that are not in the register: {missing}")


def _align(times: TravelTimes, zone_ids: list[str], building_ids: list[str]) -> TravelTimes:
    frame = times.frame()
    missing_z = [z for z in zone_ids if z not in frame.index]
    missing_b = [b for b in building_ids if b not in frame.columns]
    if missing_z or missing_b:
        raise SettingsError(
            f"{times.mode} travel times lack zones {missing_z[:5]} and/or buildings {missing_b[:5]}"
        )
    ordered = frame.loc[zone_ids, building_ids].to_numpy(dtype=float)
    return TravelTimes(
        tuple(zone_ids),
        tuple(building_ids),
        ordered,
        times.mode,
        times.method,
        times.cutoff_minutes,
        times.note,
    )
