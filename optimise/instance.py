"""One estate problem: the register, zones, travel times and settings, checked together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from estate.errors import CellIssue, InputDataError, SettingsError
from estate.register import Register
from geodata.traveltime import TravelTimes
from optimise.settings import AccessStandard, FinanceSettings, Mode, PolicySettings


@dataclass(frozen=True)
class EstateInstance:
    """Everything the model needs, aligned: row ``i`` of ``buildings`` is column ``i``
    of every travel-time matrix, and row ``j`` of ``zones`` is its row ``j``.

    Build one with :meth:`build`, which checks the pieces fit and reorders travel
    matrices to match.
    """

    buildings: pd.DataFrame
    services: pd.DataFrame
    zones: pd.DataFrame
    travel: Mapping[Mode, TravelTimes]
    access: Mapping[str, AccessStandard]
    finance: FinanceSettings = field(default_factory=FinanceSettings)
    policy: PolicySettings = field(default_factory=PolicySettings)
    assignment_cost: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        register: Register,
        zones: pd.DataFrame,
        travel: Mapping[Mode, TravelTimes],
        access: Mapping[str, AccessStandard],
        finance: FinanceSettings | None = None,
        policy: PolicySettings | None = None,
        assignment_cost: np.ndarray | None = None,
    ) -> EstateInstance:
        """Check that zones, travel times, standards and policy fit the register.

        ``assignment_cost[s, b]`` (optional) is a one-off cost in GBP, paid in year 1,
        of placing service s in building b, on top of any move cost: it is how
        location-allocation benchmarks (p-median, facility location) become special
        cases of the estate model.
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
        for service_type, standard in access.items():
            if standard.mode not in aligned:
                raise SettingsError(
                    f"access standard for {service_type!r} uses mode {standard.mode!r}, "
                    f"but no {standard.mode} travel times were given"
                )
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
        return cls(
            buildings,
            services,
            zones,
            aligned,
            dict(access),
            finance or FinanceSettings(),
            policy,
            assignment_cost,
        )

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
