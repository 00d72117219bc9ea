"""The MILP agrees with brute-force enumeration on random tiny estates.

The enumeration below re-implements the rules of MODEL.md section 4 on its own
(candidates, capacity, access, exclusivity, must-retain, immovable, siloed/shared)
and prices decisions with the finance module's cash flows, so it checks the
formulation, the candidate pruning and the solver together.
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest

from optimise import (
    AccessStandard,
    EstateModel,
    FinanceSettings,
    PolicySettings,
    SolverSettings,
    SolveStatus,
)
from optimise.finance import building_cash_flows, discount_factors, move_costs
from tests.toy import building, instance, service

EXACT = SolverSettings(mip_rel_gap=0.0, time_limit_seconds=30)
AGENCIES = ("council", "police")


def random_instance(rng: np.random.Generator):  # type: ignore[no-untyped-def]
    n_b = int(rng.integers(2, 5))
    n_s = int(rng.integers(2, 6))
    n_z = int(rng.integers(1, 4))
    base = dt.date(2026, 4, 1)
    buildings = []
    for i in range(n_b):
        tenure = "leasehold" if rng.random() < 0.3 else "freehold"
        row = building(
            f"B{i}",
            agency=AGENCIES[int(rng.integers(0, 2))],
            easting=450_000 + float(rng.integers(0, 20_000)),
            northing=300_000 + float(rng.integers(0, 20_000)),
            capacity_desks=int(rng.integers(2, 12)),
            running_cost=int(rng.integers(1, 20)) * 1_000,
            backlog_cost=int(rng.integers(0, 30)) * 1_000,
            tenure=tenure,
            can_host=bool(rng.random() < 0.8),
            must_retain=bool(rng.random() < 0.15),
            carbon_t=float(rng.integers(0, 50)),
        )
        if tenure == "freehold":
            row["disposal_value"] = int(rng.integers(0, 100)) * 1_000
            row["disposal_cost"] = int(rng.integers(0, 5)) * 1_000
        else:
            row["lease_end"] = (base + dt.timedelta(days=int(rng.integers(100, 4000)))).isoformat()
            if rng.random() < 0.5:
                row["lease_break"] = (
                    base + dt.timedelta(days=int(rng.integers(100, 2000)))
                ).isoformat()
            row["dilapidations"] = int(rng.integers(0, 20)) * 1_000
        buildings.append(row)
    services = []
    for j in range(n_s):
        public = rng.random() < 0.5
        row = service(
            f"S{j}",
            f"B{int(rng.integers(0, n_b))}",
            agency=AGENCIES[int(rng.integers(0, 2))],
            desks=int(rng.integers(1, 5)),
            service_type="library" if public else "back_office",
            public_facing=public,
            movable=bool(rng.random() < 0.85),
            exclusive=bool(rng.random() < 0.15),
        )
        if rng.random() < 0.3:
            row["move_cost"] = int(rng.integers(0, 10)) * 1_000
        services.append(row)
    minutes = rng.integers(1, 30, size=(n_z, n_b)).astype(float)
    population = rng.integers(10, 1000, size=n_z).astype(float)
    access = {}
    if any(s["public_facing"] for s in services):
        if rng.random() < 0.5:
            access["library"] = AccessStandard(
                max_minutes=15, min_share=float(rng.choice([0.3, 0.6, 1.0]))
            )
        else:
            access["library"] = AccessStandard(
                max_minutes=15, max_loss=float(rng.choice([0.0, 0.2]))
            )
    finance = FinanceSettings(
        horizon_years=int(rng.integers(3, 12)),
        optimism_bias=float(rng.choice([0.0, 0.2])),
        carbon_value_per_t=float(rng.choice([0.0, 250.0])),
        disposal_lag_years=int(rng.integers(1, 3)),
    )
    policy = PolicySettings(
        sharing="siloed" if rng.random() < 0.3 else "shared",
        utilisation=float(rng.choice([1.0, 0.8])),
        move_radius_km=float(rng.choice([5.0, 30.0])) if rng.random() < 0.3 else None,
    )
    return instance(buildings, services, minutes, population, access, finance, policy)


def brute_force(inst) -> float | None:  # type: ignore[no-untyped-def]
    """Cheapest present cost over every feasible decision, or None if none is feasible."""
    b, s = inst.buildings, inst.services
    n_b = len(b)
    d = discount_factors(inst.finance)
    flows = building_cash_flows(b, inst.finance)
    keep_cost = flows.keep.sum(axis=1) @ d
    dispose_cost = flows.dispose.sum(axis=1) @ d
    move = move_costs(s, inst.finance) * d[1]
    ids = list(b["building_id"])
    home = [ids.index(h) for h in s["building_id"]]
    xy = b[["easting", "northing"]].to_numpy(float)
    cap = b["capacity_desks"].to_numpy(float) * inst.policy.utilisation
    desks = s["desks"].to_numpy(float)
    options = []
    for j in range(len(s)):
        allowed = []
        for i in range(n_b):
            if i == home[j]:
                allowed.append(i)
                continue
            if not s["movable"].iloc[j] or cap[i] < desks[j]:
                continue
            same = b["agency"].iloc[i] == s["agency"].iloc[j]
            if inst.policy.sharing == "siloed" and not same:
                continue
            if not same and not b["can_host"].iloc[i]:
                continue
            km = np.hypot(*(xy[i] - xy[home[j]])) / 1000
            if inst.policy.move_radius_km is not None and km > inst.policy.move_radius_km:
                continue
            allowed.append(i)
        options.append(allowed)
    weight = inst.zone_weight()
    best = None
    for assign in itertools.product(*options):
        used = np.bincount(assign, weights=desks, minlength=n_b)
        needed = set(assign) | {i for i in range(n_b) if b["must_retain"].iloc[i]}
        if any(used[i] > cap[i] + 1e-9 for i in needed):
            continue
        if not _exclusive_ok(s, assign):
            continue
        if not _access_ok(inst, assign, home, weight):
            continue
        cost = sum(move[j] for j in range(len(s)) if assign[j] != home[j])
        for i in range(n_b):
            cost += keep_cost[i] if i in needed else min(keep_cost[i], dispose_cost[i])
        best = cost if best is None else min(best, cost)
    return best


def _exclusive_ok(s, assign) -> bool:  # type: ignore[no-untyped-def]
    for j, where in enumerate(assign):
        if s["exclusive"].iloc[j]:
            for k, other in enumerate(assign):
                if other == where and s["agency"].iloc[k] != s["agency"].iloc[j]:
                    return False
    return True


def _access_ok(inst, assign, home, weight) -> bool:  # type: ignore[no-untyped-def]
    minutes = inst.travel["drive"].minutes
    for k, standard in inst.access.items():
        of_type = [j for j in range(len(assign)) if inst.services["service_type"].iloc[j] == k]

        after = _share(minutes, weight, standard.max_minutes, {assign[j] for j in of_type})
        before = _share(minutes, weight, standard.max_minutes, {home[j] for j in of_type})
        if after + 1e-9 < standard.target_share(before):
            return False
    return True


def _share(minutes, weight, max_minutes, hosts) -> float:  # type: ignore[no-untyped-def]
    if not hosts:
        return 0.0
    covered = (minutes[:, sorted(hosts)] <= max_minutes).any(axis=1)
    return float(weight[covered].sum() / weight.sum())


@pytest.mark.parametrize("seed", range(60))
def test_milp_matches_brute_force(seed: int) -> None:
    inst = random_instance(np.random.default_rng(seed))
    expected = brute_force(inst)
    result = EstateModel(inst).solve(EXACT)
    if expected is None:
        assert result.status is SolveStatus.INFEASIBLE
        return
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(expected, rel=1e-7, abs=1e-4)
    assert result.evaluation is not None
    assert result.evaluation.present_cost == pytest.approx(expected, rel=1e-7, abs=1e-4)
    assert result.evaluation.feasible
