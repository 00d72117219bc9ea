"""Tiny hand-checkable estates for tests.

Finance is set so present values are plain sums: no discounting, no optimism
bias, moving costs 1,000 per desk, no fit-out.  Over a 10-year horizon:

- keeping building b costs ``10 * running + backlog``;
- disposing of a freehold costs ``running`` (the one-year disposal lag) minus its
  net receipt ``disposal_value - disposal_cost``;
- moving service s costs ``1000 * desks``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from estate.register import Register
from geodata.traveltime import TravelTimes
from optimise import AccessStandard, EstateInstance, FinanceSettings, PolicySettings

SIMPLE_FINANCE = FinanceSettings(
    horizon_years=10,
    discount_rate=0.0,
    long_discount_rate=0.0,
    optimism_bias=0.0,
    move_cost_per_desk=1000.0,
    fit_out_per_desk=0.0,
    disposal_lag_years=1,
)


def building(building_id: str, agency: str = "council", **kw: Any) -> dict[str, Any]:
    row = {
        "building_id": building_id,
        "agency": agency,
        "name": f"Building {building_id}",
        "easting": 450_000 + 1_000 * (ord(building_id[-1]) % 10),
        "northing": 300_000,
        "capacity_desks": 10,
        "running_cost": 1_000,
        "tenure": "freehold",
    }
    row.update(kw)
    return row


def service(
    service_id: str, building_id: str, agency: str = "council", **kw: Any
) -> dict[str, Any]:
    row = {
        "service_id": service_id,
        "agency": agency,
        "name": f"Service {service_id}",
        "building_id": building_id,
        "desks": 1,
        "service_type": "back_office",
        "public_facing": False,
    }
    row.update(kw)
    return row


def instance(
    buildings: Sequence[Mapping[str, Any]],
    services: Sequence[Mapping[str, Any]],
    minutes: Sequence[Sequence[float]] | None = None,
    population: Sequence[float] | None = None,
    access: Mapping[str, AccessStandard] | None = None,
    finance: FinanceSettings = SIMPLE_FINANCE,
    policy: PolicySettings | None = None,
) -> EstateInstance:
    """An instance with zones Z1.. whose drive minutes to each building are ``minutes``."""
    b = pd.DataFrame(list(buildings))
    s = pd.DataFrame(list(services))
    register = Register.from_frames(b, s)
    n_b = len(b)
    minutes_arr = np.asarray(minutes if minutes is not None else [[5.0] * n_b], dtype=float)
    n_z = minutes_arr.shape[0]
    pop = list(population) if population is not None else [100.0] * n_z
    zone_ids = [f"Z{i + 1}" for i in range(n_z)]
    zones = pd.DataFrame(
        {
            "zone_id": zone_ids,
            "name": zone_ids,
            "population": pop,
            "easting": 450_000.0,
            "northing": 300_000.0,
            "lat": 0.0,
            "lon": 0.0,
            "weight": 1.0,
        }
    )
    times = TravelTimes(tuple(zone_ids), tuple(b["building_id"]), minutes_arr, "drive", "network")
    return EstateInstance.build(
        register, zones, {"drive": times}, dict(access or {}), finance, policy or PolicySettings()
    )
