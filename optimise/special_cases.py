"""Classic location-allocation problems as special cases of the estate model.

The p-median and the capacitated facility location problem are estate models with
particular data: every node a building, every demand point a service, the
allocation cost as an ``assignment_cost``, fixed costs as a one-off cost of keeping a
building, and "keep exactly p".  Solving them through :class:`EstateModel` is how
the optimiser is benchmarked against published optima (OR-Library) and against
spopt.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from estate.register import Register
from geodata.traveltime import TravelTimes
from optimise.instance import EstateInstance
from optimise.settings import FinanceSettings, Mode, PolicySettings

# No discounting, no uplift, no moving cost: costs count once, as they are.
PLAIN_FINANCE = FinanceSettings(
    horizon_years=1,
    discount_rate=0.0,
    long_discount_rate=0.0,
    optimism_bias=0.0,
    move_cost_per_desk=0.0,
    fit_out_per_desk=0.0,
    disposal_lag_years=1,
)


def _register(
    n_buildings: int,
    capacity: ArrayLike,
    fixed_cost: ArrayLike,
    demand: ArrayLike,
    home: list[str],
    extra_buildings: list[dict[str, object]] | None = None,
) -> Register:
    ids = [f"F{i + 1}" for i in range(n_buildings)]
    buildings = pd.DataFrame(
        {
            "building_id": ids,
            "agency": "all",
            "easting": 400_000.0,
            "northing": 300_000.0,
            "capacity_desks": np.asarray(capacity, dtype=float),
            "running_cost": 0.0,
            "backlog_cost": np.asarray(fixed_cost, dtype=float),
            "tenure": "freehold",
        }
    )
    if extra_buildings:
        buildings = pd.concat([buildings, pd.DataFrame(extra_buildings)], ignore_index=True)
    d = np.asarray(demand, dtype=float)
    services = pd.DataFrame(
        {
            "service_id": [f"D{j + 1}" for j in range(len(d))],
            "agency": "all",
            "building_id": home,
            "desks": d,
            "service_type": "demand",
            "move_cost": 0.0,
            "divisible": True,
        }
    )
    return Register.from_frames(
        buildings, services, "special-case facilities", "special-case demand"
    )


def _no_zones(building_ids: list[str]) -> tuple[pd.DataFrame, dict[Mode, TravelTimes]]:
    zones = pd.DataFrame(
        {
            "zone_id": ["none"],
            "population": [0.0],
            "easting": [400_000.0],
            "northing": [300_000.0],
            "lat": [0.0],
            "lon": [0.0],
            "weight": [1.0],
            "name": ["none"],
        }
    )
    times = TravelTimes(
        ("none",), tuple(building_ids), np.zeros((1, len(building_ids))), "drive", "estimate"
    )
    return zones, {"drive": times}


def p_median(cost: ArrayLike, p: int, weights: ArrayLike | None = None) -> EstateInstance:
    """The p-median problem: open exactly ``p`` of the n nodes, serve each demand point
    from an open one, minimise the weighted cost.

    ``cost[i, j]`` is the cost of serving demand point i from node j; demand point i
    sits at node i (its "home", where serving costs ``cost[i, i]``, usually 0).
    """
    c = np.asarray(cost, dtype=float)
    n = c.shape[0]
    if c.shape != (n, n):
        raise ValueError(f"cost must be square, got {c.shape}")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    register = _register(
        n, np.full(n, float(w.sum()) + 1.0), np.zeros(n), w, [f"F{i + 1}" for i in range(n)]
    )
    zones, travel = _no_zones(list(register.buildings["building_id"]))
    return EstateInstance.build(
        register,
        zones,
        travel,
        {},
        PLAIN_FINANCE,
        PolicySettings(keep_exactly=p),
        assignment_cost=c * w[:, None],
    )


def facility_location(
    fixed_cost: ArrayLike, capacity: ArrayLike, demand: ArrayLike, cost: ArrayLike
) -> EstateInstance:
    """Capacitated facility location with splittable demand (OR-Library "cap").

    ``cost[j, i]`` is the cost of serving all of customer j's demand from facility i
    (a share of it costs that share).  Customers start in a placeholder building that
    must close, so every customer is placed by the model.
    """
    f = np.asarray(fixed_cost, dtype=float)
    d = np.asarray(demand, dtype=float)
    c = np.asarray(cost, dtype=float)
    m = len(f)
    placeholder = {
        "building_id": "UNSERVED",
        "agency": "all",
        "easting": 400_000.0,
        "northing": 300_000.0,
        "capacity_desks": 0.0,
        "running_cost": 0.0,
        "backlog_cost": 0.0,
        "tenure": "freehold",
    }
    register = _register(m, capacity, f, d, ["UNSERVED"] * len(d), [placeholder])
    zones, travel = _no_zones(list(register.buildings["building_id"]))
    full = np.concatenate([c, np.zeros((len(d), 1))], axis=1)
    return EstateInstance.build(
        register,
        zones,
        travel,
        {},
        PLAIN_FINANCE,
        PolicySettings(force_dispose=("UNSERVED",)),
        assignment_cost=full,
    )
