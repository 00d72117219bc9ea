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
from optimise.finance import DILAPIDATIONS, building_cash_flows, discount_factors, move_costs
from tests.toy import building, instance, service

EXACT = SolverSettings(mip_rel_gap=0.0, time_limit_seconds=30)
AGENCIES = ("council", "police")


def random_instance(rng: np.random.Generator, easy: bool = False):  # type: ignore[no-untyped-def]
    """A random tiny estate; ``easy`` ones have room to spare and everything movable,
    so options such as cardinality and forced closures have feasible plans to choose."""
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
            capacity_desks=int(rng.integers(12, 20)) if easy else int(rng.integers(2, 12)),
            running_cost=int(rng.integers(1, 20)) * 1_000,
            backlog_cost=int(rng.integers(0, 30)) * 1_000,
            tenure=tenure,
            can_host=bool(rng.random() < 0.8),
            must_retain=bool(rng.random() < 0.15) and not easy,
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
            movable=easy or bool(rng.random() < 0.85),
            exclusive=bool(rng.random() < 0.15) and not easy,
        )
        if rng.random() < 0.3:
            row["move_cost"] = int(rng.integers(0, 10)) * 1_000
        services.append(row)
    minutes = rng.integers(1, 30, size=(n_z, n_b)).astype(float)
    population = rng.integers(10, 1000, size=n_z).astype(float)
    access = {}
    if any(s["public_facing"] for s in services) and not (easy and rng.random() < 0.7):
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
    ids = [row["building_id"] for row in buildings]
    present_agencies = sorted({r["agency"] for r in buildings} | {r["agency"] for r in services})
    options: dict[str, object] = {}
    if rng.random() < 0.25:
        options["capital_budget"] = float(rng.integers(0, 15)) * 1_000
    if rng.random() < 0.2:
        options["agency_budgets"] = {present_agencies[0]: float(rng.integers(0, 10)) * 1_000}
    if rng.random() < 0.2:
        options["keep_exactly" if rng.random() < 0.5 else "keep_at_most"] = int(
            rng.integers(1, len(ids) + 1)
        )
    if rng.random() < 0.15:
        options["force_keep"] = (ids[int(rng.integers(0, len(ids)))],)
    elif rng.random() < 0.15:
        options["force_dispose"] = (ids[int(rng.integers(0, len(ids)))],)
    if rng.random() < 0.15 and len(present_agencies) > 1:
        options["agencies"] = (present_agencies[int(rng.integers(0, len(present_agencies)))],)
    policy = PolicySettings(
        sharing="siloed" if rng.random() < 0.3 else "shared",
        utilisation=float(rng.choice([1.0, 0.8])),
        move_radius_km=float(rng.choice([5.0, 30.0])) if rng.random() < 0.3 else None,
        **options,  # type: ignore[arg-type]
    )
    return instance(buildings, services, minutes, population, access, finance, policy)


def brute_force(inst) -> float | None:  # type: ignore[no-untyped-def]
    """Cheapest present cost over every feasible decision, or None if none is feasible."""
    b, s, policy = inst.buildings, inst.services, inst.policy
    n_b = len(b)
    d = discount_factors(inst.finance)
    flows = building_cash_flows(b, inst.finance)
    keep_cost = flows.keep.sum(axis=1) @ d
    dispose_cost = flows.dispose.sum(axis=1) @ d
    dilaps = flows.dispose[:, DILAPIDATIONS].sum(axis=1)
    one_off = move_costs(s, inst.finance)
    ids = list(b["building_id"])
    home = [ids.index(h) for h in s["building_id"]]
    xy = b[["easting", "northing"]].to_numpy(float)
    cap = b["capacity_desks"].to_numpy(float) * policy.utilisation
    desks = s["desks"].to_numpy(float)
    part = policy.agencies
    in_b = [part is None or b["agency"].iloc[i] in part for i in range(n_b)]
    in_s = [part is None or s["agency"].iloc[j] in part for j in range(len(s))]
    options = []
    for j in range(len(s)):
        allowed = [home[j]]
        for i in range(n_b):
            if i == home[j] or not s["movable"].iloc[j] or not in_s[j] or cap[i] < desks[j]:
                continue
            if ids[i] in policy.force_dispose:
                continue
            same = b["agency"].iloc[i] == s["agency"].iloc[j]
            if not same and (
                policy.sharing == "siloed" or not b["can_host"].iloc[i] or not in_b[i]
            ):
                continue
            km = np.hypot(*(xy[i] - xy[home[j]])) / 1000
            if policy.move_radius_km is not None and km > policy.move_radius_km:
                continue
            allowed.append(i)
        options.append(allowed)
    must = {
        i
        for i in range(n_b)
        if b["must_retain"].iloc[i] or ids[i] in policy.force_keep or not in_b[i]
    }
    weight = inst.zone_weight()
    best = None
    for keep in itertools.product([False, True], repeat=n_b):
        kept = {i for i in range(n_b) if keep[i]}
        if not must <= kept or any(ids[i] in policy.force_dispose for i in kept):
            continue
        if policy.keep_exactly is not None and len(kept) != policy.keep_exactly:
            continue
        if policy.keep_at_most is not None and len(kept) > policy.keep_at_most:
            continue
        base = sum(keep_cost[i] if keep[i] else dispose_cost[i] for i in range(n_b))
        for assign in itertools.product(*[[i for i in opts if keep[i]] for opts in options]):
            used = np.bincount(assign, weights=desks, minlength=n_b)
            if any(used[i] > cap[i] + 1e-9 for i in kept):
                continue
            if not _exclusive_ok(s, assign) or not _access_ok(inst, assign, home, weight):
                continue
            moved = [j for j in range(len(s)) if assign[j] != home[j]]
            if not _budget_ok(inst, moved, kept, one_off, dilaps):
                continue
            cost = base + sum(one_off[j] * d[1] for j in moved)
            best = cost if best is None else min(best, cost)
    return best


def _budget_ok(inst, moved, kept, one_off, dilaps) -> bool:  # type: ignore[no-untyped-def]
    policy, s, b = inst.policy, inst.services, inst.buildings
    budgets = []
    if policy.capital_budget is not None:
        budgets.append((policy.capital_budget, None))
    budgets += [(amount, agency) for agency, amount in (policy.agency_budgets or {}).items()]
    for amount, agency in budgets:
        spent = sum(one_off[j] for j in moved if agency in (None, s["agency"].iloc[j]))
        spent += sum(
            dilaps[i]
            for i in range(len(b))
            if i not in kept and agency in (None, b["agency"].iloc[i])
        )
        if spent > amount + 1e-6:
            return False
    return True


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


@pytest.mark.parametrize("easy", [False, True], ids=["hard", "easy"])
@pytest.mark.parametrize("seed", range(80))
def test_milp_matches_brute_force(seed: int, easy: bool) -> None:
    inst = random_instance(np.random.default_rng(seed), easy)
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
